import type { OutboxEvent } from '../outbox/outbox.ts';
import type { CdrRecord, CdrSource } from './cdr-record.ts';
import { readQueueLog } from './queue-log.ts';
import { ccCdrFromQueueLog, ccCdrRecordId, cdrFromRecord, cdrRecordId, queueCalls, type RecordContext } from './record-events.ts';

/** How far back a queue call that ends in the window may have joined its queue. */
const LONGEST_QUEUE_CALL_MS = 4 * 3600_000;

/** What a gap's backfill did, as the gap log and the edge's status show it. */
export interface BackfillReport {
  /** filled: every source was read; partial: one could not be; skipped: the gap is longer than the bound; none: no source. */
  state: 'filled' | 'partial' | 'skipped' | 'none';
  cdr: number;
  ccCdr: number;
  /** What could not be recovered and why, for the operator; "" when nothing. */
  detail: string;
}

export interface BackfillSources {
  cdr: CdrSource | null;
  queueLog: string | null;
}

export interface BackfillPlan {
  /** In the order the box would have sent them: by the time each record ended. */
  events: (OutboxEvent & { id: string })[];
  /** Calls the live call-record machine may still hold open (they started before the gap). */
  calls: string[];
  report: BackfillReport;
}

/**
 * The `cdr` and `cc_cdr` events the box would have sent during a gap [fromMs, toMs], rebuilt from its
 * own records. Reads nothing when the gap is longer than `maxWindowMs`. A source that fails is reported
 * (partial), never thrown: the other source's records still go.
 */
export async function planBackfill(gap: { from: number; to: number }, sources: BackfillSources, ctx: RecordContext, maxWindowMs: number): Promise<BackfillPlan> {
  const report: BackfillReport = { state: 'filled', cdr: 0, ccCdr: 0, detail: '' };
  if (!sources.cdr && !sources.queueLog) return { events: [], calls: [], report: { ...report, state: 'none', detail: 'no queue_log, cdr_csv or [cdrdb] set in api.conf' } };
  if (gap.to - gap.from > maxWindowMs) {
    const hours = (x: number) => `${Math.round((x / 3600_000) * 10) / 10} h`;
    return { events: [], calls: [], report: { ...report, state: 'skipped', detail: `gap of ${hours(gap.to - gap.from)} is longer than [backfill] max_window (${hours(maxWindowMs)}): not read` } };
  }
  const problems: string[] = [];
  let records: CdrRecord[] = [];
  if (sources.cdr) {
    try {
      records = await sources.cdr.read(gap.from, gap.to);
    } catch (e) {
      problems.push(`${sources.cdr.name}: ${(e as Error).message}`);
    }
  }
  const timed: { at: number; order: number; event: OutboxEvent & { id: string } }[] = [];
  for (const r of records) {
    timed.push({ at: r.endMs, order: 0, event: { type: 'cdr', body: JSON.stringify(cdrFromRecord(r, ctx)), id: cdrRecordId(r) } });
  }
  const calls: string[] = [];
  if (sources.queueLog) {
    try {
      // A call's queue_log lines start when it joined, possibly well before the gap.
      const { entries, unreadable } = await readQueueLog(sources.queueLog, gap.from - LONGEST_QUEUE_CALL_MS, gap.to);
      if (unreadable > 0) problems.push(`${sources.queueLog}: ${unreadable} lines were not queue_log lines`);
      for (const call of queueCalls(entries)) {
        if (call.endedAt < gap.from || call.endedAt > gap.to) continue;
        const { event, endMs } = ccCdrFromQueueLog(call, records, ctx);
        // Still going when the agent came back: the live records finish it.
        if (endMs > gap.to) continue;
        calls.push(event.uuid);
        timed.push({ at: endMs, order: 1, event: { type: 'cc_cdr', body: JSON.stringify(event), id: ccCdrRecordId(event.uuid) } });
      }
    } catch (e) {
      problems.push(`${sources.queueLog}: ${(e as Error).message}`);
    }
  }
  timed.sort((a, b) => a.at - b.at || a.order - b.order);
  report.cdr = timed.filter((t) => t.event.type === 'cdr').length;
  report.ccCdr = timed.length - report.cdr;
  if (problems.length > 0) report.state = 'partial';
  report.detail = problems.join('; ');
  return { events: timed.map((t) => t.event), calls, report };
}
