import type { Clock } from '../../shared/clock.ts';
import type { DurableObjectStorage } from './platform.ts';

/**
 * The Delivery loop's clock in a Durable Object: every wait is one entry under the object's single
 * alarm, so a retry 5 h away neither keeps the object awake (a setTimeout would) nor is lost when it
 * sleeps. If the object was evicted meanwhile, the alarm wakes a fresh one with no timers: its
 * alarm() handler kicks delivery instead, which sends what still waits in storage.
 *
 * setAlarm is a storage write, and a write holds the object's next fetch until it is durable: the
 * alarm is moved only when a timer falls before it, not for every timer. Each webhook sets a 15 s
 * timeout, which set the alarm again before every POST: one commit per event on the path.
 */
export class AlarmClock implements Clock {
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;
  /** When the alarm is set for, as far as this instance knows; null: not set since it last fired. */
  private armed: number | null = null;

  constructor(
    private readonly storage: Pick<DurableObjectStorage, 'setAlarm'>,
    private readonly log: (entry: Record<string, unknown>) => void,
  ) {}

  now(): number {
    return Date.now();
  }

  setTimer(ms: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.timers.set(id, { at: Date.now() + ms, fn });
    this.schedule();
    return () => {
      this.timers.delete(id);
    };
  }

  /** From the object's alarm(): runs what is due and arms the alarm for the rest. */
  fire(): void {
    this.armed = null;
    const now = Date.now();
    for (const [id, t] of [...this.timers]) {
      if (t.at > now) continue;
      this.timers.delete(id);
      t.fn();
    }
    this.schedule();
  }

  // A cancelled timer leaves the alarm armed: an early alarm runs nothing due, arms for the rest,
  // and costs one wake-up.
  private schedule(): void {
    let earliest = Infinity;
    for (const t of this.timers.values()) earliest = Math.min(earliest, t.at);
    if (earliest === Infinity || (this.armed !== null && this.armed <= earliest)) return;
    this.armed = earliest;
    this.storage.setAlarm(earliest).catch((e: unknown) => {
      if (this.armed === earliest) this.armed = null;
      this.log({ level: 'error', msg: 'setAlarm failed', error: String(e) });
    });
  }
}
