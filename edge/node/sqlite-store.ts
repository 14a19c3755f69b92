import Database from 'better-sqlite3';
import { createSqlStore, type SqlDriver, type SqlValue } from '../core/sql-store.ts';
import type { EdgeStore } from '../core/store.ts';

export interface SqliteStore extends EdgeStore {
  close(): void;
}

/**
 * The Node edge's store: one SQLite file in WAL mode. synchronous=FULL so a committed event batch is
 * on disk before the agent is told it may forget it (kill -9 and power loss included). Relaxed
 * transactions (delivery acks) commit with synchronous=NORMAL: in WAL mode that survives a crash of
 * the process and skips only the fsync, and the next FULL commit's fsync of the append-only WAL makes
 * them durable too; a power loss before that can only undo acks, so events are sent again, not lost.
 */
export function openSqliteStore(file: string): SqliteStore {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  const statements = new Map<string, Database.Statement<SqlValue[]>>();
  const prepared = (sql: string) => {
    let s = statements.get(sql);
    if (!s) statements.set(sql, (s = db.prepare<SqlValue[]>(sql)));
    return s;
  };
  const driver: SqlDriver = {
    script: (sql) => void db.exec(sql),
    all: <T>(sql: string, ...params: SqlValue[]) => prepared(sql).all(...params) as T[],
    run: (sql, ...params) => prepared(sql).run(...params).changes,
    transaction: (fn, durability = 'full') => {
      if (durability === 'full') return db.transaction(fn)();
      db.pragma('synchronous = NORMAL');
      try {
        return db.transaction(fn)();
      } finally {
        db.pragma('synchronous = FULL');
      }
    },
  };
  return Object.assign(createSqlStore(driver, { defer: setImmediate }), { close: () => db.close() });
}
