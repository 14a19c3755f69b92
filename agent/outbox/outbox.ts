import { mkdir, open, readdir, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeadLetter, QueueEntry, ReplayableQueue } from '../../shared/delivery/queue.ts';
import { parseRetryState, type RetryState } from '../../shared/delivery/retry-state.ts';
import { z } from 'zod';
import { readJsonFile } from '../json-file.ts';
import { syncDir, writeFileAtomic } from './atomic-file.ts';
import { DeadLetterFile } from './dead-letter-file.ts';
import { decodeRecord, encodeRecord } from './record.ts';

export interface OutboxEvent {
  type: string;
  /** The JSON text to POST, exactly as it will be signed. */
  body: string;
  /** Its own webhook-id part (QueueEntry.id), for a backfilled record. */
  id?: string;
}

export interface OutboxOptions {
  dir: string;
  /** Bound on segment bytes; when hit, the oldest segment goes and its undelivered events are counted. */
  maxBytes?: number;
  /** A segment is closed and a new one started past this size. */
  segmentBytes?: number;
  now?: () => number;
  log?: (entry: Record<string, unknown>) => void;
}

export interface OutboxStats {
  epoch: string;
  waiting: number;
  /** Seq of the oldest waiting event, null when none waits. */
  oldestSeq: number | null;
  nextSeq: number;
  /** Undelivered events dropped by the disk bound, ever. */
  dropped: number;
  bytesOnDisk: number;
  segments: number;
  deadLetters: number;
}

interface Segment {
  firstSeq: number;
  path: string;
  /** Bytes written and fsynced; readers never look past this. */
  bytes: number;
}

interface State {
  acked: number;
  dropped: number;
}

interface PendingAppend {
  events: readonly OutboxEvent[];
  resolve: (seqs: number[]) => void;
  reject: (err: Error) => void;
}

/** Where a record starts: the read position of the waiting line. */
interface Position {
  seq: number;
  segment: Segment;
  offset: number;
}

const SEGMENT_PREFIX = 'seg-';
const RETRY_STATE_FILE = 'retry-state.json';
const SEGMENT_SUFFIX = '.log';
const READ_CHUNK = 64 * 1024;

/**
 * The agent's durable event spool (docs/api.md "What nothing lost means"). Events are appended to segment
 * files and fsynced before `appendMany` resolves; events arriving while a write is in flight share the
 * next write and fsync (group commit). Each event gets a `seq` that survives restarts and kill -9.
 * Entries leave only when acknowledged (delivered here, or by the edge over the tunnel); a segment
 * whose entries are all acknowledged is deleted. Memory holds one record per segment, not per event.
 */
export class Outbox implements ReplayableQueue {
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly now: () => number;
  private readonly log: (entry: Record<string, unknown>) => void;
  private readonly listeners = new Set<() => void>();
  private readonly dropListeners = new Set<() => void>();
  private pending: PendingAppend[] = [];
  private writing: Promise<void> | null = null;
  private stateSaved: Promise<void> = Promise.resolve();
  private saveQueued = false;
  private acksSaved: Promise<void> = Promise.resolve();
  private active: FileHandle | null = null;
  /** Positions of the records after the last peeked ones, so ack after peek needs no scan. */
  private window = new Map<number, Position>();
  private cursor: Position | null = null;
  private closed = false;

  private constructor(
    private readonly dir: string,
    readonly epoch: string,
    private readonly segments: Segment[],
    private nextSeq: number,
    private state: State,
    private readonly deadLetters: DeadLetterFile,
    opts: OutboxOptions,
  ) {
    this.maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    this.segmentBytes = opts.segmentBytes ?? 4 * 1024 * 1024;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
  }

