/** Header pairs in wire order; a key may repeat (Command's Output, a dialplan UserEvent's CallerIDNum). */
export type Pairs = [string, string][];

/** Encodes one server message. Values come from the simulator itself, so no control-character check. */
export function encodeMessage(pairs: Pairs): string {
  let out = '';
  for (const [k, v] of pairs) out += `${k}: ${v}\r\n`;
  return out + '\r\n';
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `YYYY-MM-DD HH:MM:SS` in the process's local zone, as cdr_manager writes times. */
export function cdrTime(ms: number | undefined): string {
  if (ms === undefined) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `1795673741.648594`: epoch seconds with microseconds, as Ping and timestampevents write them. */
export function epochMicros(ms: number): string {
  const whole = Math.floor(ms / 1000);
  const micros = Math.floor((ms - whole * 1000) * 1000);
  return `${whole}.${pad(micros, 6)}`;
}

/** `2026-11-26T06:15:52.666+0000`, the security events' EventTV. */
export function eventTv(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}
