import type { SqlDriver, SqlValue } from '../core/sql-store.ts';

/** The part of node:sqlite the edge uses (@types/node follows Node 20, which has no node:sqlite). */
interface StatementSync {
  all(...params: SqlValue[]): unknown[];
  run(...params: SqlValue[]): { changes: number | bigint };
}
interface DatabaseSync {
  exec(sql: string): void;
  prepare(sql: string): StatementSync;
  close(): void;
}
interface NodeSqlite {
  DatabaseSync: new (file: string) => DatabaseSync;
}

/** An open SQLite file: the driver the store runs on, and how to close it. */
export interface SqliteFile {
  driver: SqlDriver;
  close(): void;
}

/**
 * The edge's SQLite file through Node's built-in node:sqlite (Node 22.13+). It has no transaction
 * helper, so nesting is kept here as better-sqlite3 does it: the outer level is BEGIN IMMEDIATE /
 * COMMIT, an inner one a savepoint rolled back alone.
 */
export function openNodeSqlite(file: string): SqliteFile {
  const sqlite = process.getBuiltinModule('node:sqlite') as NodeSqlite | undefined;
  if (!sqlite) throw new Error(`node:sqlite is not available in Node ${process.versions.node}; it needs 22.13 or later`);
  const db = new sqlite.DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000');
  const statements = new Map<string, StatementSync>();
  const prepared = (sql: string) => {
    let s = statements.get(sql);
    if (!s) statements.set(sql, (s = db.prepare(sql)));
    return s;
  };
  let depth = 0;
  const transaction = <T>(fn: () => T): T => {
    const savepoint = depth > 0 ? `sp${depth}` : undefined;
    db.exec(savepoint ? `SAVEPOINT ${savepoint}` : 'BEGIN IMMEDIATE');
    depth++;
    try {
      const result = fn();
      db.exec(savepoint ? `RELEASE ${savepoint}` : 'COMMIT');
      return result;
    } catch (e) {
      db.exec(savepoint ? `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}` : 'ROLLBACK');
      throw e;
    } finally {
      depth--;
    }
  };
  const driver: SqlDriver = {
    script: (sql) => db.exec(sql),
    all: <T>(sql: string, ...params: SqlValue[]) => prepared(sql).all(...params) as T[],
    run: (sql, ...params) => Number(prepared(sql).run(...params).changes),
    transaction: (fn, durability = 'full') => {
      if (durability === 'full' || depth > 0) return transaction(fn);
      db.exec('PRAGMA synchronous = NORMAL');
      try {
        return transaction(fn);
      } finally {
        db.exec('PRAGMA synchronous = FULL');
      }
    },
  };
  return { driver, close: () => db.close() };
}
