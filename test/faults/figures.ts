import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One line of the faults table: what was injected and what came out of it. */
export interface FaultRow {
  fault: string;
  /**
   * How much of the fault really happened, counted where it was injected (the receiver's 500s, the
   * proxy's resets, the bytes a black hole held, ...): a row whose count is 0 fails.
   */
  injected: number;
  /** What `injected` counts, printed before it: "500s answered", "bytes held", ... */
  injectedWhat: string;
  /** More of what the fault did, printed after the count in brackets: "redials refused: 10". */
  injectedDetail?: string;
  /**
   * On rows under a stream of calls, that the fault came mid-stream: events delivered before it
   * began, and events delivered of calls placed after it began (both must be above 0).
   */
  deliveredBefore?: number;
  deliveredAfter?: number;
  /** Events spooled and not yet delivered when the fault ended, on faults that must hold events back (above 0). */
  waitingAtHeal?: number;
  /** Events the agent read and spooled (outbox seqs) during the run. */
  generated: number;
  /** Distinct webhook-ids the receiver accepted. */
  delivered: number;
  /** Repeated webhook-ids (at least once: allowed, counted). */
  duplicated: number;
  /** Generated, neither delivered nor counted as dropped by a bound nor set aside as a dead letter. */
  lost: number;
  /** Dropped by a bound and counted (disk full), reported by the agent. */
  droppedCounted: number;
  /**
   * Set aside as dead letters, as the delivery's own store lists them (the edge's admin API, the
   * agent's spool in LAN mode): a poison event. Rows under a stream say how many (0 expected unless
   * the fault is one); undefined on rows with no delivery.
   */
  deadLettered?: number;
  /** Events delivered that the agent rebuilt from the box's records after a gap (`"backfilled": true`). */
  backfilled?: number;
  /** First deliveries out of sequence order for the device. */
  outOfOrder: number;
  /** Commands sent during the fault, and how many got a clear error or answer within the bound. */
  commands: number;
  commandsAnsweredInTime: number;
  /** Hostile requests answered 2xx, or that reached AMI or the filesystem. */
  badThrough: number;
  /** Seconds (on the scenario's clock) from the end of the fault until everything was delivered. */
  recoverySec: number | null;
  note?: string;
}

const root = fileURLToPath(new URL('../..', import.meta.url));
/** Each test file writes its rows here; the global teardown joins them into test-output/faults.json. */
export const ROWS_DIR = join(root, 'test-output', 'faults-rows');
export const FAULTS_JSON = join(root, 'test-output', 'faults.json');

export function recordRow(file: string, row: FaultRow): void {
  mkdirSync(ROWS_DIR, { recursive: true });
  const path = join(ROWS_DIR, `${file}.jsonl`);
  let existing = '';
  try {
    existing = readFileSync(path, 'utf8');
  } catch {
    // first row of this file
  }
  writeFileSync(path, existing + JSON.stringify(row) + '\n');
}

export function clearRows(): void {
  rmSync(ROWS_DIR, { recursive: true, force: true });
}

export function collectRows(): FaultRow[] {
  let files: string[] = [];
  try {
    files = readdirSync(ROWS_DIR).sort();
  } catch {
    return [];
  }
  return files.flatMap((f) =>
    readFileSync(join(ROWS_DIR, f), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as FaultRow),
  );
}

const COLUMNS: [string, (r: FaultRow) => string][] = [
  ['fault', (r) => r.fault],
  ['fault injected', (r) => `${r.injectedWhat}: ${r.injected}${r.injectedDetail ? ` (${r.injectedDetail})` : ''}`],
  ['generated', (r) => String(r.generated)],
  ['delivered', (r) => String(r.delivered)],
  ['dup', (r) => String(r.duplicated)],
  ['lost', (r) => String(r.lost)],
  ['dropped (counted)', (r) => String(r.droppedCounted)],
  ['dead letters', (r) => (r.deadLettered === undefined ? '-' : String(r.deadLettered))],
  ['backfilled', (r) => (r.backfilled === undefined ? '-' : String(r.backfilled))],
  ['out of order', (r) => String(r.outOfOrder)],
  ['cmds ok/sent', (r) => `${r.commandsAnsweredInTime}/${r.commands}`],
  ['bad through', (r) => String(r.badThrough)],
  ['recovery s', (r) => (r.recoverySec === null ? '-' : r.recoverySec.toFixed(1))],
  ['delivered before/after', (r) => (r.deliveredBefore === undefined ? '-' : `${r.deliveredBefore}/${r.deliveredAfter ?? 0}`)],
  ['waiting at heal', (r) => (r.waitingAtHeal === undefined ? '-' : String(r.waitingAtHeal))],
];

/** A Markdown table, as printed at the end of the run and pasted in docs/faults.md. */
export function renderTable(rows: readonly FaultRow[]): string {
  const head = `| ${COLUMNS.map(([h]) => h).join(' | ')} |`;
  const rule = `| ${COLUMNS.map(([h], i) => (i === 0 ? '---' : '---:')).join(' | ')} |`;
  const body = rows.map((r) => `| ${COLUMNS.map(([, f]) => f(r)).join(' | ')} |`);
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.fault}: ${r.note}`);
  return [head, rule, ...body, ...(notes.length ? ['', ...notes] : [])].join('\n');
}

export function writeFaultsJson(rows: readonly FaultRow[]): void {
  mkdirSync(join(root, 'test-output'), { recursive: true });
  writeFileSync(FAULTS_JSON, JSON.stringify({ at: new Date().toISOString(), rows }, null, 2) + '\n');
}
