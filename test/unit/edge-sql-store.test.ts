import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../edge/node/sqlite-store.ts';
import { tempDataDir } from '../support/edge-harness.ts';

const MAC = '02:00:00:00:00:01';
const events = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ seq: from + i, type: 'hangup', body: `{"n":${from + i}}` }));

describe('SQLite edge store: delivery acks', () => {
  let store: SqliteStore;
  let dir: { dir: string; remove(): void };
  afterEach(() => {
    store.close();
    dir.remove();
  });
  const open = () => {
    dir = tempDataDir();
    store = openSqliteStore(`${dir.dir}/edge.sqlite`);
  };

  it('marks delivered only the head run of one epoch up to the acked seq', async () => {
    open();
    await store.commitEvents(MAC, 'old', events(5, 3), 1);
    await store.commitEvents(MAC, 'new', events(0, 3), 2);
    // seq 6 of the old epoch: 5 and 6 go, 7 stays; the new epoch's 0..2 are not touched though below 6.
    await store.ackEvents(MAC, 6);
    expect((await store.peekEvents(MAC, 10)).map((e) => `${e.epoch}:${e.seq}`)).toEqual(['old:7', 'new:0', 'new:1', 'new:2']);
    // Past the end of the old epoch: stops at the new epoch's first event.
    await store.ackEvents(MAC, 100);
    expect((await store.peekEvents(MAC, 10)).map((e) => `${e.epoch}:${e.seq}`)).toEqual(['new:0', 'new:1', 'new:2']);
    await store.ackEvents(MAC, 1);
    expect(await store.waitingCount(MAC)).toBe(1);
    await store.ackEvents(MAC, 2);
    expect(await store.peekEvents(MAC, 10)).toEqual([]);
  });

  it('keeps acks and committed events across a reopen', async () => {
    open();
    const file = `${dir.dir}/edge.sqlite`;
    await store.commitEvents(MAC, 'e', events(0, 4), 1);
    await store.ackEvents(MAC, 1);
    store.close();
    store = openSqliteStore(file);
    expect((await store.peekEvents(MAC, 10)).map((e) => e.seq)).toEqual([2, 3]);
    expect(await store.committedSeq(MAC, 'e')).toBe(3);
  });
});

describe('SQLite edge store: what a restart keeps besides events', () => {
  let store: SqliteStore;
  let dir: { dir: string; remove(): void };
  afterEach(() => {
    store.close();
    dir.remove();
  });

  it('keeps the head retry state and idempotent answers across a reopen, and forgets expired answers', async () => {
    dir = tempDataDir();
    const file = `${dir.dir}/edge.sqlite`;
    store = openSqliteStore(file);
    const state = { epoch: 'e', seq: 7, attempts: 3, rejections: 0, nextAttemptAt: 1_000_000, lastError: { at: 5, status: 500, message: 'receiver answered 500' } };
    await store.putRetryState(MAC, state);
    await store.putIdempotent('dev\nclick-number\nk1', { fingerprint: 'f', answer: { status: 200, body: { status: 'success' } }, expiresAt: 2_000 }, 1_000);
    store.close();
    store = openSqliteStore(file);
    expect(await store.getRetryState(MAC)).toEqual(state);
    expect(await store.getIdempotent('dev\nclick-number\nk1', 1_500)).toEqual({ fingerprint: 'f', answer: { status: 200, body: { status: 'success' } }, expiresAt: 2_000 });
    expect(await store.getIdempotent('dev\nclick-number\nk1', 2_000)).toBeUndefined();
    // A later write prunes what expired.
    await store.putIdempotent('dev\nclick-number\nk2', { fingerprint: 'g', answer: { status: 200, body: null }, expiresAt: 9_000 }, 3_000);
    expect(await store.getIdempotent('dev\nclick-number\nk1', 0)).toBeUndefined();
    await store.putRetryState(MAC, null);
    expect(await store.getRetryState(MAC)).toBeNull();
  });
});

describe('SQLite edge store: events with their own webhook-id part', () => {
  let store: SqliteStore;
  let dir: { dir: string; remove(): void };
  afterEach(() => {
    store.close();
    dir.remove();
  });

  it('keeps a backfilled event id through commit, peek and dead letters, and adds the column to an older file', async () => {
    dir = tempDataDir();
    const file = `${dir.dir}/edge.sqlite`;
    // A file written before the column existed.
    const old = openSqliteStore(file);
    old.close();
    const raw = (await import('../../edge/node/sqlite-store.ts')).sqliteEngine() === 'node:sqlite'
      ? (await import('../../edge/node/sqlite-node.ts')).openNodeSqlite(file)
      : (await import('../../edge/node/sqlite-better.ts')).openBetterSqlite(file);
    raw.driver.script('DROP TABLE events; CREATE TABLE events (pos INTEGER PRIMARY KEY AUTOINCREMENT, mac TEXT NOT NULL, epoch TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL, at INTEGER NOT NULL, reason TEXT, dead_at INTEGER, UNIQUE (mac, epoch, seq))');
    raw.close();
    store = openSqliteStore(file);
    const id = `bf_${'a'.repeat(32)}`;
    await store.commitEvents(MAC, 'e', [{ seq: 0, type: 'cdr', body: '{}', id }, { seq: 1, type: 'cdr', body: '{}' }], 1);
    expect(await store.peekEvents(MAC, 10)).toEqual([
      { epoch: 'e', seq: 0, type: 'cdr', body: '{}', id },
      { epoch: 'e', seq: 1, type: 'cdr', body: '{}' },
    ]);
    await store.deadLetter(MAC, { epoch: 'e', seq: 0, type: 'cdr', body: '{}', id }, 'x', 2);
    expect((await store.listDeadLetters(MAC))[0]).toMatchObject({ seq: 0, id });
  });
});
