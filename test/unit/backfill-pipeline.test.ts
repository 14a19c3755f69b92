import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ccCdrRecordId, cdrRecordId } from '../../agent/backfill/record-events.ts';
import { EventPipeline } from '../../agent/events/pipeline.ts';
import type { OutboxEvent } from '../../agent/outbox/outbox.ts';
import { chan, ev, MAC } from '../support/ami-events.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The outbox as the pipeline sees it: ordered appends, kept across a "restart" of the pipeline. */
function memoryOutbox() {
  const events: OutboxEvent[] = [];
  return {
    events,
    appendMany: async (batch: readonly OutboxEvent[]) => batch.map((e) => events.push(e) - 1),
    stats: () => ({ nextSeq: events.length }),
  };
}

let nowMs = Date.now();
const open = (stateDir: string, outbox: ReturnType<typeof memoryOutbox>) =>
  EventPipeline.open({ mac: MAC, timeZone: 'UTC', monitorDir: '/var/spool/asterisk/monitor', holdForWrapup: false, outbox, stateDir, now: () => nowMs });

const T = 1_764_468_000;
const liveCdr = ev('Cdr', T, {
  AccountCode: '', Source: '801', Destination: '802', DestinationContext: 'internal', CallerID: '"" <801>', Channel: 'SIP/801-00000001',
  DestinationChannel: 'SIP/802-00000002', LastApplication: 'Dial', LastData: 'SIP/802', StartTime: '2025-11-30 02:00:00', AnswerTime: '2025-11-30 02:00:02',
  EndTime: '2025-11-30 02:00:10', Duration: '10', BillableSeconds: '8', Disposition: 'ANSWERED', AMAFlags: 'DOCUMENTATION', UniqueID: `${T}.1`, UserField: '',
});

it('a backfill never repeats a record the agent sent live or backfilled before, across a restart', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'coo-bfp-'));
  dirs.push(stateDir);
  const outbox = memoryOutbox();
  let pipeline = await open(stateDir, outbox);
  pipeline.push(liveCdr, T * 1000);
  await pipeline.flush();
  expect(outbox.events.map((e) => e.type)).toEqual(['cdr']);

  // The same record read back from Master.csv, and one the agent never saw.
  const seenId = cdrRecordId({ uniqueid: `${T}.1`, channel: 'SIP/801-00000001', dstchannel: 'SIP/802-00000002', startMs: Date.UTC(2025, 10, 30, 2, 0, 0) });
  const newId = cdrRecordId({ uniqueid: `${T}.9`, channel: 'SIP/803-00000009', dstchannel: '', startMs: Date.UTC(2025, 10, 30, 2, 1, 0) });
  const plan = [
    { type: 'cdr', body: '{"event":"cdr","backfilled":true,"n":1}', id: seenId },
    { type: 'cdr', body: '{"event":"cdr","backfilled":true,"n":2}', id: newId },
  ];
  const written = await pipeline.backfill(plan, []);
  expect(written).toEqual([{ type: 'cdr', body: plan[1]!.body, id: newId }]);
  expect(outbox.events.at(-1)).toEqual({ type: 'cdr', body: plan[1]!.body, id: newId });

  await pipeline.close();
  pipeline = await open(stateDir, outbox);
  expect(await pipeline.backfill(plan, [])).toEqual([]);
  expect(outbox.events).toHaveLength(2);
  await pipeline.close();
});

it('a backfilled call the live machine still held open is forgotten, so it never expires into a second record', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'coo-bfp-'));
  dirs.push(stateDir);
  const outbox = memoryOutbox();
  const pipeline = await open(stateDir, outbox);
  const caller = chan('SIP/trunk-00000001', `${T}.1`, `${T}.1`, '13800138000');
  pipeline.push(ev('Newchannel', T, caller, { Exten: '630', Context: 'from-trunk' }), T * 1000);
  await pipeline.flush();
  expect(pipeline.openCalls).toBe(1);
  const id = ccCdrRecordId(`${T}.1`);
  const written = await pipeline.backfill([{ type: 'cc_cdr', body: `{"event":"cc_cdr","uuid":"${T}.1","backfilled":true}`, id }], [`${T}.1`]);
  expect(written.map((e) => e.id)).toEqual([id]);
  expect(pipeline.openCalls).toBe(0);
  // Expiry hours later finds nothing to finish: no second, partial cc_cdr.
  const before = outbox.events.length;
  nowMs = T * 1000 + 5 * 3600_000;
  pipeline.expire();
  await pipeline.flush();
  expect(outbox.events.length).toBe(before);
  await pipeline.close();
});
