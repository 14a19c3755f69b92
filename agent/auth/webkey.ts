import { createHash } from 'node:crypto';
import { ApiError } from '../../shared/errors.ts';
import { matchesWebkeyDigest } from '../../shared/auth/webkey-digest.ts';
import { BOX_ZONE, formatPbxTime } from '../events/time.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The calendar date `YYYY-MM-DD` in `timeZone`. */
const localDate = (at: number, timeZone: string) => formatPbxTime(at, timeZone).slice(0, 10);

/**
 * md5(WEBKEY + 'YYYY-MM-DD') for the box's yesterday, today and tomorrow: the caller may compute the
 * date in its own time zone. These are what the edge gets, never the WEBKEY itself.
 */
export function webkeyDigests(webkey: string, at: number, timeZone = BOX_ZONE): string[] {
  const [y, m, d] = localDate(at, timeZone).split('-').map(Number) as [number, number, number];
  // Day arithmetic on the calendar date itself, so DST days of 23 or 25 hours do not skip a date.
  const today = Date.UTC(y, m - 1, d);
  return [today - DAY_MS, today, today + DAY_MS].map((day) =>
    createHash('md5').update(webkey + localDate(day, 'UTC')).digest('hex'),
  );
}

/**
 * The LAN API's check. Without a WEBKEY the document's box asks for nothing, and neither do we.
 * Throws ApiError UNAUTHORIZED for a missing or wrong Authorization.
 */
export function createWebkeyAuth(opts: { webkey: string | undefined; now: () => number; timeZone?: string }) {
  const { webkey, now } = opts;
  const timeZone = opts.timeZone ?? BOX_ZONE;
  return function checkWebkey(authorization: string | undefined): void {
    if (!webkey) return;
    if (authorization === undefined || authorization.trim() === '') {
      throw new ApiError('UNAUTHORIZED', "Authorization is required: md5(WEBKEY + 'YYYY-MM-DD') in hex");
    }
    if (!matchesWebkeyDigest(authorization, webkeyDigests(webkey, now(), timeZone))) {
      throw new ApiError(
        'UNAUTHORIZED',
        "Authorization is wrong: expected md5(WEBKEY + 'YYYY-MM-DD') in hex for yesterday, today or tomorrow on the box",
      );
    }
  };
}
