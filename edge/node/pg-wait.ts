import type postgres from 'postgres';

export interface PgWaitOptions {
  /** `host:port` as logs name it. */
  where: string;
  log(entry: Record<string, unknown>): void;
  /** Give up after this long (ms; 60 s). */
  waitMs?: number;
  /** Try again this often (ms; 3 s). */
  retryMs?: number;
}

/** SQLSTATE classes no wait mends: a refused login, a database that does not exist. */
const FATAL = /^(28|3D000)/;

/**
 * Waits until PostgreSQL answers, so an edge started with (or before) its database comes up once
 * the database does instead of crashing. Fails at once on what waiting cannot fix (password,
 * missing database), and after `waitMs` on anything else. Resolves with the server's version.
 */
export async function waitForPostgres<T extends Record<string, unknown>>(sql: postgres.Sql<T>, opts: PgWaitOptions): Promise<string> {
  const waitMs = opts.waitMs ?? 60_000;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const [row] = await sql<{ server_version: string }[]>`SHOW server_version`;
      return row!.server_version.split(' ')[0]!;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      const reason = e instanceof Error ? e.message : String(e);
      if (typeof code === 'string' && FATAL.test(code)) throw new Error(`PostgreSQL at ${opts.where} refused the edge: ${reason}`);
      if (Date.now() >= deadline) throw new Error(`PostgreSQL at ${opts.where} did not answer within ${Math.round(waitMs / 1000)} s: ${reason}`);
      opts.log({ level: 'warn', msg: `waiting for PostgreSQL at ${opts.where}: ${reason}` });
      await new Promise((r) => setTimeout(r, Math.min(opts.retryMs ?? 3000, Math.max(0, deadline - Date.now()))));
    }
  }
}
