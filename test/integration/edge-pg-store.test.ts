import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openPgClient } from '../../edge/node/pg-client.ts';
import { migratePg, PG_MIGRATIONS_DIR } from '../../edge/node/pg-migrate.ts';
import { openPgStore, type PgStore } from '../../edge/node/pg-store.ts';
import { postgresForFile } from '../support/postgres-for-file.ts';
import { until } from '../support/wait.ts';

/**
 * What only the PostgreSQL store has to keep: several edge processes (one pool each) writing the
 * same device, the server restarting under it, the wait at start and the migrations. The store's
 * behaviour shared with SQLite is in edge-store.test.ts.
 */
const MAC = '02:00:00:00:00:01';
const OTHER = '02:00:00:00:00:02';
const events = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ seq: from + i, type: 'hangup', body: `{"n":${from + i}}` }));

const pg = postgresForFile();

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
async function open(url: string, opts: Parameters<typeof openPgStore>[1] = {}): Promise<PgStore> {
  const store = await openPgStore(url, opts);
  cleanups.push(() => store.close());
  return store;
}

describe('PostgreSQL edge store: two edge processes on one database', () => {
  it('commits interleaved replays of the same events from two pools once each, in seq order, for two devices at once', async () => {
    const url = await pg().createDatabase();
    const [a, b] = [await open(url), await open(url)];
    // The agent's batches of 10, sent to edge A; edge B gets them again (a reconnect's replay),
    // shifted by 5 and in the other device order, at the same time. Each edge sends each device's
    // batches in order, as one tunnel does.
    const batches = (shift: number) => Array.from({ length: 40 }, (_, k) => events(Math.max(0, k * 10 - shift), 10));
    const feed = async (store: PgStore, macs: string[], shift: number) => {
      for (const batch of batches(shift)) await Promise.all(macs.map((mac) => store.commitEvents(mac, 'e', batch, 1)));
    };
    await Promise.all([feed(a, [MAC, OTHER], 0), feed(b, [OTHER, MAC], 5), feed(a, [OTHER], 3)]);
    for (const mac of [MAC, OTHER]) {
      expect((await a.peekEvents(mac, 1000)).map((e) => e.seq)).toEqual(events(0, 400).map((e) => e.seq));
      expect(await b.committedSeq(mac, 'e')).toBe(399);
    }
    expect(await a.sql`SELECT count(*) AS n FROM events`).toEqual([{ n: 800 }]);
  });

  it('rolls back a failing write alone when it shares a transaction with others', async () => {
    const store = await open(await pg().createDatabase());
    const results = await Promise.allSettled([
      store.commitEvents(MAC, 'e', events(0, 2), 1),
      // PostgreSQL text cannot hold NUL: this write fails inside the shared transaction.
      store.commitEvents(OTHER, 'e', [{ seq: 0, type: 'x', body: '\u0000' }], 1),
      store.commitEvents(MAC, 'e', events(2, 2), 1),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await store.peekEvents(MAC, 10)).map((e) => e.seq)).toEqual([0, 1, 2, 3]);
    expect(await store.committedSeq(OTHER, 'e')).toBe(-1);
  });
});

