import type { SqlDriver } from './sql-driver.ts';

type Durability = 'full' | 'relaxed';

interface Write {
  run: () => void;
  durability: Durability;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Writes queued until `defer` fires share one transaction, so 100 devices acking or committing at
 * once pay for one commit (and at most one fsync) instead of 100. Each write runs in a nested
 * transaction of its own: one that throws is rolled back and rejected alone. Each promise settles
 * only after the shared commit, so a caller still acts only on durable state.
 */
export class GroupCommit {
  private queue: Write[] = [];

  constructor(
    private readonly db: SqlDriver,
    /** Runs the flush after the I/O callbacks already due (setImmediate on Node); absent: no grouping. */
    private readonly defer?: (fn: () => void) => void,
  ) {}

  write(run: () => void, durability: Durability = 'full'): Promise<void> {
    if (!this.defer) {
      try {
        this.db.transaction(run, durability);
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ run, durability, resolve, reject });
      if (this.queue.length === 1) this.defer!(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    const failed = new Map<Write, unknown>();
    try {
      this.db.transaction(() => {
        for (const w of batch) {
          try {
            this.db.transaction(w.run);
          } catch (e) {
            failed.set(w, e);
          }
        }
      }, batch.some((w) => w.durability === 'full') ? 'full' : 'relaxed');
    } catch (e) {
      for (const w of batch) w.reject(e);
      return;
    }
    for (const w of batch) (failed.has(w) ? w.reject(failed.get(w)) : w.resolve());
  }
}
