import { open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { QueueEntry } from '../../shared/delivery/queue.ts';
import { syncDir } from './atomic-file.ts';
import type { OutboxState } from './outbox-state.ts';
import { decodeRecord, encodeRecord } from './record.ts';

export interface OutboxEvent {
  type: string;
  /** The JSON text to POST, exactly as it will be signed. */
  body: string;
  /** Its own webhook-id part (QueueEntry.id), for a backfilled record. */
  id?: string;
}

interface Segment {
  firstSeq: number;
  path: string;
  /** Bytes written and fsynced; readers never look past this. */
  bytes: number;
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

export interface SegmentLogOptions {
  /** Bound on segment bytes; when hit, the oldest segment goes and its undelivered events are counted. */
  maxBytes: number;
  /** A segment is closed and a new one started past this size. */
  segmentBytes: number;
  log(entry: Record<string, unknown>): void;
  /** Events are on disk. */
  onAppended(): void;
  /** The bound dropped undelivered events (counted in the state). */
  onDropped(): void;
}

const SEGMENT_PREFIX = 'seg-';
const SEGMENT_SUFFIX = '.log';
const READ_CHUNK = 64 * 1024;

/**
 * The outbox's log: events appended to segment files and fsynced before `append` resolves; events
 * arriving while a write is in flight share the next write and fsync (group commit). Each event gets
 * a `seq` that survives restarts and kill -9. A segment whose entries are all acknowledged (in the
 * state) is deleted; past the disk bound the oldest goes, and what it held undelivered is counted.
 * Memory holds one record per segment, not per event, and the read positions last used.
 */
export class SegmentLog {
  private pending: PendingAppend[] = [];
  private writing: Promise<void> | null = null;
  private active: FileHandle | null = null;
  /** Positions of the records after the last read ones, so ack after peek needs no scan. */
  private window = new Map<number, Position>();
  private cursor: Position | null = null;

  private constructor(
    private readonly dir: string,
    readonly epoch: string,
    private readonly segments: Segment[],
    private next: number,
    private readonly state: OutboxState,
    private readonly o: SegmentLogOptions,
  ) {}

  /** Opens the segments in `dir`, cutting a record torn by a crash off the last one. */
  static async open(dir: string, epoch: string, state: OutboxState, o: SegmentLogOptions): Promise<SegmentLog> {
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
        o.log({ level: 'warn', msg: 'outbox torn record ignored', file: last.path, bytes: last.bytes - validBytes });
        last.bytes = validBytes;
      }
      nextSeq = Math.max(nextSeq, last.firstSeq + records);
    }
    const first = segments[0];
    if (first && state.acked < first.firstSeq - 1) state.acked = first.firstSeq - 1;
    const log = new SegmentLog(dir, epoch, segments, nextSeq, state, o);
    await log.deleteDelivered();
    return log;
  }

  /** The seq the next event gets. */
  get nextSeq(): number {
    return this.next;
  }

  /** The oldest seq still on disk (what a replay can start from). */
  get oldestSeq(): number {
    return this.segments[0]?.firstSeq ?? this.next;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  bytesOnDisk(): number {
    return this.segments.reduce((sum, s) => sum + s.bytes, 0);
  }

  /** Resolves with the seqs given to `events`, in order, once they are on disk. */
  append(events: readonly OutboxEvent[]): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ events, resolve, reject });
      this.flush();
    });
  }

  /** Up to `n` entries from `start` on, oldest first. */
  async read(start: number, n: number): Promise<QueueEntry[]> {
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

  /** The head of the line is now `head`: its position is known when it was just read. */
  headAt(head: number): void {
    this.cursor = this.window.get(head) ?? this.cursor;
  }

  /** The head moved back (a replay): it is found again by counting from its segment's start. */
  rewound(): void {
    this.cursor = null;
  }

  /** Waits for the appends in flight. */
  async drain(): Promise<void> {
    while (this.writing) await this.writing;
  }

  async close(): Promise<void> {
    await this.active?.close();
    this.active = null;
  }

  /** Deletes closed segments whose every entry is acknowledged; the active one stays for appends. */
  async deleteDelivered(): Promise<void> {
    while (this.segments.length > 1 && this.segments[1]!.firstSeq - 1 <= this.state.acked) {
      const done = this.segments.shift()!;
      if (this.cursor?.segment === done) this.cursor = null;
      await unlink(done.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }

  private flush(): void {
    if (this.writing) return;
    this.writing = this.writeLoop().finally(() => {
      this.writing = null;
      // An append made after the loop's last look at `pending` (a resolved caller appending again).
      if (this.pending.length > 0) this.flush();
    });
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
        if (seqs.length > 0) this.o.onAppended();
      } catch (err) {
        this.o.log({ level: 'error', msg: 'outbox write failed', error: (err as Error).message, events: batch.reduce((n, p) => n + p.events.length, 0) });
        for (const p of batch) p.reject(err as Error);
      }
    }
  }

  private async write(events: readonly OutboxEvent[]): Promise<number[]> {
    if (events.length === 0) return [];
    const first = this.next;
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
    this.next += events.length;
    return events.map((_, i) => first + i);
  }

  /** Starts a segment when the active one is full, and drops the oldest segments past the bound. */
  private async makeRoom(incoming: number): Promise<void> {
    const last = this.segments.at(-1);
    if (!last || (last.bytes > 0 && last.bytes + incoming > this.o.segmentBytes)) await this.rotate();
    while (this.bytesOnDisk() + incoming > this.o.maxBytes && this.segments.length > 1) {
      const oldest = this.segments.shift()!;
      const lastSeq = this.segments[0]!.firstSeq - 1;
      const lost = lastSeq - Math.max(this.state.acked, oldest.firstSeq - 1);
      if (lost > 0) {
        this.state.dropped += lost;
        this.state.acked = lastSeq;
        this.o.log({ level: 'error', msg: 'outbox full: oldest undelivered events dropped', count: lost, fromSeq: lastSeq - lost + 1, toSeq: lastSeq, droppedTotal: this.state.dropped, maxBytes: this.o.maxBytes });
        await this.state.save();
        this.o.onDropped();
      }
      if (this.cursor?.segment === oldest) this.cursor = null;
      await unlink(oldest.path);
    }
  }

  private async rotate(): Promise<void> {
    await this.active?.close();
    this.active = null;
    const segment: Segment = { firstSeq: this.next, path: join(this.dir, segmentName(this.next)), bytes: 0 };
    this.active = await open(segment.path, 'a');
    await syncDir(this.dir);
    this.segments.push(segment);
    await this.deleteDelivered();
  }

  private async activeHandle(segment: Segment): Promise<FileHandle> {
    this.active ??= await open(segment.path, 'a');
    return this.active;
  }

  /** Up to n entries from `start` on; the positions after each land in `window` for the next read. */
  private async readFrom(start: number, n: number): Promise<QueueEntry[]> {
    const entries: QueueEntry[] = [];
    if (start >= this.next || n <= 0) return entries;
    let pos = await this.locate(start);
    this.window.clear();
    while (entries.length < n && pos.seq < this.next) {
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
