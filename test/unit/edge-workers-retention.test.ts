import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../shared/clock.ts';
import { KEEP_DELIVERED_MS } from '../../edge/core/retention.ts';
import { createSqlStore } from '../../edge/core/sql-store.ts';
import type { EdgeStore } from '../../edge/core/store.ts';
import { openBetterSqlite } from '../../edge/node/sqlite-better.ts';
import { openNodeSqlite, type SqliteFile } from '../../edge/node/sqlite-node.ts';
import { sqliteEngine } from '../../edge/node/sqlite-store.ts';
import { PRUNE_EVERY_MS, Retention } from '../../edge/workers/retention.ts';
import { tempDataDir } from '../support/edge-harness.ts';
import { ManualClock } from '../support/manual-clock.ts';

const MAC = '02:00:00:00:00:01';
const DAY = 24 * 3600_000;
const T0 = Date.UTC(2026, 0, 1);

/** A device object's clock as retention sees it: the timers it holds on the alarm, when each is due. */
class AlarmTimers implements Clock {
  readonly armed = new Map<number, number>();
  private next = 0;
  constructor(readonly manual: ManualClock) {}
  now(): number {
    return this.manual.now();
  }
  setTimer(ms: number, fn: () => void): () => void {
    const id = this.next++;
    this.armed.set(id, this.now() + ms);
    const cancel = this.manual.setTimer(ms, () => {
      this.armed.delete(id);
      fn();
    });
    return () => {
      this.armed.delete(id);
      cancel();
    };
  }
  get dueTimes(): number[] {
    return [...this.armed.values()];
  }
}

describe('Workers edge: a device object prunes its delivered events by alarm', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });

  function open(): { file: SqliteFile; store: EdgeStore; retention(clock: AlarmTimers): Retention } {
    const dir = tempDataDir();
    const path = `${dir.dir}/device.sqlite`;
    const file = sqliteEngine() === 'node:sqlite' ? openNodeSqlite(path) : openBetterSqlite(path);
    cleanups.push(() => dir.remove(), () => file.close());
    const store = createSqlStore(file.driver);
    return { file, store, retention: (clock) => new Retention({ db: file.driver, store, clock, keepMs: KEEP_DELIVERED_MS, log: () => {} }) };
  }
  const deliver = async (store: EdgeStore, seq: number, at: number) => {
    await store.commitEvents(MAC, 'e', [{ seq, type: 'hangup', body: `{"n":${seq}}` }], at);
    await store.ackEvents(MAC, seq);
  };
  const kept = async (store: EdgeStore) => {
    const first = await store.replayFrom(MAC, 0);
    await store.ackEvents(MAC, 1e9);
    return first;
  };

  it('holds no alarm while nothing delivered is kept, and one for when the oldest comes of age', async () => {
    const { store, retention } = open();
    const clock = new AlarmTimers(new ManualClock(T0));
    const r = retention(clock);
    await r.wake();
    expect(clock.dueTimes).toEqual([]);
    await deliver(store, 0, T0);
    r.delivered();
    r.delivered();
    expect(clock.dueTimes).toEqual([T0 + KEEP_DELIVERED_MS + 1]);
    clock.manual.advanceTo(T0 + KEEP_DELIVERED_MS + 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await kept(store)).toBe(-1);
    // Nothing delivered left: no alarm until the next delivery.
    expect(clock.dueTimes).toEqual([]);
  });

  it('wakes at most once a day for it while events keep being delivered', async () => {
    const { store, retention } = open();
    const clock = new AlarmTimers(new ManualClock(T0));
    const r = retention(clock);
    await deliver(store, 0, T0);
    r.delivered();
    await deliver(store, 1, T0 + 3600_000);
    r.delivered();
    clock.manual.advanceTo(T0 + KEEP_DELIVERED_MS + 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await kept(store)).toBe(1);
    // seq 1 comes of age an hour later, but the next prune waits a day.
    expect(clock.dueTimes).toEqual([T0 + KEEP_DELIVERED_MS + 1 + PRUNE_EVERY_MS]);
    expect(PRUNE_EVERY_MS).toBe(DAY);
  });

  it('a prune that fell due while the object was evicted runs when it wakes again', async () => {
    const { store, retention } = open();
    const before = new AlarmTimers(new ManualClock(T0));
    await deliver(store, 0, T0);
    retention(before).delivered();
    await deliver(store, 1, T0 + 2 * DAY);
    // A new object on the same storage, its timers gone, woken after seq 0 came of age.
    const after = new AlarmTimers(new ManualClock(T0 + KEEP_DELIVERED_MS + 3600_000));
    await retention(after).wake();
    expect(await kept(store)).toBe(1);
    expect(after.dueTimes).toEqual([T0 + 2 * DAY + KEEP_DELIVERED_MS + 1]);
    // Woken before anything was due, it only puts the timer back on the alarm.
    const early = new AlarmTimers(new ManualClock(T0 + KEEP_DELIVERED_MS + 2 * 3600_000));
    await retention(early).wake();
    expect(early.dueTimes).toEqual([T0 + 2 * DAY + KEEP_DELIVERED_MS + 1]);
    expect(await kept(store)).toBe(1);
  });
});
