import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../edge/core/group-commit.ts';
import type { SqlDriver } from '../../edge/core/sql-store.ts';
import { openBetterSqlite } from '../../edge/node/sqlite-better.ts';
import { openNodeSqlite } from '../../edge/node/sqlite-node.ts';
import { sqliteEngine } from '../../edge/node/sqlite-store.ts';

/** The SQLite driver this Node's edge runs on, in memory, recording each outermost transaction's durability. */
function driver() {
  const db = (sqliteEngine() === 'node:sqlite' ? openNodeSqlite : openBetterSqlite)(':memory:').driver;
  db.script('CREATE TABLE t (v INTEGER NOT NULL)');
  const commits: string[] = [];
  let depth = 0;
  const sql: SqlDriver = {
    ...db,
    transaction: (fn, durability = 'full') => {
      if (depth === 0) commits.push(durability);
      depth++;
      try {
        return db.transaction(fn, durability);
      } finally {
        depth--;
      }
    },
  };
  const values = () => db.all<{ v: number }>('SELECT v FROM t ORDER BY v').map((r) => r.v);
  return { sql, commits, values };
}

describe('group commit of edge writes', () => {
  it('commits writes queued in one turn together, and settles them only after the commit', async () => {
    const d = driver();
    const fired: (() => void)[] = [];
    const group = new GroupCommit(d.sql, (fn) => fired.push(fn));
    const settled: number[] = [];
    const writes = [1, 2, 3].map((v) => group.write(() => void d.sql.run('INSERT INTO t (v) VALUES (?)', v), v === 2 ? 'full' : 'relaxed').then(() => settled.push(v)));
    await Promise.resolve();
    expect([settled, d.values()]).toEqual([[], []]);
    expect(fired).toHaveLength(1);
    fired[0]!();
    await Promise.all(writes);
    expect(d.values()).toEqual([1, 2, 3]);
    // One commit for the three, durable because one of them asked for it.
    expect(d.commits).toEqual(['full']);
  });

  it('rolls back and rejects a failing write alone', async () => {
    const d = driver();
    const group = new GroupCommit(d.sql, (fn) => setImmediate(fn));
    const results = await Promise.allSettled([
      group.write(() => void d.sql.run('INSERT INTO t (v) VALUES (1)'), 'relaxed'),
      group.write(() => {
        d.sql.run('INSERT INTO t (v) VALUES (2)');
        d.sql.run('INSERT INTO t (v) VALUES (NULL)');
      }, 'relaxed'),
      group.write(() => void d.sql.run('INSERT INTO t (v) VALUES (3)'), 'relaxed'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(d.values()).toEqual([1, 3]);
    expect(d.commits).toEqual(['relaxed']);
  });

  it('commits each write at once without a defer', async () => {
    const d = driver();
    const group = new GroupCommit(d.sql);
    await group.write(() => void d.sql.run('INSERT INTO t (v) VALUES (1)'));
    await expect(group.write(() => void d.sql.run('INSERT INTO t (v) VALUES (NULL)'))).rejects.toThrow(/NOT NULL/);
    expect(d.values()).toEqual([1]);
  });
});
