/**
 * Encodes AMI actions. AMI is a line protocol: one CR or LF inside a value would end the header and
 * let the rest be read as a new header or a whole new action, so any control character is refused
 * before a byte is written.
 */
export type AmiValue = string | number | boolean | readonly (string | number)[] | undefined | null;
export type AmiAction = { Action: string } & Record<string, AmiValue>;

export class AmiInjectionError extends Error {
  readonly code = 'AMI_INJECTION';
  constructor(readonly field: string) {
    super(`AMI field "${field}" contains a control character (CR, LF or similar) and was not sent`);
  }
}

// C0 controls and DEL. Tab is refused too: nothing this product sends needs it, and some
// Asterisk versions trim it from header values in surprising ways.
const CONTROL = /[\u0000-\u001f\u007f]/;
const KEY = /^[A-Za-z0-9_\-()]+$/;

function check(key: string, value: string): void {
  if (CONTROL.test(value)) throw new AmiInjectionError(key);
}

/** Encodes one message block. Array values become repeated headers (`Variable: a=1`, `Variable: b=2`). */
export function encodeAction(action: Record<string, AmiValue>): string {
  let out = '';
  for (const key of Object.keys(action)) {
    const raw = action[key];
    if (raw === undefined || raw === null) continue;
    if (!KEY.test(key)) throw new AmiInjectionError(key);
    if (Array.isArray(raw)) {
      for (const v of raw) {
        const s = String(v);
        check(key, s);
        out += `${key}: ${s}\r\n`;
      }
    } else {
      const s = String(raw);
      check(key, s);
      out += `${key}: ${s}\r\n`;
    }
  }
  return out + '\r\n';
}
