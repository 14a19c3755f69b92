import { keyLimitName } from '../core/key-limit.ts';
import { cachedSha256Hex } from '../core/secrets.ts';
import { listVar } from './log.ts';
import type { Env } from './platform.ts';

/**
 * The `period` of the KEY_RATE_LIMIT binding in wrangler.toml, sent as Retry-After: the binding
 * says only yes or no, and a full period is when a refused key surely has room again.
 */
export const KEY_LIMIT_PERIOD_SEC = 10;

const hashOf = cachedSha256Hex();

/**
 * The per-key limit of the Workers edge, in the Worker before any device object: each device object
 * runs the whole app for its one device, so a key counted there would get its limit once per device.
 * Cloudflare's Rate Limiting binding counts it instead, for every object at once, without a round
 * trip (its counters are cached on the machine that runs the Worker) and without waking an object
 * for a refused request. Its count is per Cloudflare location and approximate (docs/edge.md). The
 * key is the SHA-256 of the Authorization value, so no secret leaves the Worker. Returns the 429 to
 * send, or null when the request may go on.
 */
export async function overKeyLimit(request: Request, url: URL, env: Env): Promise<Response | null> {
  const limiter = env.KEY_RATE_LIMIT;
  const name = limiter ? keyLimitName(request.method, url, request.headers.get('authorization')) : null;
  if (!limiter || name === null) return null;
  if ((await limiter.limit({ key: await hashOf(name) })).success) return null;
  const headers = new Headers({ 'Retry-After': String(KEY_LIMIT_PERIOD_SEC) });
  const origin = request.headers.get('origin');
  const origins = listVar(env.CORS_ORIGINS);
  if (origin && (origins.includes('*') || origins.includes(origin))) headers.set('Access-Control-Allow-Origin', origin);
  const message = `too many requests for this Authorization (the edge's limit per key, counted per ${KEY_LIMIT_PERIOD_SEC} s): retry after ${KEY_LIMIT_PERIOD_SEC} s`;
  return Response.json({ status: 'error', message }, { status: 429, headers });
}
