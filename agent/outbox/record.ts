import type { QueueEntry } from '../../shared/delivery/queue.ts';

/**
 * One spooled event per line. The body travels as a JSON string, so a body with newlines cannot split
 * a record, and a line without its final `\n` is a write that a crash cut short.
 */
interface RecordLine {
  s: number;
  t: string;
  b: string;
  /** QueueEntry.id, when the event has its own. */
  i?: string;
}

export function encodeRecord(seq: number, type: string, body: string, id?: string): string {
  const line: RecordLine = id === undefined ? { s: seq, t: type, b: body } : { s: seq, t: type, b: body, i: id };
  return `${JSON.stringify(line)}\n`;
}

export class CorruptRecordError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    detail: string,
  ) {
    super(`outbox record at ${file}:${offset} is unreadable: ${detail}`);
    this.name = 'CorruptRecordError';
  }
}

/** Parses one line (without its `\n`); `where` names it in the error. */
export function decodeRecord(line: string, epoch: string, file: string, offset: number): QueueEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    throw new CorruptRecordError(file, offset, (err as Error).message);
  }
  const r = parsed as Partial<RecordLine>;
  if (typeof r !== 'object' || r === null || !Number.isSafeInteger(r.s) || typeof r.t !== 'string' || typeof r.b !== 'string') {
    throw new CorruptRecordError(file, offset, 'fields s, t, b missing or of the wrong type');
  }
  if (r.i !== undefined && typeof r.i !== 'string') throw new CorruptRecordError(file, offset, 'field i is not a string');
  return r.i === undefined ? { epoch, seq: r.s!, type: r.t, body: r.b } : { epoch, seq: r.s!, type: r.t, body: r.b, id: r.i };
}
