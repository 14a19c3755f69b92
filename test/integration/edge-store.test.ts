import { afterEach, describe, expect, it } from 'vitest';
import type { EdgeStore } from '../../edge/core/store.ts';
import { openPgStore } from '../../edge/node/pg-store.ts';
import { openSqliteStore, type SqliteStore } from '../../edge/node/sqlite-store.ts';
import { tempDataDir } from '../support/edge-harness.ts';
import { postgresForFile } from '../support/postgres-for-file.ts';

const MAC = '02:00:00:00:00:01';
const OTHER = '02:00:00:00:00:02';
const events = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ seq: from + i, type: 'hangup', body: `{"n":${from + i}}` }));

type Opened = EdgeStore & { close(): void | Promise<void> };
/** Where one test's store lives: opened again on the same storage, as after an edge restart. */
interface Place {
  open(): Promise<Opened>;
  remove(): void;
}

const pg = postgresForFile();

const backends: { name: string; place(): Promise<Place> }[] = [
  {
    name: 'SQLite',
    async place() {
      const dir = tempDataDir();
      return { open: async () => openSqliteStore(`${dir.dir}/edge.sqlite`), remove: dir.remove };
    },
  },
  {
    name: 'PostgreSQL',
    async place() {
      const url = await pg().createDatabase();
      return { open: () => openPgStore(url), remove: () => {} };
    },
  },
];

