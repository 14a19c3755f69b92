import type { RateLimit } from '../../shared/http/rate-limit.ts';
import { DEFAULT_EDGE_RATE_LIMITS, type EdgeRateLimits } from '../core/app.ts';

/** `<per second>/<burst>`, e.g. `200/400`; unset or anything else keeps the default. */
function rateVar(value: string | undefined, fallback: RateLimit): RateLimit {
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+)\s*$/.exec(value ?? '');
  return m && Number(m[1]) > 0 && Number(m[2]) > 0 ? { perSecond: Number(m[1]), burst: Number(m[2]) } : fallback;
}

/** The wrangler vars RATE_LIMIT_PER_KEY and RATE_LIMIT_PER_DEVICE, over the Node edge's defaults. */
export const rateLimitVars = (env: { RATE_LIMIT_PER_KEY?: string; RATE_LIMIT_PER_DEVICE?: string }): EdgeRateLimits => ({
  perKey: rateVar(env.RATE_LIMIT_PER_KEY, DEFAULT_EDGE_RATE_LIMITS.perKey),
  perDevice: rateVar(env.RATE_LIMIT_PER_DEVICE, DEFAULT_EDGE_RATE_LIMITS.perDevice),
});
