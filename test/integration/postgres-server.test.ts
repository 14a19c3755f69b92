import { existsSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type Postgres } from '../support/postgres.ts';

/** The tests' own PostgreSQL (test/support/postgres.ts) does what the store's tests lean on. */
describe('a PostgreSQL server of the test', () => {
  let pg: Postgres;
  let db: postgres.Sql;
  beforeAll(async () => {
    pg = await startPostgres();
    db = postgres(await pg.createDatabase(), { max: 1, onnotice: () => {} });
  }, 60_000);
  afterAll(async () => {
    await db?.end();
    await pg?.close();
  });

  it('serves a fresh database on 127.0.0.1 to a login role that is not a superuser', async () => {
    expect(pg.version).toMatch(/^\d+\.\d+/);
    expect(await db`SELECT current_user AS who, inet_server_addr()::text AS addr, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS super`).toEqual([
      { who: 'edge', addr: '127.0.0.1/32', super: false },
    ]);
    await db`CREATE TABLE t (v int)`;
    await db`INSERT INTO t VALUES (1)`;
  });

  it('keeps what was committed across a stop and start, and across a kill -9 (crash recovery)', async () => {
    const first = pg.pid;
    await pg.stop();
    expect(pg.pid).toBe(0);
    await expect(db`SELECT 1`).rejects.toThrow(/ECONNREFUSED/);
    await pg.start();
    await db`INSERT INTO t VALUES (2)`;
    await pg.kill();
    await pg.start();
    expect(pg.pid).not.toBe(first);
    expect((await db<{ v: number }[]>`SELECT v FROM t ORDER BY v`).map((r) => r.v)).toEqual([1, 2]);
  });

  it('removes its folder on close', async () => {
    const other = await startPostgres();
    const [{ data_directory: dir }] = (await other.admin`SHOW data_directory`) as unknown as [{ data_directory: string }];
    expect(existsSync(dir)).toBe(true);
    await other.close();
    expect(existsSync(dir)).toBe(false);
  }, 60_000);
});
