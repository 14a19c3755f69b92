import type { AmiMessage } from '../ami/message.ts';

/**
 * When an event happened (epoch ms): Asterisk's own `Timestamp:` (manager.conf `timestampevents=yes`)
 * when present, so the same traffic gives the same times whenever it is read; else the receive time.
 */
export function eventTimeMs(ami: AmiMessage, receivedAt: number): number {
  const ts = ami.get('Timestamp');
  if (ts !== undefined) {
    const s = Number(ts);
    if (Number.isFinite(s)) return Math.round(s * 1000);
  }
  return receivedAt;
}

/** The documents' `timestamp`: epoch seconds with microseconds, as a string. */
export function documentTimestamp(ami: AmiMessage, receivedAt: number): string {
  const ts = ami.get('Timestamp');
  if (ts !== undefined && /^\d+(\.\d+)?$/.test(ts)) return ts;
  return (receivedAt / 1000).toFixed(6);
}

/**
 * The zone name that means the zone this process runs in, the box's own (TZ, else /etc/localtime, as
 * Asterisk's). Its times come from Date's local fields, which need none of ICU's zone and locale
 * data: formatting through Intl.DateTimeFormat maps about 6 MiB of it into the agent (bench
 * agent-rss), a tenth of what the agent takes on a small PBX.
 */
export const BOX_ZONE = 'localtime';

type Fields = [year: number, month: number, day: number, hour: number, minute: number, second: number];

const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of an instant in a zone: BOX_ZONE, 'UTC' or any IANA name. */
function fieldsAt(ms: number, timeZone: string): Fields {
  const t = new Date(ms);
  if (timeZone === BOX_ZONE) return [t.getFullYear(), t.getMonth() + 1, t.getDate(), t.getHours(), t.getMinutes(), t.getSeconds()];
  if (timeZone === 'UTC') return [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate(), t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds()];
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
    formats.set(timeZone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(t)) p[part.type] = Number(part.value);
  return [p.year!, p.month!, p.day!, p.hour!, p.minute!, p.second!];
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `YYYY-MM-DD HH:MM:SS` in the PBX's zone, the form Asterisk's CDRs use. */
export function formatPbxTime(ms: number, timeZone: string): string {
  const [y, mo, d, h, mi, s] = fieldsAt(ms, timeZone);
  return `${pad(y, 4)}-${pad(mo)}-${pad(d)} ${pad(h)}:${pad(mi)}:${pad(s)}`;
}

/** Whole seconds between two event times, never negative (events of one call can arrive out of order). */
export function seconds(fromMs: number, toMs: number): number {
  return Math.max(0, Math.round((toMs - fromMs) / 1000));
}

/**
 * Epoch ms of a `YYYY-MM-DD HH:MM:SS` wall-clock time in the PBX's zone (the inverse of
 * formatPbxTime); NaN when the text is not such a time. In the hour a clock goes back, the earlier
 * of the two instants.
 */
export function parsePbxTime(text: string, timeZone: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) return Number.NaN;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as Fields;
  const asUtc = wallAsUtc([y, mo, d, h, mi, s]);
  // Date.UTC carries a 13th month or a 61st minute over; such a text is no time.
  if (formatPbxTime(asUtc, 'UTC') !== `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}`) return Number.NaN;
  if (timeZone === 'UTC') return asUtc;
  // Date's local time takes the earlier instant of a repeated hour, as ECMAScript asks.
  if (timeZone === BOX_ZONE) return new Date(y, mo - 1, d, h, mi, s).getTime();
  // The zone's offsets a day before and after; of the instants they give, those that read back as the text.
  const offset = (at: number) => wallAsUtc(fieldsAt(at, timeZone)) - Math.floor(at / 1000) * 1000;
  const before = asUtc - offset(asUtc - DAY_MS);
  const fits = [before, asUtc - offset(asUtc + DAY_MS)].filter((t) => wallAsUtc(fieldsAt(t, timeZone)) === asUtc);
  // A time in a skipped hour is read with the offset before the change, as Date does.
  return fits.length > 0 ? Math.min(...fits) : before;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The instant whose UTC fields are these wall-clock fields. */
const wallAsUtc = ([y, mo, d, h, mi, s]: Fields) => Date.UTC(y, mo - 1, d, h, mi, s);
