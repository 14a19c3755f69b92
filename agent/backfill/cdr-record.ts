/**
 * One call detail record as the box's CDR backends keep it (cdr_csv's Master.csv, the MySQL/MariaDB
 * `cdr` table of FreePBX's `asteriskcdrdb`), whatever the source. Text fields are "" where the
 * source has no such column (Master.csv without `loguniqueid=yes` has no uniqueid).
 */
export interface CdrRecord {
  accountcode: string;
  src: string;
  dst: string;
  dcontext: string;
  clid: string;
  channel: string;
  dstchannel: string;
  lastapp: string;
  lastdata: string;
  /** The box's local time `YYYY-MM-DD HH:MM:SS`, as the CDR `cdr` event carries it; "" when unset. */
  start: string;
  answer: string;
  end: string;
  duration: number;
  billsec: number;
  /** ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION. */
  disposition: string;
  amaflags: string;
  uniqueid: string;
  linkedid: string;
  userfield: string;
  /** FreePBX's table: the recording's file name, and the DID the call came in on. */
  recordingfile: string;
  did: string;
  /** Epoch ms of `start` and `end`, read in the box's time zone. */
  startMs: number;
  endMs: number;
}

/** Where the box keeps its CDRs: read only, for the time window of a gap. */
export interface CdrSource {
  /** What it reads, for logs, `--check` and status (`cdr_csv /var/log/asterisk/cdr-csv/Master.csv`). */
  readonly name: string;
  /** The records whose end falls in [fromMs, toMs], in the order Asterisk wrote them. */
  read(fromMs: number, toMs: number): Promise<CdrRecord[]>;
  /**
   * Checks that the source can be read; resolves with what it found (`1,204 records, newest
   * 2026-11-30 17:02:11`), rejects with an Error that names the file or database and what to fix.
   */
  check(): Promise<string>;
  close(): Promise<void>;
}

/** Where a CDR database is, as messages name it: its socket, or host:port. */
export function cdrDbAddress(db: { host: string; port: number; socket?: string }): string {
  return db.socket ?? `${db.host.includes(':') ? `[${db.host}]` : db.host}:${db.port}`;
}

export function cdrDbName(db: { host: string; port: number; socket?: string; database: string; table: string }): string {
  return `mysql ${db.database}.${db.table} at ${cdrDbAddress(db)}`;
}
