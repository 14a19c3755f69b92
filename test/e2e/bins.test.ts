import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runProcess } from '../support/run-process.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'coo-bins-'));
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts a command and resolves with the first stdout line matching `ready`. */
function startUntil(cmd: string, args: string[], ready: RegExp): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => ready.test(l));
      if (line) resolve({ child, line });
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`${cmd} exited with ${code} before ready: ${out}\n${err}`)));
  });
}

const run = (cmd: string, args: string[]) => runProcess(cmd, args, children, { cwd: root });

function apiConf(amiPort: number, extra = ''): string {
  const path = join(dir, `api-${amiPort}-${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(path, `[general]\nBINDPORT=0\n[ami]\nhost=127.0.0.1\nport=${amiPort}\nusername=coocenter\nsecret=coocenter\n[paths]\nmonitor=${dir}\nspool=${dir}/spool\n${extra}`);
  return path;
}

describe('the bins, as an operator runs them', () => {
  it('coocenter-pbxsim prints its ready line on a free port, and the agent connects to it and serves the LAN API', async () => {
    const sim = await startUntil('node', ['bin/coocenter-pbxsim.js', '--port', '0', '--time-scale', '0.05'], /^AMI listening on /);
    const port = Number(/AMI listening on 127\.0\.0\.1:(\d+)/.exec(sim.line)?.[1]);
    expect(port).toBeGreaterThan(0);
    const agent = await startUntil('node', ['bin/coocenter-agent.js', '--config', apiConf(port)], /^agent ready/);
    const url = /LAN API on (http\S+?\/coocenter-api)/.exec(agent.line)?.[1];
    const r = await fetch(`${url}/queues/queue-info`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { status: string }).status).toBe('success');
    agent.child.kill('SIGTERM');
    expect(await new Promise((res) => agent.child.on('exit', res))).toBe(0);
  });

  it('coocenter-agent exits 2 naming the key and line of a broken api.conf', async () => {
    const path = join(dir, 'broken.conf');
    writeFileSync(path, '[general]\nBINDPORT=abc\n[ami]\nusername=u\nsecret=s\n');
    const r = await run('node', ['bin/coocenter-agent.js', '--config', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 2/);
    expect(r.stderr).toMatch(/BINDPORT/);
  });

  it('coocenter-edge (npm start) listens, says how to create the first tenant, and serves /healthz', async () => {
    const child = spawn('node', ['bin/coocenter-edge.js', '--port', '0', '--data', join(dir, 'edge-data')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, COOCENTER_ADMIN_KEY: 'k-test' },
    });
    children.push(child);
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /edge listening on (\S+)/.exec(out);
        if (m && out.includes('create the first tenant')) resolve(m[1] as string);
      });
      child.on('exit', (c) => reject(new Error(`edge exited ${c}: ${out}`)));
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const t = await fetch(`${url}/admin/tenants`, { method: 'POST', headers: { authorization: 'Bearer k-test', 'content-type': 'application/json' }, body: '{"name":"acme"}' });
    expect(t.status).toBe(201);
  });

  it('npm run demo runs the whole path: simulator, agent, edge, receiver and calls, with signed events', async () => {
    const r = await run('node', ['bin/run-ts.js', 'scripts/demo.ts']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/queue-info -> 200/);
    expect(r.stdout).toMatch(/webhook cc_cdr .*queueCode=630 agentCode=800/);
    expect(r.stdout).not.toMatch(/SIGNATURE BAD/);
    expect(r.stdout).toMatch(/demo done: \d+ events received/);
  }, 60_000);

  it('each bin answers --help', async () => {
    for (const bin of ['coocenter-agent', 'coocenter-pbxsim', 'coocenter-edge']) {
      const r = await run('node', [`bin/${bin}.js`, '--help']);
      expect(r.code, bin).toBe(0);
      expect(r.stdout).toMatch(/Usage|usage/);
    }
  });
});