describe.each(backends)('$name edge store', (backend) => {
  let store: Opened;
  let place: Place;
  afterEach(async () => {
    await store.close();
    place.remove();
  });
  const open = async () => {
    place = await backend.place();
    store = await place.open();
  };
  const reopen = async () => {
    await store.close();
    store = await place.open();
  };

  it('marks delivered only the head run of one epoch up to the acked seq', async () => {
    await open();
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

  it('ignores replays at or below the committed seq, within a batch too, and after they were pruned', async () => {
    await open();
    await store.commitEvents(MAC, 'e', events(0, 3), 1);
    // 1..2 again, 3 new, then 2 once more inside the same batch: only 3 and 4 are stored.
    await store.commitEvents(MAC, 'e', [...events(1, 3), ...events(2, 1), ...events(4, 1)], 2);
    expect((await store.peekEvents(MAC, 10)).map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(await store.committedSeq(MAC, 'e')).toBe(4);
    expect(await store.committedSeq(MAC, 'other')).toBe(-1);
    await store.ackEvents(MAC, 4);
    expect(await store.pruneDelivered(3)).toBe(5);
    await store.commitEvents(MAC, 'e', events(0, 5), 4);
    expect(await store.waitingCount(MAC)).toBe(0);
    expect(await store.committedSeq(MAC, 'e')).toBe(4);
  });

  it('acks of one device leave another\u2019s line alone; after a replay, acks go forward again and a prune takes only what was delivered', async () => {
    await open();
    for (let seq = 0; seq < 3; seq++) {
      await store.commitEvents(MAC, 'e', events(seq, 1), 1);
      await store.commitEvents(OTHER, 'e', events(seq, 1), 1);
    }
    await store.ackEvents(MAC, 2);
    expect([await store.waitingCount(MAC), await store.waitingCount(OTHER)]).toEqual([0, 3]);
    expect(await store.replayFrom(MAC, 1)).toBe(1);
    expect((await store.peekEvents(MAC, 10)).map((e) => e.seq)).toEqual([1, 2]);
    await store.ackEvents(MAC, 1);
    expect((await store.peekEvents(MAC, 10)).map((e) => e.seq)).toEqual([2]);
    expect(await store.pruneDelivered(10)).toBe(2);
    expect((await store.peekEvents(MAC, 10)).map((e) => e.seq)).toEqual([2]);
    expect((await store.peekEvents(OTHER, 10)).map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(await store.replayFrom(MAC, 0)).toBe(-1);
  });

  it('replays delivered events of the latest epoch and redelivers a dead letter by its seq', async () => {
    await open();
    await store.commitEvents(MAC, 'a', events(0, 2), 1);
    await store.commitEvents(MAC, 'b', events(0, 4), 1);
    await store.ackEvents(MAC, 1);
    await store.ackEvents(MAC, 3);
    expect(await store.replayFrom(MAC, 2)).toBe(2);
    expect((await store.peekEvents(MAC, 10)).map((e) => `${e.epoch}:${e.seq}`)).toEqual(['b:2', 'b:3']);
    expect(await store.replayFrom(MAC, 9)).toBe(-1);
    await store.deadLetter(MAC, { epoch: 'b', seq: 2, type: 'hangup', body: '{"n":2}' }, 'receiver answered 410', 7);
    expect(await store.deadLetterCount(MAC)).toBe(1);
    expect(await store.listDeadLetters(MAC)).toEqual([{ epoch: 'b', seq: 2, type: 'hangup', body: '{"n":2}', reason: 'receiver answered 410', at: 7 }]);
    expect(await store.removeDeadLetter(MAC, 2)).toBe(true);
    expect(await store.removeDeadLetter(MAC, 2)).toBe(false);
    expect(await store.deleteDevice(MAC)).toBe(false);
    expect(await store.waitingCount(MAC)).toBe(0);
    expect(await store.committedSeq(MAC, 'b')).toBe(-1);
  });

  it('keeps acks and committed events across a reopen', async () => {
    await open();
    await store.commitEvents(MAC, 'e', events(0, 4), 1);
    await store.ackEvents(MAC, 1);
    await reopen();
    expect((await store.peekEvents(MAC, 10)).map((e) => e.seq)).toEqual([2, 3]);
    expect(await store.committedSeq(MAC, 'e')).toBe(3);
  });

  it('keeps the head retry state and idempotent answers across a reopen, and forgets expired answers', async () => {
    await open();
    const state = { epoch: 'e', seq: 7, attempts: 3, rejections: 0, nextAttemptAt: 1_000_000, lastError: { at: 5, status: 500, message: 'receiver answered 500' } };
    await store.putRetryState(MAC, state);
    await store.putIdempotent('dev\nclick-number\nk1', { fingerprint: 'f', answer: { status: 200, body: { status: 'success' } }, expiresAt: 2_000 }, 1_000);
    await reopen();
    expect(await store.getRetryState(MAC)).toEqual(state);
    expect(await store.getIdempotent('dev\nclick-number\nk1', 1_500)).toEqual({ fingerprint: 'f', answer: { status: 200, body: { status: 'success' } }, expiresAt: 2_000 });
    expect(await store.getIdempotent('dev\nclick-number\nk1', 2_000)).toBeUndefined();
    // A later write prunes what expired.
    await store.putIdempotent('dev\nclick-number\nk2', { fingerprint: 'g', answer: { status: 200, body: null }, expiresAt: 9_000 }, 3_000);
    expect(await store.getIdempotent('dev\nclick-number\nk1', 0)).toBeUndefined();
    await store.putRetryState(MAC, null);
    expect(await store.getRetryState(MAC)).toBeNull();
  });

  it('keeps a backfilled event id through commit, peek and dead letters', async () => {
    await open();
    const id = `bf_${'a'.repeat(32)}`;
    await store.commitEvents(MAC, 'e', [{ seq: 0, type: 'cdr', body: '{}', id }, { seq: 1, type: 'cdr', body: '{}' }], 1);
    expect(await store.peekEvents(MAC, 10)).toEqual([
      { epoch: 'e', seq: 0, type: 'cdr', body: '{}', id },
      { epoch: 'e', seq: 1, type: 'cdr', body: '{}' },
    ]);
    await store.deadLetter(MAC, { epoch: 'e', seq: 0, type: 'cdr', body: '{}', id }, 'x', 2);
    expect((await store.listDeadLetters(MAC))[0]).toMatchObject({ seq: 0, id });
  });

  it('a key or device looked up again reads what was last written: removed, replaced or deleted', async () => {
    await open();
    await store.createTenant({ id: 't1', name: 'one', createdAt: 1 });
    await store.addTenantKey({ id: 'k1', tenant: 't1', hash: 'h1', createdAt: 1 });
    expect(await store.findTenantKey('h1')).toMatchObject({ id: 'k1', tenant: 't1' });
    const found = (await store.findTenantKey('h1'))!;
    found.tenant = 'changed by a caller';
    expect(await store.findTenantKey('h1')).toMatchObject({ tenant: 't1' });
    await store.removeTenantKey('t1', 'k1');
    expect(await store.findTenantKey('h1')).toBeUndefined();

    const device = { mac: MAC, tenant: 't1', tokenHash: 'a', url: null, allowUnauthenticated: false, allowWebkey: false, webhookSecret: 'whsec_x', types: ['hangup'], createdAt: 1 };
    await store.putDevice(device);
    expect(await store.getDevice(MAC)).toMatchObject({ tokenHash: 'a', types: ['hangup'] });
    await store.putDevice({ ...device, tokenHash: 'b', url: 'https://crm.example.com/hook' });
    expect(await store.getDevice(MAC)).toMatchObject({ tokenHash: 'b', url: 'https://crm.example.com/hook' });
    await store.deleteDevice(MAC);
    expect(await store.getDevice(MAC)).toBeUndefined();
  });
});

describe('SQLite edge store: a file from an older edge', () => {
  const removals: (() => void)[] = [];
  afterEach(() => {
    for (const r of removals.splice(0).reverse()) r();
  });

  /** A file this edge wrote (`fill`), then turned by `older` (SQL) into what an older edge left; opened by this edge. */
  async function olderFile(fill: (store: SqliteStore) => Promise<unknown>, older: string): Promise<{ store: SqliteStore; file: string }> {
    const dir = tempDataDir();
    removals.push(dir.remove);
    const file = `${dir.dir}/edge.sqlite`;
    const before = openSqliteStore(file);
    await fill(before);
    before.close();
    const raw = await openRaw(file);
    raw.driver.script(older);
    raw.close();
    const store = openSqliteStore(file);
    removals.push(() => store.close());
    return { store, file };
  }

  it('gets the webhook-id column added when it is opened', async () => {
    // A file written before the column existed.
    const { store } = await olderFile(
      async () => {},
      'DROP TABLE events; CREATE TABLE events (pos INTEGER PRIMARY KEY AUTOINCREMENT, mac TEXT NOT NULL, epoch TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL, at INTEGER NOT NULL, reason TEXT, dead_at INTEGER, UNIQUE (mac, epoch, seq))',
    );
    const id = `bf_${'a'.repeat(32)}`;
    await store.commitEvents(MAC, 'e', [{ seq: 0, type: 'cdr', body: '{}', id }], 1);
    expect(await store.peekEvents(MAC, 10)).toEqual([{ epoch: 'e', seq: 0, type: 'cdr', body: '{}', id }]);
  });

  it('keeps the rows an older edge marked delivered as delivered: not sent again, replayed and pruned like this edge\u2019s', async () => {
    // An older edge acked by marking each row, and had no delivered positions.
    const { store } = await olderFile((before) => before.commitEvents(MAC, 'e', events(0, 3), 1), "UPDATE events SET state = 'done' WHERE seq < 2; DROP TABLE delivered");
    expect((await store.peekEvents(MAC, 10)).map((e) => e.seq)).toEqual([2]);
    expect(await store.waitingCount(MAC)).toBe(1);
    expect(await store.replayFrom(MAC, 1)).toBe(1);
    expect((await store.peekEvents(MAC, 10)).map((e) => e.seq)).toEqual([1, 2]);
    await store.ackEvents(MAC, 2);
    expect(await store.pruneDelivered(10)).toBe(3);
  });

  it('keeps its waiting line, acks and dead letters when it is opened by this edge, with the indexes this edge keeps', async () => {
    const { store, file } = await olderFile(
      async (before) => {
        await before.commitEvents(MAC, 'e', events(0, 6), 1);
        await before.ackEvents(MAC, 1);
        const [third] = await before.peekEvents(MAC, 1);
        await before.deadLetter(MAC, third!, 'refused', 2);
      },
      // The table and indexes an older edge had: UNIQUE (mac, epoch, seq) and two partial indexes.
      `CREATE TABLE old AS SELECT * FROM events; DROP TABLE events;
       CREATE TABLE events (pos INTEGER PRIMARY KEY AUTOINCREMENT, mac TEXT NOT NULL, epoch TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, wid TEXT, state TEXT NOT NULL, at INTEGER NOT NULL, reason TEXT, dead_at INTEGER, UNIQUE (mac, epoch, seq));
       INSERT INTO events SELECT * FROM old; DROP TABLE old;
       CREATE INDEX events_waiting ON events (mac, pos) WHERE state = 'waiting'; CREATE INDEX events_dead ON events (mac, pos) WHERE state = 'dead'`,
    );
    expect((await store.peekEvents(MAC, 10)).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(await store.waitingCount(MAC)).toBe(3);
    expect((await store.listDeadLetters(MAC)).map((e) => e.seq)).toEqual([2]);
    await store.ackEvents(MAC, 4);
    expect((await store.peekEvents(MAC, 10)).map((e) => e.seq)).toEqual([5]);
    const after = await openRaw(file);
    expect(after.driver.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY name")).toEqual([{ name: 'events_line' }]);
    after.close();
  });
});

describe('SQLite store: an older edge\u2019s UNIQUE event table, copied without it', () => {
  const removals: (() => void)[] = [];
  afterEach(() => {
    for (const r of removals.splice(0).reverse()) r();
  });

  it('keeps every row and position, never reuses a pruned one, and still stores an event once', async () => {
    const dir = tempDataDir();
    removals.push(dir.remove);
    const file = `${dir.dir}/edge.sqlite`;
    const raw = await openRaw(file);
    // What an older edge left: five events, the newest two pruned, so AUTOINCREMENT is ahead of max(pos).
    raw.driver.script(`CREATE TABLE events (pos INTEGER PRIMARY KEY AUTOINCREMENT, mac TEXT NOT NULL, epoch TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, wid TEXT, state TEXT NOT NULL, at INTEGER NOT NULL, reason TEXT, dead_at INTEGER, UNIQUE (mac, epoch, seq));
      CREATE TABLE committed (mac TEXT NOT NULL, epoch TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (mac, epoch));
      INSERT INTO events (mac, epoch, seq, type, body, state, at) VALUES
        ('${MAC}', 'e', 0, 'hangup', '{"n":0}', 'done', 1), ('${MAC}', 'e', 1, 'hangup', '{"n":1}', 'waiting', 1), ('${MAC}', 'e', 2, 'hangup', '{"n":2}', 'waiting', 1),
        ('${MAC}', 'e', 3, 'hangup', '{"n":3}', 'waiting', 1), ('${MAC}', 'e', 4, 'hangup', '{"n":4}', 'waiting', 1);
      INSERT INTO committed VALUES ('${MAC}', 'e', 4);
      DELETE FROM events WHERE seq >= 3; DELETE FROM committed; INSERT INTO committed VALUES ('${MAC}', 'e', 2);`);
    raw.close();
    const store = openSqliteStore(file);
    removals.push(() => store.close());
    expect((await store.peekEvents(MAC, 10)).map((e) => [e.seq, e.body])).toEqual([[1, '{"n":1}'], [2, '{"n":2}']]);
    // Sent again by an agent that missed the ack, then new ones.
    await store.commitEvents(MAC, 'e', events(1, 5), 2);
    expect((await store.peekEvents(MAC, 10)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    await store.ackEvents(MAC, 2);
    expect((await store.peekEvents(MAC, 10)).map((e) => e.seq)).toEqual([3, 4, 5]);
    const after = await openRaw(file);
    const rows = after.driver.all<{ pos: number; seq: number }>('SELECT pos, seq FROM events ORDER BY pos');
    const indexes = after.driver.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY name");
    const sequences = after.driver.all<{ name: string; seq: number }>('SELECT name, seq FROM sqlite_sequence ORDER BY name');
    after.close();
    expect(indexes, 'the UNIQUE index went with the copy').toEqual([{ name: 'events_line' }]);
    expect(sequences).toEqual([{ name: 'events', seq: 8 }]);
    // Positions 4 and 5 were the pruned rows': the new events come after them.
    expect(rows).toEqual([{ pos: 1, seq: 0 }, { pos: 2, seq: 1 }, { pos: 3, seq: 2 }, { pos: 6, seq: 3 }, { pos: 7, seq: 4 }, { pos: 8, seq: 5 }]);
  });
});

async function openRaw(file: string) {
  return (await import('../../edge/node/sqlite-store.ts')).sqliteEngine() === 'node:sqlite'
    ? (await import('../../edge/node/sqlite-node.ts')).openNodeSqlite(file)
    : (await import('../../edge/node/sqlite-better.ts')).openBetterSqlite(file);
}
