import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck, type CheckLine } from '../../agent/check.ts';
import { MIXED_DRIVERS, startPbxSim, type PbxSim } from '../pbxsim/index.ts';
import { provision, startEdge, tempDataDir } from '../support/edge-harness.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MAC = '68:69:2e:03:8b:3e';
const dir = mkdtempSync(join(tmpdir(), 'coo-check-'));
mkdirSync(join(dir, 'monitor'));
const data = tempDataDir();
let sim: PbxSim;
let edge: Awaited<ReturnType<typeof startEdge>>;
let token: string;

beforeAll(async () => {
  sim = await startPbxSim({ driver: 'pjsip', timeScale: 0.05 });
  edge = await startEdge(data.dir);
  token = (await provision(edge, MAC)).token;
});
afterAll(async () => {
  await sim?.close();
  await edge?.close();
  data.remove();
  rmSync(dir, { recursive: true, force: true });
});

function conf(o: { amiPort?: number; secret?: string; monitor?: string; spool?: string; tunnel?: string | null; extra?: string } = {}): string {
  const path = join(dir, `api-${Math.random().toString(36).slice(2)}.conf`);
  const tunnel = o.tunnel === null ? '' : (o.tunnel ?? `[tunnel]\nedge=${edge.url.replace(/^http/, 'ws')}\ntoken=${token}\n`);
  writeFileSync(
    path,
    `[general]\nBINDPORT=8000\nmac=${MAC}\n${o.extra ?? ''}[ami]\nhost=127.0.0.1\nport=${o.amiPort ?? sim.port}\nusername=coocenter\nsecret=${o.secret ?? 'coocenter'}\n` +
      `[paths]\nmonitor=${o.monitor ?? join(dir, 'monitor')}\nspool=${o.spool ?? join(dir, 'spool')}\n${tunnel}`,
  );
  return path;
}

async function check(configPath: string): Promise<{ ok: boolean; lines: CheckLine[]; of(subject: string): CheckLine | undefined }> {
  const lines: CheckLine[] = [];
  const ok = await runCheck({ configPath, amiTimeoutMs: 2000, edgeTimeoutMs: 2000, report: (l) => lines.push(l) });
  return { ok, lines, of: (subject) => lines.find((l) => l.subject === subject) };
}