  static async open(opts: OutboxOptions): Promise<Outbox> {
    const { dir } = opts;
    const now = opts.now ?? Date.now;
    const log = opts.log ?? (() => {});
    const maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    const segmentBytes = opts.segmentBytes ?? 4 * 1024 * 1024;
    // The bound drops whole segments, so it must hold several of them to drop only the oldest events.
    if (segmentBytes * 4 > maxBytes) throw new RangeError(`outbox segmentBytes (${segmentBytes}) must be at most a quarter of maxBytes (${maxBytes})`);
    await mkdir(dir, { recursive: true });

    const epoch = await readOrCreateEpoch(dir, now);
    const state = await readState(dir);
    const segments = await listSegments(dir);
    let nextSeq = state.acked + 1;
    const last = segments.at(-1);
    if (last) {
      const { records, validBytes } = await scanCompleteLines(last.path);
      if (validBytes < last.bytes) {
        // A crash cut the last write short; that batch was never reported as written.
        const fh = await open(last.path, 'r+');
        try {
          await fh.truncate(validBytes);
          await fh.sync();
        } finally {
          await fh.close();
        }
        log({ level: 'warn', msg: 'outbox torn record ignored', file: last.path, bytes: last.bytes - validBytes });
        last.bytes = validBytes;
      }
      nextSeq = Math.max(nextSeq, last.firstSeq + records);
    }
    const first = segments[0];
    if (first && state.acked < first.firstSeq - 1) state.acked = first.firstSeq - 1;

    const box = new Outbox(dir, epoch, segments, nextSeq, state, await DeadLetterFile.open(join(dir, 'dead-letters.jsonl')), opts);
    await box.deleteDeliveredSegments();
    return box;
  }

  /** Listens for appended events (to kick delivery); returns the unsubscribe function. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Listens for events dropped by the bound (to tell the edge at once); returns the unsubscribe function. */
  onDrop(listener: () => void): () => void {
    this.dropListeners.add(listener);
    return () => this.dropListeners.delete(listener);
  }

