import type { Clock } from '../../shared/clock.ts';
import { DELIVERED, type SqlDriver } from '../core/sql-store.ts';
import type { EdgeStore } from '../core/store.ts';

/** A device object wakes for a prune at most this often while it keeps delivered events. */
export const PRUNE_EVERY_MS = 24 * 3600_000;

export interface RetentionOptions {
  db: SqlDriver;
  store: Pick<EdgeStore, 'pruneDelivered'>;
  /** The object's AlarmClock: the next prune is one of the timers on its single alarm. */
  clock: Clock;
  /** KEEP_DELIVERED_MS (edge/core/retention.ts) but in tests. */
  keepMs: number;
  log(entry: Record<string, unknown>): void;
}

/**
 * A device object forgets its delivered events once they are older than the retention, as the Node
 * edge does every hour, without a timer that keeps it awake: it prunes when it wakes anyway (a
 * request, a tunnel frame, its alarm) and the prune is due, and while it keeps anything delivered
 * it holds one timer on its alarm for the next prune: when its oldest delivered event comes of age,
 * but at most once per PRUNE_EVERY_MS (a day; shorter only with a shorter retention, in tests).
 * With nothing delivered it holds none. The due time lives in the object's SQLite, because in-memory
 * timers are lost when it hibernates or is evicted; the alarm itself is not, and wakes it then.
 */
export class Retention {
  private due: number | null = null;
  private last = 0;
  private cancel: (() => void) | null = null;
  private readonly every: number;

  constructor(private readonly o: RetentionOptions) {
    this.every = Math.min(PRUNE_EVERY_MS, o.keepMs);
    o.db.script('CREATE TABLE IF NOT EXISTS retention (id INTEGER PRIMARY KEY CHECK (id = 1), due INTEGER, last INTEGER NOT NULL)');
    const row = o.db.all<{ due: number | null; last: number }>('SELECT due, last FROM retention WHERE id = 1')[0];
    if (row) {
      this.due = row.due;
      this.last = row.last;
    }
  }

  /** From the object's constructor: prunes if due, else puts the next prune back on the alarm. */
  async wake(): Promise<void> {
    if (this.due === null) return;
    if (this.due <= this.o.clock.now()) return this.prune();
    this.arm(this.due);
  }

  /** After the delivery loop marked events delivered: arms the next prune if none is armed. */
  delivered(): void {
    if (this.due === null) this.plan(this.o.clock.now());
  }

  private async prune(): Promise<void> {
    const now = this.o.clock.now();
    try {
      const removed = await this.o.store.pruneDelivered(now - this.o.keepMs);
      if (removed > 0) this.o.log({ msg: 'delivered events pruned', removed, keptMs: this.o.keepMs });
    } catch (e) {
      this.o.log({ level: 'error', msg: 'prune failed', error: String(e) });
    }
    this.last = now;
    this.plan(now);
  }

  /** Next prune: when the oldest delivered event comes of age, not sooner than `every` after the last. */
  private plan(now: number): void {
    // The store has no query for this; the table is edge/core/sql-store.ts's, in this object's own
    // SQLite. A scan of one device's events, run after a prune or when the first event is delivered.
    const oldest = this.o.db.all<{ at: number | null }>(`SELECT min(at) AS at FROM events WHERE ${DELIVERED}`)[0]?.at ?? null;
    const due = oldest === null ? null : Math.max(oldest + this.o.keepMs + 1, this.last + this.every, now);
    this.due = due;
    this.o.db.run('INSERT OR REPLACE INTO retention (id, due, last) VALUES (1, ?, ?)', due, this.last);
    this.cancel?.();
    this.cancel = null;
    if (due !== null) this.arm(due);
  }

  private arm(due: number): void {
    this.cancel?.();
    this.cancel = this.o.clock.setTimer(Math.max(0, due - this.o.clock.now()), () => {
      this.cancel = null;
      void this.prune();
    });
  }
}
