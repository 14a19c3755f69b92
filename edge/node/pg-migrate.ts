import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type postgres from 'postgres';
import { PG_LOCK_SPACE } from './pg-locks.ts';

/** The store's migrations: `NNN_what.sql`, applied in name order. Add one by dropping a file here. */
export const PG_MIGRATIONS_DIR = fileURLToPath(new URL('./pg-migrations/', import.meta.url));

/**
 * Applies the .sql files of `dir` not applied yet, in name order (read at run time), each in its own
 * transaction and recorded in `schema_migrations`. Edges starting together take turns on a session
 * advisory lock, so each file runs once. Returns the names it applied.
 */
export async function migratePg<T extends Record<string, unknown>>(
  sql: postgres.Sql<T>,
  opts: { dir?: string; log?(entry: Record<string, unknown>): void } = {},
): Promise<string[]> {
  const dir = opts.dir ?? PG_MIGRATIONS_DIR;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  // A session lock belongs to one connection: hold one for the whole run.
  const db = await sql.reserve();
  const applied: string[] = [];
  try {
    await db`SELECT pg_advisory_lock(${PG_LOCK_SPACE.migrations}, 0)`;
    try {
      await db.unsafe('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
      const done = new Set((await db<{ name: string }[]>`SELECT name FROM schema_migrations`).map((r) => r.name));
      for (const file of files.filter((f) => !done.has(f))) {
        await db.unsafe('BEGIN');
        try {
          // Simple query protocol: a file may hold many statements.
          await db.unsafe(readFileSync(join(dir, file), 'utf8'));
          await db`INSERT INTO schema_migrations (name) VALUES (${file})`;
          await db.unsafe('COMMIT');
        } catch (e) {
          await db.unsafe('ROLLBACK').catch(() => {});
          throw new Error(`PostgreSQL migration ${file} failed: ${e instanceof Error ? e.message : String(e)}`);
        }
        applied.push(file);
        opts.log?.({ level: 'info', msg: 'applied PostgreSQL migration', file });
      }
    } finally {
      await db`SELECT pg_advisory_unlock(${PG_LOCK_SPACE.migrations}, 0)`.catch(() => {});
    }
  } finally {
    db.release();
  }
  return applied;
}