  /** Resolves with the seqs given to `events`, in order, once they are on disk. */
  appendMany(events: readonly OutboxEvent[]): Promise<number[]> {
    if (this.closed) return Promise.reject(new Error('outbox is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ events, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    if (this.writing) return;
    this.writing = this.writeLoop().finally(() => {
      this.writing = null;
      // An append made after the loop's last look at `pending` (a resolved caller appending again).
      if (this.pending.length > 0) this.flush();
    });
  }

  async peek(n: number): Promise<QueueEntry[]> {
    return this.read(this.state.acked + 1, n);
  }

  /**
   * Up to `max` waiting entries with seq > `after`, oldest first: the tunnel sends ahead of what the
   * edge has acknowledged, so it reads past the head of the line.
   */
  async readAfter(after: number, max: number): Promise<QueueEntry[]> {
    return this.read(Math.max(after + 1, this.state.acked + 1), max);
  }

  private async read(start: number, n: number): Promise<QueueEntry[]> {
    try {
      return await this.readFrom(start, n);
    } catch (err) {
      // The disk bound may have deleted the segment being read; read again from what is left.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.cursor = null;
      this.window.clear();
      return this.readFrom(Math.max(start, this.state.acked + 1), n);
    }
  }

  async ack(uptoSeq: number): Promise<void> {
    const upto = Math.min(uptoSeq, this.nextSeq - 1);
    if (upto <= this.state.acked) return;
    this.state.acked = upto;
    this.cursor = this.window.get(upto + 1) ?? this.cursor;
    // Persisted in the background and coalesced, so delivery does not wait for a rename and two
    // fsyncs per event. A crash before the write lands resends events already delivered, under the
    // same webhook-id, which at-least-once delivery allows.
    this.acksSaved = this.saveState()
      .then(() => this.deleteDeliveredSegments())
      .catch((err: Error) => this.log({ level: 'error', msg: 'outbox state not saved', error: err.message }));
  }

  /** Resolves once every acknowledgement so far is on disk and the segments it freed are deleted. */
  async persisted(): Promise<void> {
    await this.acksSaved;
  }

  /** Takes the head of the waiting line out and keeps it in the dead-letter file. */
  async deadLetter(entry: QueueEntry, reason: string): Promise<void> {
    if (entry.seq !== this.state.acked + 1) throw new RangeError(`outbox can dead-letter only the head of the queue (${this.state.acked + 1}), not ${entry.seq}`);
    const letter: DeadLetter = { epoch: entry.epoch, seq: entry.seq, type: entry.type, body: entry.body, ...(entry.id ? { id: entry.id } : {}), reason, at: this.now() };
    await this.deadLetters.append(letter);
    await this.ack(entry.seq);
    // A dead letter is rare and must not come back after a crash as a second one.
    await this.saveState();
  }

  async depth(): Promise<number> {
    return this.waiting();
  }

  async deadLetterCount(): Promise<number> {
    return this.deadLetters.count;
  }

  listDeadLetters(): Promise<DeadLetter[]> {
    return this.deadLetters.list();
  }

  removeDeadLetter(seq: number): Promise<boolean> {
    return this.deadLetters.remove(seq);
  }

  /** The LAN delivery's retry schedule for the head, kept beside the spool (tunnel mode never writes it). */
  async loadRetryState(): Promise<RetryState | null> {
    try {
      return parseRetryState(await readFile(join(this.dir, RETRY_STATE_FILE), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return null;
    }
  }

  async saveRetryState(state: RetryState | null): Promise<void> {
    const path = join(this.dir, RETRY_STATE_FILE);
    if (state !== null) return writeFileAtomic(path, JSON.stringify(state));
    try {
      await unlink(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return;
    }
    await syncDir(this.dir);
  }

  /** Only what is still on disk can be replayed: segments are deleted once fully acknowledged. */
  async replayFrom(seq: number): Promise<number> {
    const oldest = this.segments[0]?.firstSeq ?? this.nextSeq;
    const from = Math.min(Math.max(seq, oldest, 1), this.nextSeq);
    if (from - 1 < this.state.acked) {
      this.state.acked = from - 1;
      this.cursor = null;
      await this.saveState();
    }
    return from;
  }

  stats(): OutboxStats {
    const waiting = this.waiting();
    return {
      epoch: this.epoch,
      waiting,
      oldestSeq: waiting > 0 ? this.state.acked + 1 : null,
      nextSeq: this.nextSeq,
      dropped: this.state.dropped,
      bytesOnDisk: this.bytesOnDisk(),
      segments: this.segments.length,
      deadLetters: this.deadLetters.count,
    };
  }

  /** Waits for appends in flight; later appends are refused. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.writing) await this.writing;
    await this.acksSaved;
    await this.stateSaved;
    await this.active?.close();
    this.active = null;
  }

  private bytesOnDisk(): number {
    return this.segments.reduce((sum, s) => sum + s.bytes, 0);
  }

  private waiting(): number {
    return this.nextSeq - 1 - this.state.acked;
  }

  private async writeLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        const seqs = await this.write(batch.flatMap((p) => p.events));
        let i = 0;
        for (const p of batch) {
          p.resolve(seqs.slice(i, i + p.events.length));
          i += p.events.length;
        }
        if (seqs.length > 0) for (const l of this.listeners) l();
      } catch (err) {
        this.log({ level: 'error', msg: 'outbox write failed', error: (err as Error).message, events: batch.reduce((n, p) => n + p.events.length, 0) });
        for (const p of batch) p.reject(err as Error);
      }
    }
  }

  private async write(events: readonly OutboxEvent[]): Promise<number[]> {
    if (events.length === 0) return [];
    const first = this.nextSeq;
    const data = Buffer.from(events.map((e, i) => encodeRecord(first + i, e.type, e.body, e.id)).join(''));
    await this.makeRoom(data.length);
    const segment = this.segments.at(-1)!;
    const fh = await this.activeHandle(segment);
    try {
      let written = 0;
      while (written < data.length) written += (await fh.write(data, written, data.length - written)).bytesWritten;
      await fh.datasync();
    } catch (err) {
      // Cut back to the last whole record so the next append does not continue a broken line.
      await fh.truncate(segment.bytes).catch(() => {});
      throw err;
    }
    segment.bytes += data.length;
    this.nextSeq += events.length;
    return events.map((_, i) => first + i);
  }

  /** Starts a segment when the active one is full, and drops the oldest segments past the bound. */
  private async makeRoom(incoming: number): Promise<void> {
    const last = this.segments.at(-1);
    if (!last || (last.bytes > 0 && last.bytes + incoming > this.segmentBytes)) await this.rotate();
    while (this.bytesOnDisk() + incoming > this.maxBytes && this.segments.length > 1) {
      const oldest = this.segments.shift()!;
      const lastSeq = this.segments[0]!.firstSeq - 1;
      const lost = lastSeq - Math.max(this.state.acked, oldest.firstSeq - 1);
      if (lost > 0) {
        this.state.dropped += lost;
        this.state.acked = lastSeq;
        this.log({ level: 'error', msg: 'outbox full: oldest undelivered events dropped', count: lost, fromSeq: lastSeq - lost + 1, toSeq: lastSeq, droppedTotal: this.state.dropped, maxBytes: this.maxBytes });
        await this.saveState();
        for (const l of this.dropListeners) l();
      }
      if (this.cursor?.segment === oldest) this.cursor = null;
      await unlink(oldest.path);
    }
  }

  private async rotate(): Promise<void> {
    await this.active?.close();
    this.active = null;
    const segment: Segment = { firstSeq: this.nextSeq, path: join(this.dir, segmentName(this.nextSeq)), bytes: 0 };
    this.active = await open(segment.path, 'a');
    await syncDir(this.dir);
    this.segments.push(segment);
    await this.deleteDeliveredSegments();
  }

  private async activeHandle(segment: Segment): Promise<FileHandle> {
    this.active ??= await open(segment.path, 'a');
    return this.active;
  }

  /** Deletes closed segments whose every entry is acknowledged; the active one stays for appends. */
  private async deleteDeliveredSegments(): Promise<void> {
    while (this.segments.length > 1 && this.segments[1]!.firstSeq - 1 <= this.state.acked) {
      const done = this.segments.shift()!;
      if (this.cursor?.segment === done) this.cursor = null;
      await unlink(done.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }

  /**
   * Resolves once the state as it is now is on disk. Writes are chained so an older state never lands
   * after a newer one, and coalesced: while one is on disk, every later change shares one more.
   */
  private saveState(): Promise<void> {
    if (!this.saveQueued) {
      this.saveQueued = true;
      this.stateSaved = this.stateSaved
        .catch(() => undefined)
        .then(() => {
          this.saveQueued = false;
          return writeFileAtomic(join(this.dir, 'state.json'), JSON.stringify(this.state));
        });
    }
    return this.stateSaved;
  }

  /** Up to n entries from `start` on; the positions after each land in `window` for the next read. */
  private async readFrom(start: number, n: number): Promise<QueueEntry[]> {
    const entries: QueueEntry[] = [];
    if (start >= this.nextSeq || n <= 0) return entries;
    let pos = await this.locate(start);
    this.window.clear();
    while (entries.length < n && pos.seq < this.nextSeq) {
      const { segment } = pos;
      if (pos.offset >= segment.bytes) {
        const next = this.segments[this.segments.indexOf(segment) + 1];
        if (!next) break;
        pos = { seq: next.firstSeq, segment: next, offset: 0 };
        continue;
      }
      const chunk = await readAt(segment.path, pos.offset, Math.min(READ_CHUNK, segment.bytes - pos.offset));
      let lineStart = 0;
      for (let nl = chunk.indexOf(10); nl !== -1 && entries.length < n; nl = chunk.indexOf(10, lineStart)) {
        const entry = decodeRecord(chunk.toString('utf8', lineStart, nl), this.epoch, segment.path, pos.offset + lineStart);
        entries.push(entry);
        lineStart = nl + 1;
        this.window.set(entry.seq + 1, { seq: entry.seq + 1, segment, offset: pos.offset + lineStart });
      }
      if (lineStart === 0) {
        // One record longer than a chunk: read it whole.
        const whole = await readAt(segment.path, pos.offset, segment.bytes - pos.offset);
        const nl = whole.indexOf(10);
        const entry = decodeRecord(whole.toString('utf8', 0, nl), this.epoch, segment.path, pos.offset);
        entries.push(entry);
        lineStart = nl + 1;
        this.window.set(entry.seq + 1, { seq: entry.seq + 1, segment, offset: pos.offset + lineStart });
      }
      pos = { seq: entries.at(-1)!.seq + 1, segment, offset: pos.offset + lineStart };
    }
    return entries;
  }

  /** The position of record `seq`, counting lines from the nearest known position in its segment. */
  private async locate(seq: number): Promise<Position> {
    // The tunnel reads on from where its last read ended: that position is known exactly.
    const next = this.window.get(seq);
    if (next && this.segments.includes(next.segment)) return next;
    let i = this.segments.length - 1;
    while (i > 0 && this.segments[i]!.firstSeq > seq) i--;
    const segment = this.segments[i]!;
    let from: Position = { seq: segment.firstSeq, segment, offset: 0 };
    const known = this.cursor;
    if (known && known.segment === segment && known.seq <= seq) from = known;
    const offset = await skipLines(segment.path, from.offset, seq - from.seq, segment.bytes);
    const pos = { seq, segment, offset };
    // The cursor marks the head of the line; reads further ahead must not move it forward.
    if (seq === this.state.acked + 1) this.cursor = pos;
    return pos;
  }
}

function segmentName(firstSeq: number): string {
  return `${SEGMENT_PREFIX}${String(firstSeq).padStart(16, '0')}${SEGMENT_SUFFIX}`;
}

async function listSegments(dir: string): Promise<Segment[]> {
  const names = (await readdir(dir)).filter((n) => n.startsWith(SEGMENT_PREFIX) && n.endsWith(SEGMENT_SUFFIX));
  const segments: Segment[] = [];
  for (const name of names) {
    const firstSeq = Number(name.slice(SEGMENT_PREFIX.length, -SEGMENT_SUFFIX.length));
    if (!Number.isSafeInteger(firstSeq)) continue;
    const path = join(dir, name);
    segments.push({ firstSeq, path, bytes: (await stat(path)).size });
  }
  return segments.sort((a, b) => a.firstSeq - b.firstSeq);
}

/** meta.json: the spool's epoch, written once when the spool is created. */
const metaFile = z.looseObject({ epoch: z.string().regex(/^[0-9a-z]+$/) });
/** state.json: how far the spool is acknowledged, and what the bound dropped; a value unreadable is 0. */
const stateFile = z.object({ acked: z.int().catch(0), dropped: z.int().catch(0) }) satisfies z.ZodType<State>;

async function readOrCreateEpoch(dir: string, now: () => number): Promise<string> {
  const path = join(dir, 'meta.json');
  const meta = await readJsonFile(path, metaFile);
  if (meta) return meta.epoch;
  // Time-based, so webhook-ids of a spool created anew never repeat those of the one before it.
  const epoch = now().toString(36);
  await writeFileAtomic(path, JSON.stringify({ version: 1, epoch }));
  return epoch;
}

async function readState(dir: string): Promise<State> {
  return (await readJsonFile(join(dir, 'state.json'), stateFile)) ?? { acked: 0, dropped: 0 };
}

async function readAt(path: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}

/** Offset just after the `count`-th newline from `offset`, reading no further than `limit`. */
async function skipLines(path: string, offset: number, count: number, limit: number): Promise<number> {
  let pos = offset;
  let left = count;
  while (left > 0 && pos < limit) {
    const chunk = await readAt(path, pos, Math.min(READ_CHUNK, limit - pos));
    if (chunk.length === 0) break;
    let i = -1;
    while (left > 0 && (i = chunk.indexOf(10, i + 1)) !== -1) left--;
    pos += left === 0 ? i + 1 : chunk.length;
  }
  return pos;
}

/** Whole records in a segment and the bytes they span; anything after the last `\n` is torn. */
async function scanCompleteLines(path: string): Promise<{ records: number; validBytes: number }> {
  const size = (await stat(path)).size;
  let records = 0;
  let validBytes = 0;
  for (let pos = 0; pos < size; ) {
    const chunk = await readAt(path, pos, Math.min(READ_CHUNK, size - pos));
    if (chunk.length === 0) break;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
      records++;
      validBytes = pos + i + 1;
    }
    pos += chunk.length;
  }
  return { records, validBytes };
}
