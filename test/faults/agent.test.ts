import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { webkeyDigests } from '../../agent/auth/webkey.ts';
import { parseConfig } from '../../agent/config.ts';
import { createLanApp } from '../../agent/lan-app.ts';
import { Outbox } from '../../agent/outbox/outbox.ts';
import { BOX_TZ, masterCsvAsCdrRows } from '../e2e/backfill-scenario.ts';
import { startPbxSim } from '../pbxsim/index.ts';
import { agentCommand, startAgentProcess } from '../support/agent-process.ts';
import { RecordingDevice, serveApp } from '../support/rest-harness.ts';
import { until } from '../support/wait.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';
import { recordInjected } from './injected.ts';
import { runFault, sleep } from './scenario.ts';
import { MAC, streamCaller, Tally } from './stack.ts';

const dir = mkdtempSync(join(tmpdir(), 'coo-faults-agent-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

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

  it('kill -9 of the agent mid-stream, restarted after 3 s: everything it had read arrives, the calls made while it was dead arrive backfilled, none twice', async () => {
    // The box's records, as Asterisk writes them: the agent reads them back for the gap. Simulator
    // and agent both on real time (scale 1, the agent a process on the system clock), in one zone,
    // so the records' times and the agent's gap window agree.
    const queueLog = join(dir, 'queue_log');
    const masterCsv = join(dir, 'cdr-csv', 'Master.csv');
    const sim = await startPbxSim({ driver: 'sip', timeScale: 1, queueLogFile: queueLog, cdrCsvFile: masterCsv, timeZone: BOX_TZ });
    // Queue 630 rings 800 and 801 (ringall): 800 answers at once, 801 never, so queue calls do not pile up.
    sim.setPhone('800', { answerAfterMs: 200 });
    sim.setPhone('801', { answerAfterMs: null });
    const tally = new Tally();
    const docs = new Map<string, Record<string, unknown>>();
    const receiver = await new WebhookReceiver((r) => {
      const id = String(r.headers['webhook-id']);
      tally.accept(id, r.body);
      docs.set(id, JSON.parse(r.body) as Record<string, unknown>);
      return { status: 200 };
    }).start();
    const conf = join(dir, 'api.conf');
    writeFileSync(
      conf,
      `[general]\nBINDPORT=0\nURL=${receiver.url}\nmac=${MAC}\nWEBHOOK_SECRET=s3cret\n[ami]\nhost=127.0.0.1\nport=${sim.port}\nusername=coocenter\nsecret=coocenter\n` +
        `[paths]\nmonitor=${dir}/monitor\nspool=${dir}/spool\nqueue_log=${queueLog}\ncdr_csv=${masterCsv}\n`,
    );
    const start = () => startAgentProcess(conf, children, { ...agentCommand(), env: { ...process.env, TZ: BOX_TZ } });
    try {
      let agent = await start();
      let n = 0;
      const calls: Promise<unknown>[] = [];
      /** When each call of the stream ended (all its channels hung up): its records were written then. */
      const endedAt: number[] = [];
      /** Every sixth call of the stream goes to queue 630 (a cc_cdr besides its cdr); the others to phone 805. */
      const toQueue = (i: number) => i % 6 === 5;
      const stream = setInterval(() => {
        const i = n++;
        const h = toQueue(i)
          ? sim.queueCall({ from: streamCaller(i), queue: '630', talkMs: 400, hangupBy: 'callee' })
          : sim.inboundCall({ from: streamCaller(i), to: '805', talkMs: 800, hangupBy: 'callee' });
        calls.push(h.done.catch(() => undefined).then(() => (endedAt[i] = Date.now())));
      }, 150);
      // 3 s of calls first, so some ended and were sent live before the kill: the gap's window starts
      // at the agent's last note that it was alive and overlaps them, and they must not come again.
      await sleep(3000);
      const killedBy = await new Promise<NodeJS.Signals | null>((resolve) => {
        agent.child.once('exit', (_code, signal) => resolve(signal));
        agent.child.kill('SIGKILL');
      });
      // Mid-stream: events were delivered before the kill, and calls placed after it are delivered too.
      const deliveredBefore = tally.delivered;
      const callsBefore = n;
      // Dead for 3 s: long enough for calls to be made and to end before it restarts (a call takes
      // 0.6 to 1.3 s), whose records nothing but the backfill can bring.
      await sleep(3000);
      const restartAt = Date.now();
      agent = await start();
      // Calls placed from the kill until the new process was up: made while the agent was dead.
      const dead = Array.from({ length: n - callsBefore }, (_, k) => callsBefore + k);
      await sleep(1000);
      clearInterval(stream);
      await Promise.all(calls);
      const backfill = await until(() => /"msg":"gap backfilled"[^\n]*/.exec(agent.output())?.[0], 'the gap backfilled', 20_000);
      const spool = async () => {
        const o = await Outbox.open({ dir: join(dir, 'spool/outbox') });
        const st = { ...o.stats(), deadLetters: await o.deadLetterCount() };
        await o.close();
        return st;
      };
      const written = async () => (await spool()).nextSeq - 1;

      // What each call of the run should have sent, from the box's own records (complete once the
      // calls ended): a cdr per CDR record (a queue call rings two phones: two records), a cc_cdr per
      // queue call. A direct call seen live has its cc_cdr too; backfilled, its cdr only
      // (docs/webhooks.md 5): one at most.
      const records = masterCsvAsCdrRows(masterCsv);
      const delivered = () => [...docs.entries()].map(([id, doc]) => ({ id, doc }));
      const key = (uniqueid: unknown, start: unknown, dst: unknown, disposition: unknown, duration: unknown) => `${uniqueid}|${start}|${dst}|${disposition}|${duration}`;
      const expectedCdrs = (i: number) => records.filter((r) => r.src === streamCaller(i)).map((r) => key(r.uniqueid, r.calldate, r.dst, r.disposition, r.duration)).sort();
      const cdrsOf = (i: number) => delivered().filter((d) => d.doc.event === 'cdr' && d.doc.source === streamCaller(i));
      const ccCdrsOf = (i: number) => delivered().filter((d) => d.doc.event === 'cc_cdr' && d.doc.caller === streamCaller(i));
      const sent = (i: number) => ({
        cdr: cdrsOf(i).map((d) => key(d.doc.uniqueid, d.doc.starttime, d.doc.destination, d.doc.disposition, d.doc.duration)).sort(),
        ccCdr: ccCdrsOf(i).length,
      });
      const expected = (i: number) => ({ cdr: expectedCdrs(i), ccCdr: toQueue(i) ? 1 : Math.min(1, ccCdrsOf(i).length) });
      const allCalls = Array.from({ length: n }, (_, i) => i);
      // The last calls' records may still be on their way through AMI and the spool: waited for, so the
      // stop below does not hold them back (checked one by one after it).
      await until(
        async () => tally.delivered >= (await written()) && allCalls.every((i) => isDeepStrictEqual(sent(i), expected(i))),
        "every call's records and every spooled event delivered",
        20_000,
      ).catch(() => undefined);
      const recovery = Date.now() - restartAt;
      await new Promise<void>((resolve) => {
        agent.child.once('exit', () => resolve());
        agent.child.kill('SIGTERM');
      });
      // Events the agent wrote while stopping wait in its spool for the next start: kept, not lost.
      const { nextSeq, waiting, deadLetters } = await spool();
      const generated = nextSeq - 1;
      const backfilled = delivered().filter((d) => d.doc.backfilled === true);
      // Made and ended before the new process was even started: the agent cannot have seen them live.
      const deadEnded = dead.filter((i) => endedAt[i]! < restartAt);
      const ofDead = (d: { doc: Record<string, unknown> }) => dead.some((i) => d.doc.source === streamCaller(i) || d.doc.caller === streamCaller(i));
      const row = {
        fault: 'agent killed (kill -9), restarted after 3 s',
        // The process died of the SIGKILL itself, not of anything else.
        injected: killedBy === 'SIGKILL' ? 1 : 0,
        injectedWhat: 'agent deaths by SIGKILL',
        injectedDetail: `exit signal ${killedBy}; calls made while it was dead: ${dead.length}, ${dead.filter(toQueue).length} to a queue, ${deadEnded.length} ended before it restarted`,
        deliveredBefore,
        deliveredAfter: tally.deliveredOfCallsFrom(callsBefore),
        generated,
        delivered: tally.delivered,
        duplicated: tally.duplicated,
        lost: Math.max(0, generated - tally.delivered - waiting),
        droppedCounted: 0,
        deadLettered: deadLetters,
        backfilled: backfilled.length,
        outOfOrder: tally.outOfOrder,
        commands: 0,
        commandsAnsweredInTime: 0,
        badThrough: 0,
        recoverySec: Math.round(recovery / 100) / 10,
        note:
          `calls made while the agent was dead arrive backfilled from queue_log and Master.csv (${backfilled.filter(ofDead).length} of the ${backfilled.length} backfilled events are theirs, ` +
          `the rest of calls placed before the kill that ended while it was dead); recovery counts from the restart; ${waiting} written at the final stop wait on disk`,
      };
      recordInjected('agent', row);
      expect(row.deliveredBefore, 'no event delivered before the kill: not mid-stream').toBeGreaterThan(0);
      expect(row.deliveredAfter, 'no event delivered of a call placed after the kill: not mid-stream').toBeGreaterThan(0);
      expect(generated).toBeGreaterThan(10);
      expect(row.lost).toBe(0);
      expect(row.outOfOrder).toBe(0);
      expect(backfill, 'every source read').toMatch(/"state":"filled"/);
      // Calls were made while the agent was dead, to a queue too, and their records arrived: each
      // CDR record as one cdr, each queue call one cc_cdr, under one webhook-id each (none twice).
      expect(dead.filter(toQueue).length, 'queue calls made while the agent was dead').toBeGreaterThan(0);
      for (const i of dead) expect(sent(i), `the records of call ${i}, made while the agent was dead`).toEqual(expected(i));
      expect(deadEnded.filter(toQueue).length, 'queue calls made and ended while the agent was dead').toBeGreaterThan(0);
      for (const i of deadEnded) {
        const docs = [...cdrsOf(i), ...ccCdrsOf(i)];
        expect(docs.length > 0 && docs.every((d) => d.doc.backfilled === true), `call ${i}, made and ended while the agent was dead, arrived backfilled`).toBe(true);
      }
      // And every other call of the run, live or backfilled, once: the gap's window overlaps what
      // was sent live before the kill, which must not come again.
      for (const i of allCalls) expect(sent(i), `the records of call ${i}`).toEqual(expected(i));
      for (const d of backfilled) expect(d.id).toMatch(/^evt_[0-9a-f]{12}_bf_[0-9a-f]{32}$/);
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
