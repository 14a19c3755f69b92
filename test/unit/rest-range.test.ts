import { describe, expect, it } from 'vitest';
import { parseRange } from '../../shared/http/range.ts';

describe('parseRange', () => {
  it('reads a-b, a- and -n against the file size', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual({ kind: 'partial', range: { start: 0, end: 99 } });
    expect(parseRange('bytes=500-', 1000)).toEqual({ kind: 'partial', range: { start: 500, end: 999 } });
    expect(parseRange('bytes=-100', 1000)).toEqual({ kind: 'partial', range: { start: 900, end: 999 } });
    expect(parseRange('bytes=-5000', 1000)).toEqual({ kind: 'partial', range: { start: 0, end: 999 } });
    expect(parseRange('bytes=990-2000', 1000)).toEqual({ kind: 'partial', range: { start: 990, end: 999 } });
    expect(parseRange('BYTES = 1-2', 1000)).toEqual({ kind: 'partial', range: { start: 1, end: 2 } });
  });

  it('answers a multi-range with its first range', () => {
    expect(parseRange('bytes=10-19, 50-59', 1000)).toEqual({ kind: 'partial', range: { start: 10, end: 19 } });
  });

  it('is unsatisfiable past the end, for -0, and for any range of an empty file', () => {
    expect(parseRange('bytes=1000-', 1000)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 1000)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it('ignores what it cannot read (the whole file is sent)', () => {
    for (const h of [undefined, '', 'items=0-1', 'bytes=abc', 'bytes=5-3', 'bytes=-', 'bytes=1-2-3']) {
      expect(parseRange(h, 1000), String(h)).toEqual({ kind: 'full' });
    }
  });
});
