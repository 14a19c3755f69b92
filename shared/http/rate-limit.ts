import { ApiError } from '../errors.ts';

export interface RateLimit {
  /** Tokens added per second: the sustained request rate allowed. */
  perSecond: number;
  /** Bucket size: how many requests may come at once after a quiet spell. */
  burst: number;
}

/** 429 with the seconds after which one request will pass again (sent as `Retry-After`). */
export class RateLimitedError extends ApiError {
  constructor(
    readonly retryAfterSec: number,
    message: string,
  ) {
    super('RATE_LIMITED', message);
  }
}

/**
 * Token buckets by name (a key, a device). Buckets are kept in insertion order and the oldest is
 * forgotten past `maxNames`, so a flood of made-up names cannot grow memory; a forgotten bucket
 * starts full again, which only ever lets a request through, never blocks a good one.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number,
    private readonly maxNames = 10_000,
  ) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new RangeError(`rate limit needs perSecond > 0 and burst >= 1, got ${JSON.stringify(limit)}`);
  }

  /** Takes one token for `name`; throws RateLimitedError naming `what` when the bucket is empty. */
  take(name: string, what: string): void {
    const t = this.now();
    const b = this.buckets.get(name) ?? { tokens: this.limit.burst, at: t };
    this.buckets.delete(name);
    b.tokens = Math.min(this.limit.burst, b.tokens + (Math.max(0, t - b.at) / 1000) * this.limit.perSecond);
    b.at = t;
    this.buckets.set(name, b);
    if (this.buckets.size > this.maxNames) this.buckets.delete(this.buckets.keys().next().value as string);
    if (b.tokens < 1) {
      const retryAfterSec = Math.max(1, Math.ceil((1 - b.tokens) / this.limit.perSecond));
      throw new RateLimitedError(retryAfterSec, `too many requests for ${what} (${this.limit.perSecond}/s, bursts of ${this.limit.burst}): retry after ${retryAfterSec} s`);
    }
    b.tokens -= 1;
  }
}
