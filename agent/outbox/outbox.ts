import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeadLetter, QueueEntry, ReplayableQueue } from '../../shared/delivery/queue.ts';
import type { RetryState } from '../../shared/delivery/retry-state.ts';
import { DeadLetterFile } from './dead-letter-file.ts';
import { OutboxState, readOrCreateEpoch } from './outbox-state.ts';
import { SegmentLog, type OutboxEvent } from './segment-log.ts';

export type { OutboxEvent } from './segment-log.ts';

export interface OutboxOptions {
  dir: string;
  /** Bound on segment bytes; when hit, the oldest segment goes and its undelivered events are counted. */
  maxBytes?: number;
  /** A segment is closed and a new one started past this size. */
  segmentBytes?: number;
  now?: () => number;
  log?: (entry: Record<string, unknown>) => void;
}

/** What the options default to, written once. */
export const OUTBOX_DEFAULTS = { maxBytes: 256 * 1024 * 1024, segmentBytes: 4 * 1024 * 1024, now: Date.now, log: () => {} } satisfies Required<
  Omit<OutboxOptions, 'dir'>
>;

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

/**
 * The agent's durable event spool (docs/api.md "What nothing lost means"): a thin facade over its log
 * (segment-log.ts: appends fsynced before they resolve, group commit, reads by seq, the disk bound),
 * its state (outbox-state.ts: how far it is acknowledged, what the bound dropped, the epoch) and its
 * dead letters (dead-letter-file.ts). Entries leave only when acknowledged (delivered here, or by the
 * edge over the tunnel).
 */
export class Outbox implements ReplayableQueue {
  private readonly listeners = new Set<() => void>();
  private readonly dropListeners = new Set<() => void>();
  private acksSaved: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly entries: SegmentLog,
    private readonly state: OutboxState,
    private readonly deadLetters: DeadLetterFile,
    private readonly now: () => number,
    private readonly log: (entry: Record<string, unknown>) => void,
  ) {}

  get epoch(): string {
    return this.entries.epoch;
  }

  static async open(opts: OutboxOptions): Promise<Outbox> {
    const { dir, maxBytes, segmentBytes, now, log } = { ...OUTBOX_DEFAULTS, ...opts };
    // The bound drops whole segments, so it must hold several of them to drop only the oldest events.
    if (segmentBytes * 4 > maxBytes) throw new RangeError(`outbox segmentBytes (${segmentBytes}) must be at most a quarter of maxBytes (${maxBytes})`);
    await mkdir(dir, { recursive: true });
    const epoch = await readOrCreateEpoch(dir, now);
    const state = await OutboxState.open(dir);
    let box: Outbox | undefined;
    const entries = await SegmentLog.open(dir, epoch, state, {
      maxBytes,
      segmentBytes,
      log,
      onAppended: () => box?.notify(box.listeners),
      onDropped: () => box?.notify(box.dropListeners),
    });
    box = new Outbox(entries, state, await DeadLetterFile.open(join(dir, 'dead-letters.jsonl')), now, log);
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
    return this.entries.append(events);
  }

  async peek(n: number): Promise<QueueEntry[]> {
    return this.entries.read(this.state.acked + 1, n);
  }

  /**
   * Up to `max` waiting entries with seq > `after`, oldest first: the tunnel sends ahead of what the
   * edge has acknowledged, so it reads past the head of the line.
   */
  async readAfter(after: number, max: number): Promise<QueueEntry[]> {
    return this.entries.read(Math.max(after + 1, this.state.acked + 1), max);
  }

  async ack(uptoSeq: number): Promise<void> {
    const upto = Math.min(uptoSeq, this.entries.nextSeq - 1);
    if (upto <= this.state.acked) return;
    this.state.acked = upto;
    this.entries.headAt(upto + 1);
    // Persisted in the background and coalesced, so delivery does not wait for a rename and two
    // fsyncs per event. A crash before the write lands resends events already delivered, under the
    // same webhook-id, which at-least-once delivery allows.
    this.acksSaved = this.state
      .save()
      .then(() => this.entries.deleteDelivered())
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
    await this.state.save();
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
  loadRetryState(): Promise<RetryState | null> {
    return this.state.loadRetryState();
  }

  saveRetryState(state: RetryState | null): Promise<void> {
    return this.state.saveRetryState(state);
  }

  /** Only what is still on disk can be replayed: segments are deleted once fully acknowledged. */
  async replayFrom(seq: number): Promise<number> {
    const nextSeq = this.entries.nextSeq;
    const from = Math.min(Math.max(seq, this.entries.oldestSeq, 1), nextSeq);
    if (from - 1 < this.state.acked) {
      this.state.acked = from - 1;
      this.entries.rewound();
      await this.state.save();
    }
    return from;
  }

  stats(): OutboxStats {
    const waiting = this.waiting();
    return {
      epoch: this.epoch,
      waiting,
      oldestSeq: waiting > 0 ? this.state.acked + 1 : null,
      nextSeq: this.entries.nextSeq,
      dropped: this.state.dropped,
      bytesOnDisk: this.entries.bytesOnDisk(),
      segments: this.entries.segmentCount,
      deadLetters: this.deadLetters.count,
    };
  }

  /** Waits for appends in flight; later appends are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.entries.drain();
    await this.acksSaved;
    await this.state.flushed();
    await this.entries.close();
  }

  private waiting(): number {
    return this.entries.nextSeq - 1 - this.state.acked;
  }

  private notify(listeners: Set<() => void>): void {
    for (const l of listeners) l();
  }
}
