import { createSqlStore } from '../core/sql-store.ts';
import type { EdgeStore } from '../core/store.ts';
import { openBetterSqlite } from './sqlite-better.ts';
import { openNodeSqlite } from './sqlite-node.ts';

export interface SqliteStore extends EdgeStore {
  close(): void;
  /** Which SQLite binding holds the file: `node:sqlite` (Node 22.13+) or `better-sqlite3` (Node 20). */
  readonly engine: SqliteEngine;
}

export type SqliteEngine = 'node:sqlite' | 'better-sqlite3';

/**
 * Node's own SQLite where the running Node has it, so the edge needs no native addon built for each
 * Node ABI (better-sqlite3 12 builds only for Node 20 here, 13 only for 22+); better-sqlite3 on Node
 * 20, which has none. COOCENTER_SQLITE=better-sqlite3 picks the addon on a newer Node where it is
 * installed.
 */
export function sqliteEngine(env: NodeJS.ProcessEnv = process.env): SqliteEngine {
  if (env.COOCENTER_SQLITE === 'better-sqlite3') return 'better-sqlite3';
  return process.getBuiltinModule?.('node:sqlite') ? 'node:sqlite' : 'better-sqlite3';
}

/**
 * The Node edge's store: one SQLite file in WAL mode. synchronous=FULL so a committed event batch is
 * on disk before the agent is told it may forget it (kill -9 and power loss included). Relaxed
 * transactions (delivery acks) commit with synchronous=NORMAL: in WAL mode that survives a crash of
 * the process and skips only the fsync, and the next FULL commit's fsync of the append-only WAL makes
 * them durable too; a power loss before that can only undo acks, so events are sent again, not lost.
 */
export function openSqliteStore(file: string, engine: SqliteEngine = sqliteEngine()): SqliteStore {
  const db = engine === 'node:sqlite' ? openNodeSqlite(file) : openBetterSqlite(file);
  return Object.assign(createSqlStore(db.driver, { defer: setImmediate, cacheLookups: true }), { close: db.close, engine });
}
