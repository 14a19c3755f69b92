import { describe, expect, it } from 'vitest';
import type { Clock } from '../../shared/clock.ts';
import { CloseCode } from '../../shared/tunnel/close-codes.ts';
import { encodeFrame, HEARTBEAT_PING, HEARTBEAT_PONG, PROTOCOL_VERSION, type HelloFrame } from '../../shared/tunnel/frames.ts';
import { createMemoryStore } from '../../edge/core/memory-store.ts';
import type { EdgeStore } from '../../edge/core/store.ts';
import { TunnelSession } from '../../edge/core/tunnel-session.ts';

const MAC = '68:69:2e:03:8b:3e';

function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  const timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    setTimer(ms, fn) {
      const t = { at: now + ms, fn };
      timers.push(t);
      return () => timers.splice(timers.indexOf(t) >>> 0, 1);
    },
    advance(ms) {
      now += ms;
      for (const t of timers.filter((x) => x.at <= now)) {
        timers.splice(timers.indexOf(t), 1);
        t.fn();
      }
    },
  };
}

const hello = (mac = MAC): string =>
  encodeFrame({
    t: 'hello', v: PROTOCOL_VERSION, mac, agentVersion: '1', timeZone: 'UTC', driver: 'sip', url: null, popUrl: null,
    wrapup: { enabled: false, seconds: 30 }, ami: 'ready', webkeyDigests: [], outbox: { epoch: 'e1', firstUnacked: 0, nextSeq: 0, dropped: 0 }, gaps: [],
  } satisfies HelloFrame);

function session(store: Pick<EdgeStore, 'commitEvents' | 'committedSeq'> = createMemoryStore()) {
  const sent: string[] = [];
  const closes: { code: number; reason: string }[] = [];
  const logs: Record<string, unknown>[] = [];
  const clock = manualClock();
  let ready = 0;
  const s = new TunnelSession({
    mac: MAC,
    socket: { send: (d) => sent.push(String(d)), close: (code, reason) => closes.push({ code, reason }) },
    store,
    clock,
    heartbeatMs: 1000,
    log: (e) => logs.push(e),
    onReady: () => ready++,
    onClosed: () => {},
  });
  return { s, sent, closes, logs, clock, ready: () => ready };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('edge tunnel session', () => {
  it('closes BAD_FRAME with a log line on a frame that does not parse, without throwing', () => {
    const { s, closes, logs } = session();
    s.receiveText(hello());
    expect(() => s.receiveText('{"t":"evt","epoch":"e1"')).not.toThrow();
    expect(closes[0]?.code).toBe(CloseCode.BAD_FRAME);
    expect(logs.some((l) => l.msg === 'closing tunnel: protocol violation')).toBe(true);
    expect(s.state).toBe('closed');
  });

  it('closes BAD_HELLO when the first frame is not a hello, or names another MAC', () => {
    const a = session();
    a.s.receiveText(encodeFrame({ t: 'eof', id: 1 }));
    expect(a.closes[0]?.code).toBe(CloseCode.BAD_HELLO);
    const b = session();
    b.s.receiveText(hello('68:69:2e:03:8b:3f'));
    expect(b.closes[0]?.code).toBe(CloseCode.BAD_HELLO);
    expect(b.ready()).toBe(0);
  });

  it('welcomes with the committed seq, answers pings, and drops a silent agent', async () => {
    const store = createMemoryStore();
    await store.commitEvents(MAC, 'e1', [{ seq: 0, type: 'cdr', body: '{}' }, { seq: 1, type: 'cdr', body: '{}' }], 0);
    const { s, sent, closes, clock } = session(store);
    s.receiveText(hello());
    await flush();
    expect(JSON.parse(sent[0]!)).toMatchObject({ t: 'welcome', committed: { epoch: 'e1', seq: 1 }, heartbeatMs: 1000 });
    s.receiveText(HEARTBEAT_PING);
    expect(sent.at(-1)).toBe(HEARTBEAT_PONG);
    clock.advance(1000);
    clock.advance(1000);
    expect(closes).toHaveLength(0);
    clock.advance(1000);
    expect(closes[0]?.code).toBe(CloseCode.HEARTBEAT_TIMEOUT);
  });

  it('drops an agent 2.5 heartbeats after its last word, whenever in the window that came', async () => {
    const { s, closes, clock } = session(createMemoryStore());
    s.receiveText(hello());
    await flush();
    clock.advance(1700);
    s.receiveText(HEARTBEAT_PING);
    clock.advance(2500);
    expect(closes).toHaveLength(0);
    clock.advance(100);
    expect(closes[0]?.code).toBe(CloseCode.HEARTBEAT_TIMEOUT);
  });

  it('acks only after the store has committed, and a replayed batch adds nothing', async () => {
    const inner = createMemoryStore();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const store: Pick<EdgeStore, 'commitEvents' | 'committedSeq'> = {
      committedSeq: (m, e) => inner.committedSeq(m, e),
      commitEvents: async (...args) => {
        await gate;
        return inner.commitEvents(...args);
      },
    };
    const { s, sent } = session(store);
    s.receiveText(hello());
    await flush();
    const batch = encodeFrame({ t: 'evt', epoch: 'e1', events: [{ seq: 0, type: 'cdr', body: '{"n":0}' }, { seq: 1, type: 'cdr', body: '{"n":1}' }] });
    s.receiveText(batch);
    s.receiveText(batch);
    await flush();
    expect(sent.filter((f) => f.includes('"ack"'))).toHaveLength(0);
    release();
    await flush();
    await flush();
    expect(sent.filter((f) => f.includes('"ack"')).map((f) => JSON.parse(f).seq)).toEqual([1, 1]);
    expect(await inner.waitingCount(MAC)).toBe(2);
  });
});
