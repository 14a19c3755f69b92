/** Scalars SQLite binds and returns. */
export type SqlValue = string | number | null;

/**
 * The little of SQLite the edge store needs, so one store serves better-sqlite3 on Node
 * (edge/node/sqlite-store.ts) and a Durable Object's ctx.storage.sql (edge/workers/do-sql.ts).
 */
export interface SqlDriver {
  /** Runs several statements without parameters. */
  script(sql: string): void;
  all<T>(sql: string, ...params: SqlValue[]): T[];
  /** Runs a write; returns how many rows it changed. */
  run(sql: string, ...params: SqlValue[]): number;
  /**
   * Runs `fn` in one transaction; one inside another is a savepoint, rolled back alone. `relaxed`
   * marks a write whose loss on power failure (not on a crash) only repeats work, such as a delivery
   * ack (a webhook is sent again, at least once holds): a driver may commit it without waiting for
   * the disk.
   */
  transaction<T>(fn: () => T, durability?: 'full' | 'relaxed'): T;
}
