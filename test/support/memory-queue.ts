import type { DeadLetter, QueueEntry, ReplayableQueue } from '../../shared/delivery/queue.ts';
import type { RetryState } from '../../shared/delivery/retry-state.ts';

/** The Queue contract in memory, to test the Delivery loop apart from any storage. */
export class MemoryQueue implements ReplayableQueue {
  private readonly all: QueueEntry[] = [];
  private acked = 0;
  private readonly dead: DeadLetter[] = [];
  /** What a restart would find: a new Delivery over the same queue reads it. */
  retryState: RetryState | null = null;

  constructor(private readonly epoch = 'e1') {}

  add(...events: { type: string; body: string }[]): void {
    for (const e of events) this.all.push({ epoch: this.epoch, seq: this.all.length + 1, ...e });
  }

  async peek(n: number): Promise<QueueEntry[]> {
    return this.all.slice(this.acked, this.acked + n);
  }

  async ack(uptoSeq: number): Promise<void> {
    this.acked = Math.max(this.acked, Math.min(uptoSeq, this.all.length));
  }

  async deadLetter(entry: QueueEntry, reason: string): Promise<void> {
    this.dead.push({ ...entry, reason, at: 0 });
    await this.ack(entry.seq);
  }

  async depth(): Promise<number> {
    return this.all.length - this.acked;
  }

  async deadLetterCount(): Promise<number> {
    return this.dead.length;
  }

  async replayFrom(seq: number): Promise<number> {
    this.acked = Math.min(this.acked, Math.max(seq, 1) - 1);
    return this.acked + 1;
  }

  async listDeadLetters(): Promise<DeadLetter[]> {
    return [...this.dead];
  }

  async removeDeadLetter(seq: number): Promise<boolean> {
    const i = this.dead.findIndex((d) => d.seq === seq);
    if (i === -1) return false;
    this.dead.splice(i, 1);
    return true;
  }

  async loadRetryState(): Promise<RetryState | null> {
    return this.retryState;
  }

  async saveRetryState(state: RetryState | null): Promise<void> {
    this.retryState = state;
  }
}
