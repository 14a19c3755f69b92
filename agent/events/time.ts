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
