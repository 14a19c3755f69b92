import type { RetryState } from './retry-state.ts';

/**
 * What the Delivery loop reads from. Implemented by the agent's disk spool (agent/outbox), the edge's
 * SQLite table and a Durable Object's storage (edge/core/device-queue.ts), so every method may be async.
 *
 * Sequence numbers are per queue, strictly increasing, and the loop delivers them in that order.
 */
export interface QueueEntry {
  /** Identifies the spool that numbered `seq`; a new spool starts a new epoch and seq again. */
  readonly epoch: string;
  readonly seq: number;
  /** The event name (`hangup`, `cdr`, ...), for per-device filters. */
  readonly type: string;
  /** The JSON text exactly as it is signed and POSTed. */
  readonly body: string;
  /**
   * The webhook-id's own part when the event's identity comes from what it records (a call
   * backfilled from the box's CDRs: `bf_<hash>`), so sending it again, from any spool, keeps the id.
   */
  readonly id?: string;
}

export interface DeadLetter extends QueueEntry {
  readonly reason: string;
  /** Epoch ms when it was set aside. */
  readonly at: number;
}

export interface Queue {
  /** The oldest entries not yet acknowledged nor dead-lettered, oldest first, at most n. */
  peek(n: number): Promise<readonly QueueEntry[]>;
  /** Every entry with seq <= uptoSeq is done and may be forgotten. */
  ack(uptoSeq: number): Promise<void>;
  /** Sets the head entry aside (kept, listable) and takes it out of the waiting line. */
  deadLetter(entry: QueueEntry, reason: string): Promise<void>;
  /** Entries waiting. */
  depth(): Promise<number>;
  deadLetterCount(): Promise<number>;
  /** The head's retry state as last saved; null when none (the head has not failed). */
  loadRetryState(): Promise<RetryState | null>;
  /** Saves the head's retry state durably; null forgets it (the head was delivered or set aside). */
  saveRetryState(state: RetryState | null): Promise<void>;
}

/** The operator's tools, for queues that keep what they need for them. */
export interface ReplayableQueue extends Queue {
  /**
   * Puts entries from `seq` on back in the waiting line, as far as they are still stored; returns
   * the first seq that will be sent again (greater than `seq` when older ones are gone).
   */
  replayFrom(seq: number): Promise<number>;
  listDeadLetters(): Promise<readonly DeadLetter[]>;
  /** Forgets one dead letter (after it was redelivered); false when there is none with that seq. */
  removeDeadLetter(seq: number): Promise<boolean>;
}

export function isReplayable(queue: Queue): queue is ReplayableQueue {
  const q = queue as Partial<ReplayableQueue>;
  return typeof q.replayFrom === 'function' && typeof q.listDeadLetters === 'function' && typeof q.removeDeadLetter === 'function';
}
