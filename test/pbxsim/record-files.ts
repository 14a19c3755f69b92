import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { cdrTime } from './wire.ts';

/**
 * The two files Asterisk writes itself about calls, for tests of a backfill that reads them:
 *
 * - `queue_log`, as main/logger.c `ast_queue_log` writes it with the file backend: one line per queue
 *   event, `time|callid|queuename|agent|event|data...` (time is `time(NULL)`, whole epoch seconds;
 *   the data is app_queue's format, its fields joined by `|`), ended by `\n`.
 * - `Master.csv`, as cdr/cdr_csv.c `build_csv_record` writes a CDR: every text in double quotes with a
 *   `"` doubled, numbers bare, an unset date as nothing between the commas, the optional columns
 *   cdr.conf `[csv]` asks for, ended by `\n`.
 *
 * Both are appended to synchronously (open, append, close, as cdr_csv's `writefile` does), so a line is
 * in the file before the AMI event written at the same moment reaches any socket.
 */

/** queues.conf `[general]` options that change what app_queue writes to queue_log. */
export interface QueueLogOptions {
  /** `log_membername_as_agent`: ADDMEMBER/REMOVEMEMBER name the member by its name, not its interface (default no). */
  logMembernameAsAgent?: boolean;
  /** `log-caller-id-name`: ENTERQUEUE gets the caller's name as a fourth field (default no). */
  logCallerIdName?: boolean;
}

/** cdr.conf `[csv]` options. */
export interface CdrCsvOptions {
  /** Adds the uniqueid column (default yes here; Asterisk's own default is no). */
  loguniqueid?: boolean;
  /** Adds the userfield column (default yes here; Asterisk's own default is no). */
  loguserfield?: boolean;
  /** Adds peeraccount, linkedid and sequence (default yes here; Asterisk's own default is no). */
  newcdrcolumns?: boolean;
  /** Dates in GMT instead of local time (default no). */
  usegmtime?: boolean;
}

/** One queue_log entry before it is written. */
export interface QueueLogEntry {
  /** Epoch seconds. */
  time: number;
  callid: string;
  queue: string;
  agent: string;
  event: string;
  /** app_queue's data fields, in order; `['']` for an event written with `"%s", ""`. */
  data: (string | number)[];
}

/** One CDR as the CDR engine hands it to every backend (cdr_manager's `Cdr` event, cdr_csv's line). */
export interface CdrRow {
  accountCode: string;
  source: string;
  destination: string;
  destinationContext: string;
  callerId: string;
  channel: string;
  destinationChannel: string;
  lastApp: string;
  lastData: string;
  /** Epoch ms. */
  start: number;
  /** Epoch ms; undefined when the call was never answered. */
  answer: number | undefined;
  end: number;
  duration: number;
  billsec: number;
  disposition: string;
  amaFlags: string;
  uniqueid: string;
  userField: string;
  peerAccount: string;
  linkedid: string;
  sequence: number;
}

/** `time|callid|queue|agent|event|data1|data2...` + `\n`, as ast_queue_log formats it. */
export function formatQueueLogLine(e: QueueLogEntry): string {
  return `${e.time}|${e.callid}|${e.queue}|${e.agent}|${e.event}|${e.data.join('|')}\n`;
}

/** cdr_csv's append_string: the text in double quotes, each `"` in it doubled. */
export function csvText(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/**
 * Formats epoch ms as `YYYY-MM-DD HH:MM:SS` (whole seconds, as strftime of a timeval): in the process's
 * local zone when `timeZone` is undefined, else in that IANA zone (`GMT` for usegmtime).
 */
export function dateFormatter(timeZone: string | undefined): (ms: number) => string {
  if (timeZone === undefined) return cdrTime;
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  return (ms) => {
    const p: Record<string, string> = {};
    for (const part of fmt.formatToParts(new Date(ms))) p[part.type] = part.value;
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
  };
}

/** Throws a RangeError for a zone Intl does not know. */
export function checkTimeZone(timeZone: string): void {
  new Intl.DateTimeFormat('en-US', { timeZone });
}

/** The defaults this simulator writes with: what the project's docs ask operators to set. */
export const CDR_CSV_DEFAULTS: Required<CdrCsvOptions> = { loguniqueid: true, loguserfield: true, newcdrcolumns: true, usegmtime: false };

/**
 * One Master.csv line (with its `\n`), in build_csv_record's column order: accountcode, src, dst,
 * dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer, end, duration, billsec,
 * disposition, amaflags, then [uniqueid] [userfield] [peeraccount, linkedid, sequence].
 */
export function formatCdrCsvLine(r: CdrRow, options: CdrCsvOptions = {}, timeZone?: string): string {
  const o = { ...CDR_CSV_DEFAULTS, ...options };
  const date = dateFormatter(o.usegmtime ? 'GMT' : timeZone);
  return cdrCsvLine(r, o, date);
}

function cdrCsvLine(r: CdrRow, o: Required<CdrCsvOptions>, date: (ms: number) => string): string {
  // append_date writes an unset (zero) time as an empty field, unquoted.
  const when = (ms: number | undefined) => (ms === undefined ? '' : csvText(date(ms)));
  const fields = [
    csvText(r.accountCode),
    csvText(r.source),
    csvText(r.destination),
    csvText(r.destinationContext),
    csvText(r.callerId),
    csvText(r.channel),
    csvText(r.destinationChannel),
    csvText(r.lastApp),
    csvText(r.lastData),
    when(r.start),
    when(r.answer),
    when(r.end),
    String(r.duration),
    String(r.billsec),
    csvText(r.disposition),
    csvText(r.amaFlags),
  ];
  if (o.loguniqueid) fields.push(csvText(r.uniqueid));
  if (o.loguserfield) fields.push(csvText(r.userField));
  if (o.newcdrcolumns) fields.push(csvText(r.peerAccount), csvText(r.linkedid), String(r.sequence));
  return `${fields.join(',')}\n`;
}

/**
 * Appends to a file, creating it (and its folder) when missing, as fopen(path, "a") does. A failed write
 * is reported and the call goes on, as Asterisk logs "Unable to ..." and carries on.
 */
function appender(path: string): (text: string) => void {
  return (text) => {
    try {
      appendFileSync(path, text);
    } catch (e) {
      try {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        mkdirSync(dirname(path), { recursive: true });
        appendFileSync(path, text);
      } catch (e2) {
        process.stderr.write(`coocenter-pbxsim: unable to write ${path}: ${e2 instanceof Error ? e2.message : String(e2)}\n`);
      }
    }
  };
}

export function queueLogWriter(path: string): (e: QueueLogEntry) => void {
  const append = appender(path);
  return (e) => append(formatQueueLogLine(e));
}

export function cdrCsvWriter(path: string, options: CdrCsvOptions = {}, timeZone?: string): (r: CdrRow) => void {
  const o = { ...CDR_CSV_DEFAULTS, ...options };
  const date = dateFormatter(o.usegmtime ? 'GMT' : timeZone);
  const append = appender(path);
  return (r) => append(cdrCsvLine(r, o, date));
}