describe('coocenter-agent --check', () => {
  it('reports every check ok on a sound box: api.conf, AMI login with the Asterisk version, driver, folders, edge and token', async () => {
    const r = await check(conf());
    expect(r.lines.filter((l) => l.result === 'fix')).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.lines.map((l) => l.subject)).toEqual(['api.conf', 'AMI login', 'Asterisk version', 'channel driver', 'recordings', 'spool', 'edge', 'tunnel']);
    expect(r.of('AMI login')!.detail).toMatch(/as coocenter, Asterisk \d+\./);
    expect(r.of('Asterisk version')).toMatchObject({ result: 'ok', detail: expect.stringMatching(/^Asterisk \d+\.\S+ is supported$/) });
    expect(r.of('channel driver')!.detail).toContain('chan_pjsip');
    expect(r.of('tunnel')!.detail).toContain(MAC);
  });

  it('does not take over the tunnel of an agent that is running: no hello is sent', async () => {
    const before = edge.logs.filter((l) => l.msg === 'tunnel online').length;
    await check(conf());
    expect(edge.logs.filter((l) => l.msg === 'tunnel online').length).toBe(before);
  });

  it('says what will not work on an older Asterisk: fix below 12, warn for 12 and 13.0-13.7', async () => {
    const as = async (asteriskVersion: string) => {
      const old = await startPbxSim({ driver: 'pjsip', asteriskVersion, timeScale: 0.05 });
      try {
        return await check(conf({ amiPort: old.port, tunnel: null }));
      } finally {
        await old.close();
      }
    };
    const ancient = await as('11.25.3');
    expect(ancient.ok).toBe(false);
    expect(ancient.of('Asterisk version')).toMatchObject({ result: 'fix', detail: expect.stringContaining('call events and call records will not work') });
    const twelve = await as('12.8.2');
    expect(twelve.ok).toBe(true);
    expect(twelve.of('Asterisk version')).toMatchObject({ result: 'warn', detail: expect.stringContaining('no ExtensionStateList') });
    const early13 = await as('13.7.2');
    expect(early13.of('Asterisk version')).toMatchObject({ result: 'warn', detail: expect.stringContaining('a manual pause made during a wrap-up may be undone') });
  });

  it('says when chan_sip and PJSIP run side by side, and which is the default', async () => {
    const mixed = await startPbxSim({ driver: 'sip', drivers: MIXED_DRIVERS, timeScale: 0.05 });
    try {
      const r = await check(conf({ amiPort: mixed.port, tunnel: null }));
      expect(r.of('channel driver')).toMatchObject({ result: 'ok', detail: expect.stringMatching(/^chan_sip and chan_pjsip side by side, each extension on its own \(default chan_\w+\), detected$/) });
    } finally {
      await mixed.close();
    }
  });

  it('says a refused login is a wrong secret to check against manager.conf', async () => {
    const r = await check(conf({ secret: 'not-the-secret' }));
    expect(r.ok).toBe(false);
    expect(r.of('AMI login')).toMatchObject({ result: 'fix' });
    expect(r.of('AMI login')!.detail).toMatch(/wrong secret.*\[ami\] username and secret against manager\.conf \[coocenter\]/);
  });

  it('says nothing listens when the AMI port is closed', async () => {
    const free = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const r = await check(conf({ amiPort: free }));
    expect(r.ok).toBe(false);
    expect(r.of('AMI login')!.detail).toMatch(/nothing listens on 127\.0\.0\.1:\d+.*enabled=yes/);
  });

  it('names a missing recordings folder and a spool it cannot write', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const r = await check(conf({ monitor: join(dir, 'no-such-folder'), spool: join(file, 'spool') }));
    expect(r.ok).toBe(false);
    expect(r.of('recordings')).toMatchObject({ result: 'fix', detail: expect.stringContaining('does not exist') });
    expect(r.of('spool')).toMatchObject({ result: 'fix', detail: expect.stringContaining('not writable') });
  });

  it('says a 401 at the tunnel upgrade means a wrong token, and an unreachable edge is unreachable', async () => {
    const wrong = await check(conf({ tunnel: `[tunnel]\nedge=${edge.url.replace(/^http/, 'ws')}\ntoken=cdt_wrong\n` }));
    expect(wrong.ok).toBe(false);
    expect(wrong.of('edge')!.result).toBe('ok');
    expect(wrong.of('tunnel')).toMatchObject({ result: 'fix', detail: expect.stringMatching(/refused the token.*401.*\[tunnel\] token/) });

    const away = await check(conf({ tunnel: '[tunnel]\nedge=ws://127.0.0.1:9\ntoken=x\n' }));
    expect(away.of('edge')).toMatchObject({ result: 'fix', detail: expect.stringContaining('cannot reach http://127.0.0.1:9/healthz') });
    expect(away.of('tunnel')).toBeUndefined();
  });

  it('prints api.conf warnings, and stops at a broken api.conf naming the line', async () => {
    const warned = await check(conf({ tunnel: null, extra: 'WEBKEYS=typo\n' }));
    expect(warned.ok).toBe(true);
    expect(warned.lines).toContainEqual({ result: 'warn', subject: 'api.conf', detail: expect.stringContaining('unknown key WEBKEYS') });

    const broken = join(dir, 'broken.conf');
    writeFileSync(broken, '[ami]\nport=hello\n');
    const r = await check(broken);
    expect(r.ok).toBe(false);
    expect(r.lines).toEqual([{ result: 'fix', subject: 'api.conf', detail: expect.stringContaining('line 2') }]);
  });

  it('as a command: one line per check, exit 0 when all are ok and 1 otherwise', async () => {
    const run = (config: string) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn('node', ['bin/coocenter-agent.js', '--check', '--config', config], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', (code) => resolve({ code, out }));
      });
    const good = await run(conf());
    expect(good.code).toBe(0);
    expect(good.out.trim().split('\n')).toHaveLength(8);
    expect(good.out).toMatch(/^ok {4}AMI login: /m);
    const bad = await run(conf({ secret: 'nope', tunnel: null }));
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^FIX {3}AMI login: .*wrong secret/m);
  });
});
