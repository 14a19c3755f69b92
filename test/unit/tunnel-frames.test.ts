import { describe, expect, it } from 'vitest';
import { decodeChunk, encodeChunk } from '../../shared/tunnel/binary.ts';
import { CloseCode, closeCodeName } from '../../shared/tunnel/close-codes.ts';
import {
  encodeFrame,
  FrameError,
  HEARTBEAT_PING,
  HEARTBEAT_PONG,
  parseAgentFrame,
  parseEdgeFrame,
  PROTOCOL_VERSION,
  type HelloFrame,
} from '../../shared/tunnel/frames.ts';

const hello: HelloFrame = {
  t: 'hello',
  v: PROTOCOL_VERSION,
  mac: '68:69:2e:03:8b:3e',
  agentVersion: '0.1.0',
  timeZone: 'Asia/Shanghai',
  driver: 'sip',
  url: 'http://192.168.12.185:8090',
  popUrl: null,
  wrapup: { enabled: true, seconds: 30 },
  ami: 'ready',
  asteriskVersion: '20.20.1',
  webkeyDigests: ['0123456789abcdef0123456789abcdef'],
  outbox: { epoch: 'e1', firstUnacked: 0, nextSeq: 3, dropped: 0 },
  gaps: [],
};

describe('tunnel frames', () => {
  it('round-trips every frame kind through encode and parse', () => {
    expect(parseAgentFrame(encodeFrame(hello))).toEqual(hello);
    const res = { t: 'res', id: 7, ok: false, error: { code: 'CONFLICT', message: 'no call' } } as const;
    expect(parseAgentFrame(encodeFrame(res))).toEqual(res);
    const cmd = { t: 'cmd', id: 1, op: 'hangup', params: { extension: '801' }, timeoutMs: 10000 } as const;
    expect(parseEdgeFrame(encodeFrame(cmd))).toEqual(cmd);
    expect(parseAgentFrame(HEARTBEAT_PING)).toEqual({ t: 'ping' });
    expect(parseEdgeFrame(HEARTBEAT_PONG)).toEqual({ t: 'pong' });
  });

  it('rejects malformed frames with a FrameError naming the fault', () => {
    const bad = [
      'not json',
      '[]',
      '{"t":"nope"}',
      JSON.stringify({ ...hello, mac: '68:69:2E:03:8B:3E' }),
      JSON.stringify({ ...hello, webkeyDigests: ['xyz'] }),
      JSON.stringify({ t: 'evt', epoch: 'e', events: [] }),
      JSON.stringify({ t: 'res', id: -1, ok: true, body: 1 }),
    ];
    for (const b of bad) expect(() => parseAgentFrame(b), b).toThrow(FrameError);
    expect(() => parseEdgeFrame(JSON.stringify({ t: 'cmd', id: 1, op: 'x', params: { a: 1 }, timeoutMs: 5 }))).toThrow(/params\.a/);
    // A frame the agent may send is not one the edge may send, and the reverse.
    expect(() => parseEdgeFrame(encodeFrame(hello))).toThrow(FrameError);
  });

  it('frames binary chunks with their stream id', () => {
    const f = encodeChunk(0xabcdef01, new Uint8Array([1, 2, 3]));
    expect(decodeChunk(f)).toEqual({ id: 0xabcdef01, payload: new Uint8Array([1, 2, 3]) });
    expect(decodeChunk(new Uint8Array([1, 2]))).toBeNull();
  });

  it('names close codes', () => {
    expect(closeCodeName(CloseCode.REPLACED)).toBe('REPLACED');
    expect(closeCodeName(4999)).toBe('UNKNOWN');
  });
});
