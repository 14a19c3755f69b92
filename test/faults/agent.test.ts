import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { webkeyDigests } from '../../agent/auth/webkey.ts';
import { parseConfig } from '../../agent/config.ts';
import { createLanApp } from '../../agent/lan-app.ts';
import { Outbox } from '../../agent/outbox/outbox.ts';
import { startPbxSim } from '../pbxsim/index.ts';
import { RecordingDevice, serveApp } from '../support/rest-harness.ts';
import { until } from '../support/wait.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';
import { recordInjected } from './injected.ts';
import { runFault, sleep } from './scenario.ts';
import { MAC, streamCaller, Tally } from './stack.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'coo-faults-agent-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function startAgentProcess(conf: string): Promise<ChildProcess> {
  const child = spawn('node', ['bin/coocenter-agent.js', '--config', conf], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('agent ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`agent exited ${code}`)));
  });
}

describe('agent and PBX faults', () => {
  it('the outbox disk full (a tiny bound) while the tunnel is cut: the drop is counted, reported, and nothing else is lost', () =>
    runFault(
      'agent',
      'PBX disk full for the outbox (16 KiB bound, tunnel cut 3 s)',
      { scale: 1, via: 'edge', outboxBounds: { maxBytes: 16 * 1024, segmentBytes: 4 * 1024 } },
      async (s) => {
        s.proxy.reset();
        await until(() => s.dropped() > 0, 'the bound to drop events', 15_000);
        await sleep(1000);
        const waiting = s.backlog();
        s.proxy.heal();
        return { count: s.dropped, what: 'events dropped by the bound', detail: () => `tunnel connections reset: ${s.proxy.counts.resets}`, waiting };
      },
      async (s) => {
        expect(s.dropped()).toBeGreaterThan(0);
        expect(s.logs.some((l) => l.msg === 'outbox full: oldest undelivered events dropped')).toBe(true);
        const status = await until(async () => {
          await sleep(100);
          const r = await fetch(`${s.edge.url}/devices/${MAC}/status`, { headers: { authorization: `Bearer ${s.tenantKey}` } });
          const b = (await r.json()) as { eventsDroppedOnBox: number | null };
          return r.status === 200 && b.eventsDroppedOnBox === s.dropped() ? b : undefined;
        }, 'the drop in the device status');
        expect(status.eventsDroppedOnBox).toBe(s.dropped());
      },
    ));

  it('kill -9 of the agent mid-stream, restarted after 1 s: everything it had read arrives', async () => {
    const sim = await startPbxSim({ driver: 'sip', timeScale: 1 });
    const tally = new Tally();
    const receiver = await new WebhookReceiver((r) => {
      tally.accept(String(r.headers['webhook-id']), r.body);
      return { status: 200 };
    }).start();
    const conf = join(dir, 'api.conf');
    writeFileSync(
      conf,
      `[general]\nBINDPORT=0\nURL=${receiver.url}\nmac=${MAC}\nWEBHOOK_SECRET=s3cret\n[ami]\nhost=127.0.0.1\nport=${sim.port}\nusername=coocenter\nsecret=coocenter\n[paths]\nmonitor=${dir}/monitor\nspool=${dir}/spool\n`,
    );
    try {
      let agent = await startAgentProcess(conf);
      let n = 0;
      const calls: Promise<unknown>[] = [];
      const stream = setInterval(() => calls.push(sim.inboundCall({ from: streamCaller(n++), to: '805', talkMs: 800, hangupBy: 'callee' }).done.catch(() => undefined)), 150);
      await sleep(1500);
      const killedBy = await new Promise<NodeJS.Signals | null>((resolve) => {
        agent.once('exit', (_code, signal) => resolve(signal));
        agent.kill('SIGKILL');
      });
      // Mid-stream: events were delivered before the kill, and calls placed after it are delivered too.
      const deliveredBefore = tally.delivered;
      const callsBefore = n;
      await sleep(1000);
      const restartAt = Date.now();
      agent = await startAgentProcess(conf);
      await sleep(1000);
      clearInterval(stream);
      await Promise.all(calls);
      const spool = async () => {
        const o = await Outbox.open({ dir: join(dir, 'spool/outbox') });
        const st = o.stats();
        await o.close();
        return st;
      };
      const written = async () => (await spool()).nextSeq - 1;
      await until(async () => tally.delivered >= (await written()), 'every spooled event delivered', 20_000).catch(() => undefined);
      const recovery = Date.now() - restartAt;
      await new Promise<void>((resolve) => {
        agent.once('exit', () => resolve());
        agent.kill('SIGTERM');
      });
      // Events the agent wrote while stopping wait in its spool for the next start: kept, not lost.
      const { nextSeq, waiting } = await spool();
      const generated = nextSeq - 1;
      const row = {
        fault: 'agent killed (kill -9), restarted after 1 s',
        // The process died of the SIGKILL itself, not of anything else.
        injected: killedBy === 'SIGKILL' ? 1 : 0,
        injectedWhat: 'agent deaths by SIGKILL',
        injectedDetail: `exit signal ${killedBy}`,
        deliveredBefore,
        deliveredAfter: tally.deliveredOfCallsFrom(callsBefore),
        generated,
        delivered: tally.delivered,
        duplicated: tally.duplicated,
        lost: Math.max(0, generated - tally.delivered - waiting),
        droppedCounted: 0,
        outOfOrder: tally.outOfOrder,
        commands: 0,
        commandsAnsweredInTime: 0,
        badThrough: 0,
        recoverySec: Math.round(recovery / 100) / 10,
        note: `calls while the agent was dead are a gap (AMI has no replay); recovery counts from the restart; ${waiting} written at the final stop wait on disk`,
      };
      recordInjected('agent', row);
      expect(row.deliveredBefore, 'no event delivered before the kill: not mid-stream').toBeGreaterThan(0);
      expect(row.deliveredAfter, 'no event delivered of a call placed after the kill: not mid-stream').toBeGreaterThan(0);
      expect(generated).toBeGreaterThan(10);
      expect(row.lost).toBe(0);
      expect(row.outOfOrder).toBe(0);
    } finally {
      await receiver.stop();
      await sim.close();
    }
  }, 60_000);

  it('WEBKEY across a clock jump over the box\'s midnight: the window moves with the date, a two-day-old digest is refused', async () => {
    const webkey = 'asjdfjklkasdf';
    const md5 = (date: string) => createHash('md5').update(webkey + date).digest('hex');
    let now = Date.parse('2026-03-10T23:59:30Z');
    const device = new RecordingDevice();
    const app = createLanApp({ config: parseConfig(`[general]\nWEBKEY=${webkey}\n[ami]\nusername=u\nsecret=s\n`), device, now: () => now, log: () => {}, timeZone: 'UTC' });
    const served = await serveApp(app);
    const ask = async (auth: string) => (await fetch(`http://127.0.0.1:${served.port}/coocenter-api/queues/queue-info`, { headers: { authorization: auth } })).status;
    try {
      const before = { old: await ask(md5('2026-03-08')), yesterday: await ask(md5('2026-03-09')), today: await ask(md5('2026-03-10')), tomorrow: await ask(md5('2026-03-11')), far: await ask(md5('2026-03-12')) };
      now = Date.parse('2026-03-11T00:00:30Z');
      const after = { old: await ask(md5('2026-03-09')), yesterday: await ask(md5('2026-03-10')), today: await ask(md5('2026-03-11')), tomorrow: await ask(md5('2026-03-12')) };
      expect(before).toEqual({ old: 401, yesterday: 200, today: 200, tomorrow: 200, far: 401 });
      expect(after).toEqual({ old: 401, yesterday: 200, today: 200, tomorrow: 200 });
      // What the agent hands the edge moves with it.
      expect(webkeyDigests(webkey, now, 'UTC')).toEqual([md5('2026-03-10'), md5('2026-03-11'), md5('2026-03-12')]);
      const refusedThrough = [before.old, before.far, after.old].filter((s) => s !== 401).length;
      // The jump happened: the digests of 03-09 and 03-12 changed verdict with it.
      const flipped = [before.yesterday !== after.old, before.far !== after.tomorrow].filter(Boolean).length;
      recordInjected('agent', {
        fault: 'clock jump across midnight (WEBKEY): 2-day-old and 2-days-ahead digests',
        injected: flipped, injectedWhat: 'digests the jump moved in or out of the window',
        generated: 0, delivered: 0, duplicated: 0, lost: 0, droppedCounted: 0, outOfOrder: 0,
        commands: 9, commandsAnsweredInTime: 9, badThrough: refusedThrough, recoverySec: 0,
      });
      expect(device.calls).toHaveLength(6);
    } finally {
      await served.close();
    }
  });
});
