import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startEdgeServer, type EdgeServer } from '../../edge/node/server.ts';
import { startPbxSim, type PbxSim } from '../pbxsim/index.ts';
import { agentCommand, startAgentProcess } from '../support/agent-process.ts';
import { ADMIN_KEY, call, provision } from '../support/edge-harness.ts';
import { runProcess } from '../support/run-process.ts';
import { until } from '../support/wait.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * The single executable as an operator installs it: one file copied into an empty folder, run with
 * no node anywhere on PATH, against the PBX simulator over real TCP.
 */
const MAC = '68:69:2e:03:8b:3e';
const dir = mkdtempSync(join(tmpdir(), 'coo-exe-'));
const children: ChildProcess[] = [];
let sim: PbxSim;
let receiver: WebhookReceiver;

beforeAll(async () => {
  mkdirSync(join(dir, 'monitor/2026/11'), { recursive: true });
  writeFileSync(join(dir, 'monitor/2026/11/call-1.wav'), Buffer.from('RIFF....WAVEfmt 0123456789'));
  sim = await startPbxSim({ driver: 'sip', timeScale: 0.02 });
  receiver = await new WebhookReceiver().start();
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  await receiver?.stop();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

function conf(name: string, extra: string): string {
  const path = join(dir, `${name}.conf`);
  writeFileSync(
    path,
    `[general]\nBINDPORT=0\nmac=${MAC}\n${extra}\n[ami]\nhost=127.0.0.1\nport=${sim.port}\nusername=coocenter\nsecret=coocenter\n[paths]\nmonitor=${dir}/monitor\nspool=${dir}/spool-${name}\n`,
  );
  return path;
}

function runExe(args: string[]) {
  const cmd = agentCommand();
  return runProcess(cmd.command, [...cmd.args, ...args], children, { cwd: cmd.cwd, env: cmd.env });
}

const events = () => receiver.received.map((r) => JSON.parse(r.body) as Record<string, string>);

describe('the agent as one executable, alone in an empty folder, with no node on PATH', () => {
  it('is the built executable, and the box it runs on has no node', async () => {
    const cmd = agentCommand();
    expect(cmd.command).toBe(inject('agentExecutable'));
    expect(spawnSync('/bin/sh', ['-c', 'command -v node'], { env: cmd.env }).status).not.toBe(0);
    const v = await runExe(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^coocenter-agent \d+\.\d+\.\d+ node v26\.\d+\.\d+ \(single executable\) linux-x64\n$/);
  });

  it('--check passes every check against the simulator', async () => {
    const r = await runExe(['--check', '--config', conf('check', '')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const l of lines) expect(l).toMatch(/^ok /);
    expect(r.stdout).toMatch(/Asterisk/);
  });

  it('serves the LAN API: queue-info, click-number, recordings, CR/LF refused', async () => {
    const agent = await startAgentProcess(conf('lan', ''), children);
    const post = (path: string, form: Record<string, string> = {}) => fetch(`${agent.lanUrl}${path}`, { method: 'POST', body: new URLSearchParams(form) });
    const q = await fetch(`${agent.lanUrl}/queues/queue-info`);
    expect(q.status).toBe(200);
    expect(((await q.json()) as { status: string }).status).toBe('success');
    const n = sim.actions.length;
    const click = await post('/extensions/click-number', { src: '805', dst: '806' });
    expect(await click.json()).toEqual({ status: 'success', message: 'Originate successfully queued' });
    const originate = sim.actions.slice(n).find((a) => a.get('Action') === 'Originate');
    expect(originate?.get('Channel')).toBe('SIP/805');
    const part = await fetch(`${agent.lanUrl}/monitor/2026/11/call-1.wav`, { headers: { range: 'bytes=0-3' } });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe('RIFF');
    const before = sim.actions.length;
    const bad = await post('/extensions/click-number', { src: '805', dst: '806\r\nAction: Hangup' });
    expect(bad.status).toBe(400);
    expect(sim.actions.length).toBe(before);
  });

  it('sends the events of a queue call to the LAN URL, signed, in order, with its cc_cdr', async () => {
    await startAgentProcess(conf('events', `URL=${receiver.url}\nWEBHOOK_SECRET=s3cret`), children);
    const c = sim.queueCall({ from: '13800138000', queue: '630', talkMs: 3000, hangupBy: 'caller' });
    await c.done;
    const cc = await until(() => events().find((e) => e.event === 'cc_cdr' && e.uuid === c.linkedid), 'the cc_cdr');
    expect(cc).toMatchObject({ caller: '13800138000', queueCode: '630', cdrState: 'bridged', hangupSide: 'caller', mac: MAC });
    const names = new Set(events().filter((e) => e.uniqueid === c.linkedid).map((e) => e.event));
    for (const name of ['dialbegein', 'dialend', 'hangup']) expect(names).toContain(name);
    for (const r of receiver.received) expect(r.headers['webhook-signature']).toMatch(/^v1,/);
    const seqs = receiver.received.map((r) => Number(String(r.headers['webhook-id']).split('_').at(-1)));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('the linux-arm64 build runs too (under qemu-user, with Debian arm64 libraries): --version and --check', async () => {
    const exe = join(inject('buildDir'), 'coocenter-agent-linux-arm64');
    const qemu = spawnSync('/bin/sh', ['-c', 'command -v qemu-aarch64'], { encoding: 'utf8' }).stdout.trim();
    expect(qemu, 'qemu-aarch64 is not installed: apt-get install qemu-user libc6-arm64-cross libstdc++6-arm64-cross libatomic1-arm64-cross (.ci/run does)').not.toBe('');
    const arm = (args: string[]) => runProcess(qemu, ['-L', '/usr/aarch64-linux-gnu', exe, ...args], children, { cwd: dir, env: { PATH: dir, TZ: 'UTC' } });
    const v = await arm(['--version']);
    expect(v.stdout).toMatch(/^coocenter-agent \d+\.\d+\.\d+ node v26\.\d+\.\d+ \(single executable\) linux-arm64\n$/);
    const check = await arm(['--check', '--config', conf('arm64', '')]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
  });

  describe('through the edge', () => {
    let edge: EdgeServer;
    beforeAll(async () => {
      edge = await startEdgeServer({ port: 0, host: '127.0.0.1', dataDir: join(dir, 'edge'), adminKey: ADMIN_KEY, log: () => undefined });
    });
    afterAll(async () => edge?.close());

    it('dials the tunnel, reports its runtime, relays a command and delivers an event', async () => {
      const hooks = await new WebhookReceiver().start();
      try {
        const p = await provision(edge, MAC, { url: hooks.url });
        await startAgentProcess(conf('tunnel', `[tunnel]\nedge=${edge.url.replace(/^http/, 'ws')}\ntoken=${p.token}`), children);
        const auth = { authorization: `Bearer ${p.tenantKey}` };
        const status = await until(async () => {
          const s = await call(`${edge.url}/devices/${MAC}/status`, { headers: auth });
          return s.body.online && s.body.driver ? s.body : undefined;
        }, 'the device online');
        expect(status.agentRuntime).toMatch(/^node v26\.\d+\.\d+ \(single executable\) linux-x64$/);
        const q = await call(`${edge.url}/devices/${MAC}/coocenter-api/queues/queue-info`, { headers: auth });
        expect(q.status).toBe(200);
        expect(q.body.status).toBe('success');
        const c = sim.inboundCall({ from: '801', to: '802', talkMs: 1000 });
        await c.done;
        const cdr = await until(
          () => hooks.received.map((r) => JSON.parse(r.body) as Record<string, string>).find((e) => e.event === 'cdr' && e.uniqueid === c.linkedid),
          'the cdr through the edge',
        );
        expect(cdr.mac).toBe(MAC);
      } finally {
        await hooks.stop();
      }
    });
  });
});
