import type { ByteRange } from '../device.ts';

/**
 * What a `Range` header asks of a file of `size` bytes (RFC 9110 §14).
 * - `full`: no header, a unit other than bytes, or a header we cannot read: the whole file, 200.
 * - `partial`: the one range to send, 206.
 * - `unsatisfiable`: 416 with `Content-Range: bytes *\/size`.
 * A multi-range request is answered with its first range only (no multipart/byteranges): players
 * ask for one range at a time, and one range keeps the answer a plain stream.
 */
export type RangeRequest = { kind: 'full' } | { kind: 'partial'; range: ByteRange } | { kind: 'unsatisfiable' };

const RANGE_SPEC = /^(\d*)-(\d*)$/;

export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'full' };
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!m) return { kind: 'full' };
  const first = m[1]!.split(',')[0]!.trim();
  const parts = RANGE_SPEC.exec(first);
  if (!parts) return { kind: 'full' };
  const [, a = '', b = ''] = parts;
  if (a === '' && b === '') return { kind: 'full' };
  if (a === '') {
    // Suffix range: the last n bytes.
    const n = Number(b);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', range: { start: Math.max(0, size - n), end: size - 1 } };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (b !== '' && Number(b) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', range: { start, end } };
}

export const contentRange = (range: ByteRange, size: number) => `bytes ${range.start}-${range.end}/${size}`;
