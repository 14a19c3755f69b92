import type postgres from 'postgres';
import { RateLimitedError, type RateLimit } from '../../shared/http/rate-limit.ts';
import { cachedSha256Hex } from '../core/secrets.ts';

const hashOf = cachedSha256Hex();
/** Buckets untouched this long are full again anyway: forgotten, so made-up keys do not pile up. */
const PRUNE_EVERY = 1000;

/**
 * The per-key limit of several Node edges: one token bucket per key in PostgreSQL, taken in one
 * statement, so a key gets its limit once across all instances (as TokenBuckets gives it once in
 * one process) whichever instance the load balancer picked. The database's clock refills it.
 */
export function createPgKeyLimit(sql: postgres.Sql, limit: RateLimit): (name: string) => Promise<void> {
  const { perSecond, burst } = limit;
  const fullAfter = `${Math.ceil(burst / perSecond)} seconds`;
  let taken = 0;
  return async (name) => {
    if (++taken % PRUNE_EVERY === 0) void sql`DELETE FROM key_buckets WHERE at < now() - ${fullAfter}::interval`.catch(() => {});
    const refill = sql`least(${burst}::float8, b.tokens + extract(epoch FROM clock_timestamp() - b.at)::float8 * ${perSecond}::float8)`;
    const [r] = await sql<{ tokens: number; ok: boolean }[]>`
      INSERT INTO key_buckets AS b (name, tokens, ok, at) VALUES (${await hashOf(name)}, ${burst - 1}, true, clock_timestamp())
      ON CONFLICT (name) DO UPDATE SET
        tokens = ${refill} - CASE WHEN ${refill} >= 1 THEN 1 ELSE 0 END,
        ok = ${refill} >= 1,
        at = clock_timestamp()
      RETURNING tokens, ok`;
    if (r?.ok !== false) return;
    const retryAfterSec = Math.max(1, Math.ceil((1 - r.tokens) / perSecond));
    throw new RateLimitedError(retryAfterSec, `too many requests for this Authorization (${perSecond}/s, bursts of ${burst}, counted across all edge instances): retry after ${retryAfterSec} s`);
  };
}
