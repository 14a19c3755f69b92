import { describe, expect, it } from 'vitest';
import { classifyResponse } from '../../shared/delivery/attempt-outcome.ts';
import { parseRetryAfter } from '../../shared/delivery/retry-after.ts';
import { retryDelayMs } from '../../shared/delivery/retry-schedule.ts';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;

describe('retry schedule', () => {
  it('waits 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then every 10 h', () => {
    const middle = () => 0.5;
    const waits = Array.from({ length: 10 }, (_, i) => retryDelayMs(i + 1, middle));
    expect(waits).toEqual([5 * S, 5 * MIN, 30 * MIN, 2 * H, 5 * H, 10 * H, 10 * H, 10 * H, 10 * H, 10 * H]);
  });

  it('jitters each wait within ±10 %', () => {
    expect(retryDelayMs(2, () => 0)).toBe(4.5 * MIN);
    expect(retryDelayMs(2, () => 1)).toBe(5.5 * MIN);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2024-05-01T10:00:00Z');
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120 * S);
    expect(parseRetryAfter('Wed, 01 May 2024 10:02:30 GMT', now)).toBe(150 * S);
  });
  it('ignores what it cannot read and never waits less than zero', () => {
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('Wed, 01 May 2024 09:00:00 GMT', now)).toBe(0);
  });
});

describe('classifyResponse', () => {
  it('applies the delivery contract to each status', () => {
    expect(classifyResponse(204, '', null).kind).toBe('delivered');
    expect(classifyResponse(410, 'Gone', null)).toEqual({ kind: 'stop', status: 410, message: 'receiver answered 410 Gone: nobody takes events at this URL any more; set a new one' });
    expect(classifyResponse(400, 'Bad Request', null).kind).toBe('rejected');
    expect(classifyResponse(404, '', null).kind).toBe('rejected');
    expect(classifyResponse(408, '', null).kind).toBe('retry');
    expect(classifyResponse(429, '', 30 * S)).toMatchObject({ kind: 'retry', retryAfterMs: 30 * S });
    expect(classifyResponse(503, '', 7 * S)).toMatchObject({ kind: 'retry', retryAfterMs: 7 * S });
    expect(classifyResponse(500, '', 7 * S)).not.toHaveProperty('retryAfterMs');
    expect(classifyResponse(302, 'Found', null, 'https://crm.example.com/new?key=1')).toEqual({
      kind: 'stop',
      status: 302,
      message: 'receiver answered 302 Found, redirecting to https://crm.example.com/new: webhooks do not follow redirects (a redirected POST becomes a GET); set the URL to where it points',
    });
    expect(classifyResponse(307, '', null).kind).toBe('stop');
    expect(classifyResponse(500, '', null)).toMatchObject({ kind: 'retry', fault: 'status' });
  });
});
