import { spawn, type ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The agent's single executable, alone in an otherwise empty folder (the dist suite's global setup). */
    agentExecutable: string;
  }
}

const root = fileURLToPath(new URL('../..', import.meta.url));

/** How the agent is started as an operator starts it: the executable where the suite provides one. */
export interface AgentCommand {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export function agentCommand(): AgentCommand {
  const exe = inject('agentExecutable') as string | undefined;
  // No node on PATH: the executable's own folder is all there is, as on a box without Node.
  if (exe) return { command: exe, args: [], cwd: dirname(exe), env: { PATH: dirname(exe), HOME: dirname(exe), TZ: 'UTC' } };
  return { command: process.execPath, args: ['bin/coocenter-agent.js'], cwd: root, env: process.env };
}

export interface AgentProcess {
  child: ChildProcess;
  lanUrl: string;
  /** Everything the agent wrote to stdout and stderr so far. */
  output(): string;
}

/** Starts the agent with `conf` and resolves once its ready line names the LAN API. */
export function startAgentProcess(conf: string, started: ChildProcess[], cmd: AgentCommand = agentCommand()): Promise<AgentProcess> {
  const child = spawn(cmd.command, [...cmd.args, '--config', conf], { cwd: cmd.cwd, env: cmd.env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /LAN API on (http\S+?\/coocenter-api)/.exec(out);
      if (m) resolve({ child, lanUrl: m[1] as string, output: () => out });
    });
    child.on('exit', (code) => reject(new Error(`agent exited ${code}: ${out}`)));
  });
}

/** kill -9, resolved once the process is gone. */
export const kill9 = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
