import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createWebkeyAuth, webkeyDigests } from '../../agent/auth/webkey.ts';
import { normalizeMac } from '../../shared/auth/mac.ts';
import { matchesWebkeyDigest } from '../../shared/auth/webkey-digest.ts';
import type { ApiError } from '../../shared/errors.ts';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

describe('normalizeMac', () => {
  it('accepts the three documented spellings', () => {
    for (const m of ['68:69:2e:03:8b:3e', '68-69-2E-03-8B-3E', '68692e038b3e', '68692E038B3E']) {
      expect(normalizeMac(m)).toBe('68:69:2e:03:8b:3e');
    }
  });
  it('rejects anything else', () => {
    for (const m of ['', '68:69:2e:03:8b', '68:69:2e:03:8b:3e:00', '68:69-2e:03:8b:3e', '68:69:2e:03:8b:3g', '6869.2e03.8b3e', '68:69:2e:03:8b:3e\n']) {
      expect(normalizeMac(m), JSON.stringify(m)).toBeUndefined();
    }
  });
});

describe('matchesWebkeyDigest', () => {
  const digests = [md5('a'), md5('b')];
  it('accepts any listed digest in either case, trimmed', () => {
    expect(matchesWebkeyDigest(md5('b'), digests)).toBe(true);
    expect(matchesWebkeyDigest(` ${md5('a').toUpperCase()} `, digests)).toBe(true);
  });
  it('refuses others, prefixes and empties', () => {
    expect(matchesWebkeyDigest(md5('c'), digests)).toBe(false);
    expect(matchesWebkeyDigest(md5('a').slice(0, 31), digests)).toBe(false);
    expect(matchesWebkeyDigest(`${md5('a')}0`, digests)).toBe(false);
    expect(matchesWebkeyDigest('', digests)).toBe(false);
    expect(matchesWebkeyDigest(undefined, digests)).toBe(false);
    expect(matchesWebkeyDigest('', [''])).toBe(false);
  });
});

describe('webkeyDigests', () => {
  it("uses the box's calendar date, not UTC's", () => {
    // 2024-03-01 02:00 in Shanghai is still 29 February in UTC (a leap year).
    const at = Date.UTC(2024, 1, 29, 18, 0);
    expect(webkeyDigests('k', at, 'Asia/Shanghai')).toEqual([md5('k2024-02-29'), md5('k2024-03-01'), md5('k2024-03-02')]);
    expect(webkeyDigests('k', at, 'UTC')).toEqual([md5('k2024-02-28'), md5('k2024-02-29'), md5('k2024-03-01')]);
  });
  it('does not skip or repeat a date across a DST change', () => {
    // Europe/Berlin springs forward on 2024-03-31; late that evening, tomorrow is 1 April.
    const at = Date.UTC(2024, 2, 31, 21, 30);
    expect(webkeyDigests('k', at, 'Europe/Berlin')).toEqual([md5('k2024-03-30'), md5('k2024-03-31'), md5('k2024-04-01')]);
  });
});

describe('createWebkeyAuth', () => {
  const now = () => Date.UTC(2024, 0, 10, 12);
  it('lets everything through without a WEBKEY', () => {
    for (const webkey of [undefined, '']) expect(() => createWebkeyAuth({ webkey, now })(undefined)).not.toThrow();
  });
  it('401s a missing or a two-days-old Authorization, with a message saying which', () => {
    const check = createWebkeyAuth({ webkey: 'k', now, timeZone: 'UTC' });
    expect(() => check(md5('k2024-01-09'))).not.toThrow();
    const err = (auth: string | undefined) => {
      try {
        check(auth);
      } catch (e) {
        return e as ApiError;
      }
      throw new Error('accepted');
    };
    expect(err(undefined)).toMatchObject({ status: 401, message: expect.stringMatching(/required/) });
    expect(err(md5('k2024-01-08'))).toMatchObject({ status: 401, message: expect.stringMatching(/wrong/) });
    expect(err(md5('k2024-01-12'))).toMatchObject({ status: 401 });
  });
});
