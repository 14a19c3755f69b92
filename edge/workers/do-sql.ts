import type { SqlDriver } from '../core/sql-store.ts';
import type { DurableObjectStorage } from './platform.ts';

/**
 * The edge's SQL store over a Durable Object's own SQLite. Writes are durable before the object's
 * next output leaves (output gates), so an ack sent after commitEvents follows a durable commit.
 */
export function doSql(storage: DurableObjectStorage): SqlDriver {
  return {
    script: (sql) => void storage.sql.exec(sql),
    all: <T>(sql: string, ...params: (string | number | null)[]) => storage.sql.exec<T>(sql, ...params).toArray(),
    run: (sql, ...params) => {
      const cursor = storage.sql.exec(sql, ...params);
      cursor.toArray();
      return cursor.rowsWritten;
    },
    transaction: (fn) => storage.transactionSync(fn),
  };
}