describe('PostgreSQL edge store: the server restarting', () => {
  it('keeps everything across a PostgreSQL restart; a query while it is down fails, and the pool works again after', async () => {
    const url = await pg().createDatabase();
    const store = await open(url);
    await store.commitEvents(MAC, 'e', events(0, 5), 1);
    await store.ackEvents(MAC, 1);
    await pg().stop();
    await expect(store.commitEvents(MAC, 'e', events(5, 1), 2)).rejects.toThrow();
    await expect(store.peekEvents(MAC, 10)).rejects.toThrow();
    await pg().start();
    expect((await store.peekEvents(MAC, 10)).map((e) => e.seq)).toEqual([2, 3, 4]);
    await store.commitEvents(MAC, 'e', events(5, 1), 2);
    expect(await store.committedSeq(MAC, 'e')).toBe(5);
    // And a store opened again (an edge restarted) sees the same.
    const again = await open(url);
    expect((await again.peekEvents(MAC, 10)).map((e) => e.seq)).toEqual([2, 3, 4, 5]);
  });

  it('waits for PostgreSQL at start, saying so, and opens once it is up', async () => {
    const url = await pg().createDatabase();
    await pg().stop();
    const logs: Record<string, unknown>[] = [];
    const opening = openPgStore(url, { log: (e) => logs.push(e), retryMs: 50 });
    try {
      await until(() => logs.some((l) => String(l.msg).startsWith(`waiting for PostgreSQL at 127.0.0.1:${pg().port}: `)), 'the waiting log line');
    } finally {
      await pg().start();
    }
    const store = await opening;
    cleanups.push(() => store.close());
    expect(logs.find((l) => String(l.msg).startsWith('waiting'))).toMatchObject({ level: 'warn', msg: expect.stringContaining('ECONNREFUSED') });
    expect(store.describe()).toBe(`PostgreSQL ${pg().version} at 127.0.0.1:${pg().port}/${new URL(url).pathname.slice(1)}`);
  });

  it('gives up after the wait with a clear error, and at once on a wrong password', async () => {
    const url = await pg().createDatabase();
    await pg().stop();
    try {
      await expect(openPgStore(url, { waitMs: 300, retryMs: 50 })).rejects.toThrow(new RegExp(`^PostgreSQL at 127.0.0.1:${pg().port} did not answer within 0 s: .*ECONNREFUSED`));
    } finally {
      await pg().start();
    }
    const wrong = new URL(url);
    wrong.password = 'wrong';
    const started = Date.now();
    await expect(openPgStore(wrong.href, { waitMs: 30_000 })).rejects.toThrow(/refused the edge: password authentication failed/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('PostgreSQL edge store: migrations, and what it asks of the database', () => {
  it('applies each file once, in name order, with three edges starting at once; a file dropped in later is applied next start', async () => {
    const url = await pg().createDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'coo-migrations-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    copyFileSync(join(PG_MIGRATIONS_DIR, '001_store.sql'), join(dir, '001_store.sql'));
    const clients = [0, 1, 2].map(() => openPgClient(url));
    cleanups.push(() => Promise.all(clients.map((c) => c.end())));
    const runs = await Promise.all(clients.map((c) => migratePg(c, { dir })));
    expect(runs.flat().sort()).toEqual(['001_store.sql']);
    writeFileSync(join(dir, '002_more.sql'), 'CREATE TABLE more (id int PRIMARY KEY); INSERT INTO more VALUES (1);');
    expect(await Promise.all(clients.map((c) => migratePg(c, { dir })))).toEqual(expect.arrayContaining([['002_more.sql'], [], []]));
    expect((await clients[0]!<{ name: string }[]>`SELECT name FROM schema_migrations ORDER BY name`).map((r) => r.name)).toEqual(['001_store.sql', '002_more.sql']);
    // A broken file names itself and leaves nothing half applied.
    writeFileSync(join(dir, '003_broken.sql'), 'CREATE TABLE broken (id int); SELECT nonsense FROM nowhere;');
    await expect(migratePg(clients[0]!, { dir })).rejects.toThrow(/^PostgreSQL migration 003_broken.sql failed: relation "nowhere" does not exist/);
    expect(await clients[0]!`SELECT to_regclass('broken') AS t`).toEqual([{ t: null }]);
  });

  it('keeps the events acked before the delivered positions (003) delivered: not sent again, replayed and pruned', async () => {
    const url = await pg().createDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'coo-migrations-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    for (const f of ['001_store.sql', '002_cluster.sql']) copyFileSync(join(PG_MIGRATIONS_DIR, f), join(dir, f));
    const before = openPgClient(url);
    cleanups.push(() => before.end());
    await migratePg(before, { dir });
    // As an edge of that schema acked: each delivered row marked.
    for (const [seq, state] of [[0, 'done'], [1, 'done'], [2, 'waiting']] as const) {
      await before`INSERT INTO events (mac, epoch, seq, type, body, state, at) VALUES (${MAC}, 'e', ${seq}, 'hangup', '{}', ${state}, 1)`;
    }
    await before`INSERT INTO committed (mac, epoch, seq) VALUES (${MAC}, 'e', 2)`;

    const store = await open(url);
    expect((await store.peekEvents(MAC, 10)).map((e) => e.seq)).toEqual([2]);
    expect(await store.waitingCount(MAC)).toBe(1);
    expect(await store.replayFrom(MAC, 1)).toBe(1);
    expect((await store.peekEvents(MAC, 10)).map((e) => e.seq)).toEqual([1, 2]);
    await store.ackEvents(MAC, 2);
    expect(await store.waitingCount(MAC)).toBe(0);
    expect(await store.pruneDelivered(10)).toBe(3);
  });

  it('warns when the database runs with synchronous_commit off', async () => {
    const url = await pg().createDatabase();
    await pg().admin.unsafe(`ALTER DATABASE ${new URL(url).pathname.slice(1)} SET synchronous_commit = off`);
    const logs: Record<string, unknown>[] = [];
    const store = await open(url, { log: (e) => logs.push(e) });
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/synchronous_commit=off: the edge sets it on for event commits/) }));
    await store.commitEvents(MAC, 'e', events(0, 1), 1);
    expect(await store.committedSeq(MAC, 'e')).toBe(0);
  });

  it('the store runs as a role that owns its database and nothing more', async () => {
    const store = await open(await pg().createDatabase());
    expect(await store.sql`SELECT rolsuper AS super FROM pg_roles WHERE rolname = current_user`).toEqual([{ super: false }]);
  });
});
