import { afterEach, describe, expect, it } from 'vitest';
import { webkeyDigests } from '../../agent/auth/webkey.ts';
import { BOX_ZONE, formatPbxTime, parsePbxTime } from '../../agent/events/time.ts';

const savedTz = process.env.TZ;
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});
/** Puts this process in `zone`, as a box whose TZ or /etc/localtime names it. */
const inZone = (zone: string) => {
  process.env.TZ = zone;
};

const iso = (ms: number) => new Date(ms).toISOString();

describe('PBX wall-clock times', () => {
  // Europe/Berlin: 2024-03-31 02:00 CET springs to 03:00 CEST; 2024-10-27 03:00 CEST falls back to 02:00 CET.
  const cases = [
    ['2024-01-15 09:30:05', '2024-01-15T08:30:05.000Z'],
    ['2024-07-01 23:59:59', '2024-07-01T21:59:59.000Z'],
    ['2024-03-31 01:59:59', '2024-03-31T00:59:59.000Z'],
    ['2024-03-31 03:00:00', '2024-03-31T01:00:00.000Z'],
    // The repeated hour: the earlier instant, still in summer time.
    ['2024-10-27 02:30:00', '2024-10-27T00:30:00.000Z'],
    ['2024-10-27 03:00:00', '2024-10-27T02:00:00.000Z'],
  ] as const;

  for (const [zone, label] of [
    ['Europe/Berlin', 'a named zone'],
    [BOX_ZONE, "the box's own zone"],
  ] as const) {
    it(`reads and writes ${label} across both DST changes`, () => {
      inZone('Europe/Berlin');
      for (const [wall, instant] of cases) {
        expect(iso(parsePbxTime(wall, zone)), wall).toBe(instant);
        expect(formatPbxTime(Date.parse(instant), zone), instant).toBe(wall);
      }
      // A time the clock skipped is read with the offset before the change, as Date reads it.
      expect(iso(parsePbxTime('2024-03-31 02:30:00', zone))).toBe('2024-03-31T01:30:00.000Z');
      for (const bad of ['2024-13-01 00:00:00', '2024-02-30 00:00:00', '2024-01-01 24:00:00', 'yesterday']) expect(parsePbxTime(bad, zone), bad).toBeNaN();
    });
  }

  it("follows the box's zone as TZ names it, and UTC whatever the box's zone", () => {
    const at = Date.UTC(2018, 10, 5, 11, 5, 31);
    inZone('Asia/Shanghai');
    expect(formatPbxTime(at, BOX_ZONE)).toBe('2018-11-05 19:05:31');
    expect(formatPbxTime(at, 'UTC')).toBe('2018-11-05 11:05:31');
    expect(parsePbxTime('2018-11-05 19:05:31', BOX_ZONE)).toBe(at);
    inZone('America/New_York');
    expect(formatPbxTime(at, BOX_ZONE)).toBe('2018-11-05 06:05:31');
    expect(parsePbxTime('2018-11-05 11:05:31', 'UTC')).toBe(at);
  });

  it("signs the LAN API's WEBKEY with the box's own date", () => {
    // 2024-03-01 02:00 in Shanghai is still 29 February in UTC.
    const at = Date.UTC(2024, 1, 29, 18, 0);
    inZone('Asia/Shanghai');
    expect(webkeyDigests('k', at)).toEqual(webkeyDigests('k', at, 'Asia/Shanghai'));
    inZone('UTC');
    expect(webkeyDigests('k', at)).toEqual(webkeyDigests('k', at, 'UTC'));
    expect(webkeyDigests('k', at, 'UTC')).not.toEqual(webkeyDigests('k', at, 'Asia/Shanghai'));
  });
});
