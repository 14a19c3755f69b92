import postgres from 'postgres';

/** The postgres.js client the store runs on, int8 parsed to numbers (epoch ms, seqs and counts fit). */
export type PgSql = postgres.Sql<{ bigint: number }>;
/** The pool, or one transaction on it. */
export type PgQuerier = PgSql | postgres.TransactionSql<{ bigint: number }>;

/**
 * Opens a pool to `url` (connections are made on first use, and again after PostgreSQL restarts).
 * int8 comes back as a string by default; here as a number. Notices go to the log, not the console.
 */
export function openPgClient(url: string, opts: { max?: number; log?(entry: Record<string, unknown>): void } = {}): PgSql {
  return postgres(url, {
    max: opts.max ?? 10,
    // A host that drops packets would otherwise hold each attempt for 30 s; a URL's own setting wins.
    ...(/[?&]connect_timeout=/.test(url) ? {} : { connect_timeout: 5 }),
    // postgres.js waits up to 20 s between reconnects after a few refusals (3^n/100 s): a 3 s restart
    // of PostgreSQL kept devices unreachable for 14-34 s. Retry every quarter second up to 1 s instead.
    backoff: (attempts: number) => Math.min(0.25 * attempts, 1),
    connection: { application_name: 'coocenter-edge' },
    types: { bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) } },
    onnotice: (n) => opts.log?.({ level: 'debug', msg: 'PostgreSQL notice', notice: n.message }),
  });
}

/** `host:port[,host:port]/database` of a client, for logs: never the user or password. */
export function pgWhere(sql: postgres.Sql<Record<string, unknown>>): { server: string; database: string } {
  const o = sql.options;
  const server = o.path || o.host.map((h, i) => `${h}:${o.port[i] ?? o.port[0]}`).join(',');
  return { server, database: o.database };
}
