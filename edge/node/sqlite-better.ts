import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import type { SqlDriver, SqlValue } from '../core/sql-store.ts';
import type { SqliteFile } from './sqlite-node.ts';

/**
 * The edge's SQLite file through better-sqlite3, for Node 20. Required lazily: the addon is built
 * for one Node ABI, and on a Node with node:sqlite it is neither needed nor loadable.
 */
export function openBetterSqlite(file: string): SqliteFile {
  const BetterSqlite = createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  const db = new BetterSqlite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  const statements = new Map<string, Database.Statement<SqlValue[]>>();
  const prepared = (sql: string) => {
    let s = statements.get(sql);
    if (!s) statements.set(sql, (s = db.prepare<SqlValue[]>(sql)));
    return s;
  };
  // One wrapper for every transaction: db.transaction() builds a new one per call (6 us per event
  // in the edge-events profile); called inside another it still becomes a savepoint.
  const runInTransaction = db.transaction((fn: () => unknown) => fn());
  const inTransaction = <T>(fn: () => T): T => runInTransaction(fn) as T;
  const driver: SqlDriver = {
    script: (sql) => void db.exec(sql),
    all: <T>(sql: string, ...params: SqlValue[]) => prepared(sql).all(...params) as T[],
    run: (sql, ...params) => prepared(sql).run(...params).changes,
    transaction: (fn, durability = 'full') => {
      if (durability === 'full') return inTransaction(fn);
      db.pragma('synchronous = NORMAL');
      try {
        return inTransaction(fn);
      } finally {
        db.pragma('synchronous = FULL');
      }
    },
  };
  return { driver, close: () => db.close() };
}
