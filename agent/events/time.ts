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

const formats = new Map<string, Intl.DateTimeFormat>();

/** `YYYY-MM-DD HH:MM:SS` in the PBX's zone, the form Asterisk's CDRs use. */
export function formatPbxTime(ms: number, timeZone: string): string {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(timeZone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(new Date(ms))) p[part.type] = part.value;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
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
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  // The zone's offset at that instant, found by formatting; twice, for a time next to a change.
  let guess = asUtc;
  for (let i = 0; i < 2; i++) guess = asUtc - (Date.parse(`${formatPbxTime(guess, timeZone).replace(' ', 'T')}Z`) - guess);
  return guess;
}
