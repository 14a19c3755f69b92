import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AmiParser, AmiProtocolError, type AmiFrame } from '../../agent/ami/parser.ts';
import { recordInjected } from './injected.ts';

const RUNS = 300;
const MAX_LINE = 256;
const MAX_HEADERS = 16;

/** Cuts `bytes` at the given points (any byte: inside CRLF, inside a UTF-8 character). */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  return out;
}

const shape = (frames: AmiFrame[]) => frames.map((f) => (f.kind === 'banner' ? ['banner', f.banner] : ['message', f.message.pairs]));

/** Header names as Asterisk writes them; values with colons, spaces, Chinese caller names. */
const key = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/);
const value = fc.string({ unit: fc.constantFrom('a', '1', ' ', ':', '/', '-', '张', '三', 'é', '@'), maxLength: 40 });
const message = fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 10 });

describe('AMI parser under fuzzing', () => {
  it('random bytes in random chunks: frames or AmiProtocolError, never another throw, never a line buffered past the bound', () => {
    let rejected = 0;
    let ran = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.array(fc.nat(), { maxLength: 20 }), (bytes, cuts) => {
        ran++;
        const parser = new AmiParser({ maxLineBytes: MAX_LINE, maxHeaders: MAX_HEADERS, expectBanner: true });
        for (const chunk of chunked(Buffer.from(bytes), cuts)) {
          try {
            parser.push(chunk);
          } catch (e) {
            if (!(e instanceof AmiProtocolError)) throw e;
            rejected++;
          }
          expect((parser as unknown as { pending: string }).pending.length).toBeLessThanOrEqual(MAX_LINE);
        }
      }),
      { numRuns: RUNS },
    );
    recordInjected('fuzz', fuzzRow(`AMI parser: ${RUNS} random byte streams in random chunks (${rejected} chunks refused as over a bound)`, RUNS, ran));
  });

  it('a line with no end is refused at maxLineBytes, and headers past maxHeaders end the message', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_LINE + 1, max: MAX_LINE * 8 }), fc.integer({ min: 1, max: 64 }), (len, step) => {
        const parser = new AmiParser({ maxLineBytes: MAX_LINE, maxHeaders: MAX_HEADERS });
        const line = Buffer.alloc(len, 0x41);
        let thrown = false;
        for (let at = 0; at < len && !thrown; at += step) {
          try {
            parser.push(line.subarray(at, at + step));
          } catch (e) {
            expect(e).toBeInstanceOf(AmiProtocolError);
            thrown = true;
          }
        }
        expect(thrown).toBe(true);
        const many = Array.from({ length: MAX_HEADERS + 1 }, (_, i) => `H${i}: v\r\n`).join('');
        expect(() => new AmiParser({ maxHeaders: MAX_HEADERS }).push(many)).toThrow(AmiProtocolError);
      }),
      { numRuns: 50 },
    );
  });

  it('the same messages whatever the chunking, CRLF or LF, multi-byte characters cut anywhere', () => {
    let ran = 0;
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 8 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 40 }), (messages, bareLf, cuts) => {
        ran++;
        const eol = bareLf ? '\n' : '\r\n';
        const text = 'Asterisk Call Manager/9.0.0' + eol + messages.map((m) => m.map(([k, v]) => `${k}: ${v}${eol}`).join('') + eol).join('');
        const bytes = Buffer.from(text, 'utf8');
        const whole = new AmiParser({ expectBanner: true }).push(bytes);
        const parser = new AmiParser({ expectBanner: true });
        const pieces = chunked(bytes, cuts).flatMap((c) => parser.push(c));
        expect(shape(pieces)).toEqual(shape(whole));
        expect(whole.filter((f) => f.kind === 'message')).toHaveLength(messages.length);
      }),
      { numRuns: RUNS },
    );
    recordInjected('fuzz', fuzzRow(`AMI parser: ${RUNS} message lists, every chunking gives the same messages`, RUNS, ran));
  });
});

/** `ran`: the inputs the property was really run on, counted inside it. */
function fuzzRow(fault: string, inputs: number, ran: number) {
  return { fault: `fuzz, ${fault}`, injected: ran, injectedWhat: 'inputs run', generated: 0, delivered: 0, duplicated: 0, lost: 0, droppedCounted: 0, outOfOrder: 0, commands: inputs, commandsAnsweredInTime: inputs, badThrough: 0, recoverySec: null };
}
