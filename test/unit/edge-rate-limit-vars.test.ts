import { describe, expect, it } from 'vitest';
import { DEFAULT_EDGE_RATE_LIMITS } from '../../edge/core/app.ts';
import { rateLimitVars } from '../../edge/workers/rate-limit-vars.ts';

describe('Workers edge rate limits from wrangler vars', () => {
  it('reads <per second>/<burst> for each limit', () => {
    expect(rateLimitVars({ RATE_LIMIT_PER_KEY: '50/100', RATE_LIMIT_PER_DEVICE: ' 0.5 / 3 ' })).toEqual({
      perKey: { perSecond: 50, burst: 100 },
      perDevice: { perSecond: 0.5, burst: 3 },
    });
  });

  it('keeps the defaults when unset or not understood, never a limit of zero', () => {
    expect(rateLimitVars({})).toEqual(DEFAULT_EDGE_RATE_LIMITS);
    for (const bad of ['', '200', '0/10', '10/0', 'fast/400', '-1/5']) {
      expect(rateLimitVars({ RATE_LIMIT_PER_DEVICE: bad }).perDevice).toEqual(DEFAULT_EDGE_RATE_LIMITS.perDevice);
    }
  });
});
