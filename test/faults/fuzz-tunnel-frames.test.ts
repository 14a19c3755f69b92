import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../edge/core/memory-store.ts';
import { TunnelSession } from '../../edge/core/tunnel-session.ts';
import { CloseCode } from '../../shared/tunnel/close-codes.ts';
import { encodeFrame, FrameError, parseAgentFrame, parseEdgeFrame, PROTOCOL_VERSION, type AgentFrame } from '../../shared/tunnel/frames.ts';
import { systemClock } from '../../shared/clock.ts';
import { until } from '../support/wait.ts';
import { recordInjected } from './injected.ts';

const RUNS = 300;
/** Inputs the two frame properties were really run on, counted inside them, for the row of the second. */
let framesRan = 0;
const MAC = '68:69:2e:03:8b:3e';

/** A valid frame of every kind the agent sends, to mutate. */
const valid: AgentFrame[] = [
  { t: 'status', ami: 'ready', webkeyDigests: [], outbox: { epoch: 'e1', firstUnacked: 1, nextSeq: 2, dropped: 0 }, gaps: [] },
  { t: 'evt', epoch: 'e1', events: [{ seq: 1, type: 'hangup', body: '{"event":"hangup"}' }] },
  { t: 'res', id: 1, ok: true, body: { status: 'success' } },
  { t: 'res', id: 2, ok: false, error: { code: 'CONFLICT', message: 'no call' } },
  { t: 'file', id: 3, size: 10, contentType: 'audio/wav' },
  { t: 'eof', id: 3 },
];

/** Replaces one value somewhere in a JSON tree with an arbitrary JSON value. */
function mutate(tree: unknown, path: number[], replacement: unknown): unknown {
  if (path.length === 0 || tree === null || typeof tree !== 'object') return replacement;
  const keys = Object.keys(tree);
  if (keys.length === 0) return replacement;
  const k = keys[path[0]! % keys.length]!;
  const copy: Record<string, unknown> = Array.isArray(tree) ? ([...tree] as unknown as Record<string, unknown>) : { ...(tree as Record<string, unknown>) };
  copy[k] = mutate((tree as Record<string, unknown>)[k], path.slice(1), replacement);
  return copy;
}

const parseOrFrameError = (parse: (t: string) => unknown, text: string): 'ok' | 'refused' => {
  try {
    parse(text);
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(FrameError);
    return 'refused';
  }
};

describe('tunnel frames under fuzzing', () => {
  it('any text: a frame or FrameError, on both sides, never another throw', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.json({ maxDepth: 4 }), fc.string({ unit: 'binary', maxLength: 300 })), (text) => {
        framesRan++;
        parseOrFrameError(parseAgentFrame, text);
        parseOrFrameError(parseEdgeFrame, text);
      }),
      { numRuns: RUNS },
    );
  });

  it('valid frames with one value replaced: what parses still has the schema\'s types, the rest is FrameError', () => {
    let refused = 0;
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }), (frame, path, replacement) => {
        framesRan++;
        const text = JSON.stringify(mutate(frame, path, replacement));
        if (parseOrFrameError(parseAgentFrame, text) === 'refused') refused++;
        else expect(typeof (parseAgentFrame(text) as { t: unknown }).t).toBe('string');
      }),
      { numRuns: RUNS },
    );
    expect(refused).toBeGreaterThan(0);
    recordInjected('fuzz', {
      fault: `fuzz, tunnel frames: ${RUNS * 2} random and mutated frames, each parsed or refused with FrameError`,
      injected: framesRan, injectedWhat: 'frames run',
      generated: 0, delivered: 0, duplicated: 0, lost: 0, droppedCounted: 0, outOfOrder: 0,
      commands: RUNS * 2, commandsAnsweredInTime: RUNS * 2, badThrough: 0, recoverySec: null,
    });
  });

  it('the edge session closes BAD_FRAME on every frame that does not parse, and never throws', async () => {
    const hello = encodeFrame({
      t: 'hello', v: PROTOCOL_VERSION, mac: MAC, agentVersion: '1', timeZone: 'UTC', driver: 'sip', url: null, popUrl: null,
      wrapup: { enabled: false, seconds: 30 }, ami: 'ready', webkeyDigests: [], outbox: { epoch: 'e1', firstUnacked: 0, nextSeq: 0, dropped: 0 }, gaps: [],
    });
    let sessions = 0;
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }).filter((t) => parseOrFrameError(parseAgentFrame, t) === 'refused'), async (bad) => {
        const closes: number[] = [];
        const sent: string[] = [];
        const s = new TunnelSession({
          mac: MAC,
          socket: { send: (d) => sent.push(String(d)), close: (code) => closes.push(code) },
          store: createMemoryStore(),
          clock: systemClock,
          heartbeatMs: 60_000,
          log: () => {},
          onReady: () => {},
          onClosed: () => {},
        });
        s.receiveText(hello);
        await until(() => sent.some((f) => f.includes('"welcome"')), 'the welcome');
        expect(() => s.receiveText(bad)).not.toThrow();
        expect(closes).toEqual([CloseCode.BAD_FRAME]);
        sessions++;
      }),
      { numRuns: 100 },
    );
    recordInjected('fuzz', {
      fault: `fuzz, edge tunnel session: ${sessions} malformed frames after the welcome, each closed BAD_FRAME`,
      injected: sessions, injectedWhat: 'malformed frames sent',
      generated: 0, delivered: 0, duplicated: 0, lost: 0, droppedCounted: 0, outOfOrder: 0,
      commands: sessions, commandsAnsweredInTime: sessions, badThrough: 0, recoverySec: null,
    });
  });
});
