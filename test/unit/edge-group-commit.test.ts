import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../edge/core/group-commit.ts';
import type { SqlDriver } from '../../edge/core/sql-store.ts';

/** An in-memory SQLite driver that records each outermost transaction's durability. */
function driver() {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
  const commits: string[] = [];
  let depth = 0;
  const sql: SqlDriver = {
    script: (s) => void db.exec(s),
    all: <T>(s: string, ...p: (string | number | null)[]) => db.prepare(s).all(...p) as T[],
    run: (s, ...p) => db.prepare(s).run(...p).changes,
    transaction: (fn, durability = 'full') => {
      if (depth === 0) commits.push(durability);
      depth++;
      try {
        return db.transaction(fn)();
      } finally {
        depth--;
      }
    },
  };
  const values = () => db.prepare('SELECT v FROM t ORDER BY v').all().map((r) => (r as { v: number }).v);
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
