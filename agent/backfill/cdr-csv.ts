import { access, constants } from 'node:fs/promises';
import { parsePbxTime } from '../events/time.ts';
import type { CdrRecord, CdrSource } from './cdr-record.ts';
import { fileLines, rotatedFiles } from './log-files.ts';

/**
 * Splits one Master.csv line as cdr_csv writes it: text in double quotes with `"` doubled, numbers
 * bare, an unset date as nothing between the commas.
 */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let value = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q === -1) {
          value += line.slice(i);
          i = line.length;
          break;
        }
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
    } else {
      const c = line.indexOf(',', i);
      value = c === -1 ? line.slice(i) : line.slice(i, c);
      i = c === -1 ? line.length : c;
    }
    fields.push(value);
    if (line[i] !== ',') return fields;
    i++;
  }
}

const UNIQUEID = /^\d+\.\d+$/;

/**
 * One Master.csv line as a record. cdr.conf `[csv]` decides the columns after the sixteen fixed ones:
 * `loguniqueid` adds uniqueid, `loguserfield` userfield, `newcdrcolumns` peeraccount, linkedid and
 * sequence; the count tells which, and where 17 or 20 could be either the uniqueid's form decides.
 * Null for a line that is not a record.
 */
export function parseCdrCsvLine(line: string, timeZone: string): CdrRecord | null {
  const f = splitCsvLine(line);
  if (f.length < 16 || f.length > 21) return null;
  const extra = f.slice(16);
  const newColumns = f.length >= 19 ? extra.splice(-3) : [];
  let uniqueid = '';
  let userfield = '';
  if (extra.length === 2) [uniqueid, userfield] = extra as [string, string];
  else if (extra.length === 1 && UNIQUEID.test(extra[0]!)) uniqueid = extra[0]!;
  else if (extra.length === 1) userfield = extra[0]!;
  const [accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer, end, duration, billsec, disposition, amaflags] = f as [
    string, string, string, string, string, string, string, string, string, string, string, string, string, string, string, string,
  ];
  const startMs = parsePbxTime(start, timeZone);
  const endMs = parsePbxTime(end, timeZone);
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || !/^\d+$/.test(duration) || !/^\d+$/.test(billsec)) return null;
  return {
    accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer, end,
    duration: Number(duration), billsec: Number(billsec), disposition, amaflags,
    uniqueid, userfield, linkedid: newColumns[1] ?? '', recordingfile: '', did: '',
    startMs, endMs,
  };
}

/**
 * cdr_csv's Master.csv (and its rotated copies) as a CDR source. cdr.conf `[csv] usegmtime=yes`
 * writes times in UTC: pass `UTC` as the zone then.
 */
export class CdrCsvSource implements CdrSource {
  readonly name: string;

  constructor(
    private readonly path: string,
    private readonly timeZone: string,
  ) {
    this.name = `cdr_csv ${path}`;
  }

  async read(fromMs: number, toMs: number): Promise<CdrRecord[]> {
    const out: CdrRecord[] = [];
    // A record is written when its call ends: files last written before the window hold none of it.
    for (const file of await rotatedFiles(this.path, fromMs)) {
      for await (const line of fileLines(file)) {
        const r = parseCdrCsvLine(line, this.timeZone);
        if (r && r.endMs >= fromMs && r.endMs <= toMs) out.push(r);
      }
    }
    return out;
  }

  async check(): Promise<string> {
    try {
      await access(this.path, constants.R_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new Error(`${this.path} does not exist: check [paths] cdr_csv, and that cdr_csv is loaded (asterisk -rx "cdr show status")`);
      throw new Error(`${this.path} is not readable by this user (${code}): add the agent's user to the asterisk group, or make the file group-readable`);
    }
    let records = 0;
    let unreadable = 0;
    let last: CdrRecord | null = null;
    let withUniqueid = 0;
    for await (const line of fileLines(this.path)) {
      const r = parseCdrCsvLine(line, this.timeZone);
      if (!r) unreadable++;
      else {
        records++;
        last = r;
        if (r.uniqueid) withUniqueid++;
      }
    }
    if (records > 0 && withUniqueid === 0) {
      throw new Error(`${this.path} has no uniqueid column: set loguniqueid=yes (and newcdrcolumns=yes) in cdr.conf [csv], then asterisk -rx "module reload cdr_csv"; without it backfilled records cannot be matched to queue calls`);
    }
    return `${records} records${last ? `, newest ended ${last.end}` : ''}${unreadable ? `, ${unreadable} lines not read as records` : ''}`;
  }

  async close(): Promise<void> {}
}
