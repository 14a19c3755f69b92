import { spawn, type ChildProcess } from 'node:child_process';

const BIN = new URL('../../bin/coocenter-pbxsim.js', import.meta.url).pathname;

/** The simulator as its CLI runs it: resolves with the process and its first stdout line (the ready line). */
export function startSimCli(args: readonly string[]): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve({ child, line: out });
    });
    child.once('exit', (code) => reject(new Error(`coocenter-pbxsim exited ${code}`)));
  });
}
