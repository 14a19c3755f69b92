import type { Clock } from '../../shared/clock.ts';
import { decodeChunk } from '../../shared/tunnel/binary.ts';
import { CloseCode, closeCodeName } from '../../shared/tunnel/close-codes.ts';
import {
  encodeFrame,
  FrameError,
  HEARTBEAT_PING,
  HEARTBEAT_PONG,
  parseAgentFrame,
  PROTOCOL_VERSION,
  type AgentFrame,
  type EdgeFrame,
  type EvtFrame,
  type FileFrame,
  type HelloFrame,
  type LiveFrame,
  type OutboxEvent,
  type ResFrame,
} from '../../shared/tunnel/frames.ts';
import type { EdgeStore } from './store.ts';

/** The edge's side of one WebSocket, as each runtime adapts it. */
export interface EdgeSocket {
  send(data: string | Uint8Array): void;
  close(code: number, reason: string): void;
}

/** What the box told us in its hello, kept current by its status frames. */
export type DeviceFacts = Omit<HelloFrame, 't' | 'v'>;

/** One command or file stream in flight, correlated by id; tunnel-device.ts owns the meaning. */
export interface Exchange {
  onRes(frame: ResFrame): void;
  onFile?(frame: FileFrame): void;
  onChunk?(payload: Uint8Array): void;
  onEof?(): void;
  /** The tunnel ended before the exchange did. */
  onClosed(reason: string): void;
}

export type SessionState = 'hello' | 'welcoming' | 'open' | 'closed';

export interface TunnelSessionOptions {
  /** The MAC the device token was issued for; the hello must name the same. */
  mac: string;
  socket: EdgeSocket;
  store: Pick<EdgeStore, 'commitEvents' | 'committedSeq'>;
  clock: Clock;
  /** How often the agent pings; silence for 2.5 of these closes the tunnel. */
  heartbeatMs: number;
  log(entry: Record<string, unknown>): void;
  /** The hello was accepted and welcomed. */
  onReady(session: TunnelSession): void;
  onFacts?(session: TunnelSession): void;
  /** Events were committed (and acked). */
  onCommitted?(mac: string, count: number): void;
  /** The committed events themselves, for live listeners (the toolbar stream). */
  onEvents?(mac: string, events: readonly OutboxEvent[]): void;
  /** Toolbar-only live state, passed on as it came (not stored). */
  onLive?(mac: string, events: LiveFrame['events']): void;
  onClosed(session: TunnelSession, code: number, reason: string): void;
  /**
   * False where the runtime answers pings and reports liveness itself (a hibernating Durable
   * Object: a watchdog timer would keep it awake).
   */
  watchHeartbeat?: boolean;
  /** A session already welcomed, rebuilt after the runtime let its object sleep (Workers). */
  restored?: RestoredSession;
}

/** What a runtime keeps of a welcomed session to rebuild it without a new hello. */
export interface RestoredSession {
  facts: DeviceFacts;
  since: number;
}

const HELLO_WITHIN_MS = 15_000;

/**
 * The edge end of one agent connection: checks the hello, welcomes with what the edge already
 * committed, answers heartbeats, commits events before acknowledging them, and routes answers to
 * their exchange. A bad frame closes the tunnel with a named code and a log line, never a throw.
 */
export class TunnelSession {
  readonly mac: string;
  private stateValue: SessionState = 'hello';
  private factsValue: DeviceFacts | null = null;
  private sinceValue: number | null = null;
  private lastHeard: number;
  private nextId = 1;
  private readonly exchanges = new Map<number, Exchange>();
  /** Event commits run one after another so acks go out in order. */
  private commits: Promise<void> = Promise.resolve();
  private cancelTimer: () => void;

  constructor(private readonly opts: TunnelSessionOptions) {
    this.mac = opts.mac;
    this.lastHeard = opts.clock.now();
    if (opts.restored) {
      this.stateValue = 'open';
      this.factsValue = opts.restored.facts;
      this.sinceValue = opts.restored.since;
      // Answers to exchanges begun before the rebuild may still arrive: new ids must not collide.
      this.nextId = 1 + Math.floor(Math.random() * 0x7fffffff);
      this.cancelTimer = () => {};
      this.watchHeartbeat();
      return;
    }
    this.cancelTimer = opts.clock.setTimer(HELLO_WITHIN_MS, () => {
      if (this.stateValue === 'hello') this.close(CloseCode.BAD_HELLO, 'no hello within 15 s');
    });
  }

  get state(): SessionState {
    return this.stateValue;
  }
  get facts(): DeviceFacts | null {
    return this.factsValue;
  }
  /** Epoch ms the tunnel was welcomed. */
  get since(): number | null {
    return this.sinceValue;
  }

  receiveText(text: string): void {
    if (this.stateValue === 'closed') return;
    this.lastHeard = this.opts.clock.now();
    // Fixed string, answered before parsing (the Workers edge answers it without waking at all).
    if (text === HEARTBEAT_PING) return this.sendRaw(HEARTBEAT_PONG);
    let frame: AgentFrame;
    try {
      frame = parseAgentFrame(text);
    } catch (e) {
      return this.reject(CloseCode.BAD_FRAME, e instanceof FrameError ? e.message : String(e));
    }
    if (this.stateValue === 'hello') {
      if (frame.t !== 'hello') return this.reject(CloseCode.BAD_HELLO, `first frame was ${frame.t}, not hello`);
      return void this.onHello(frame);
    }
    if (this.stateValue === 'welcoming') return this.reject(CloseCode.BAD_FRAME, `${frame.t} before the welcome`);
    switch (frame.t) {
      case 'hello':
        return this.reject(CloseCode.BAD_FRAME, 'a second hello');
      case 'ping':
        return this.sendRaw(HEARTBEAT_PONG);
      case 'status': {
        const { t: _t, ...status } = frame;
        this.factsValue = { ...(this.factsValue as DeviceFacts), ...status };
        this.opts.onFacts?.(this);
        return;
      }
      case 'evt':
        return this.onEvents(frame);
      case 'live':
        return this.opts.onLive?.(this.mac, frame.events);
      case 'res': {
        const x = this.exchanges.get(frame.id);
        if (!x) return; // answered after the edge gave up on it: nobody waits any more
        this.exchanges.delete(frame.id);
        return x.onRes(frame);
      }
      case 'file':
        return this.exchanges.get(frame.id)?.onFile?.(frame);
      case 'eof': {
        const x = this.exchanges.get(frame.id);
        this.exchanges.delete(frame.id);
        return x?.onEof?.();
      }
      default:
        // A frame type added to shared/tunnel/frames.ts must be handled here: this stops compiling.
        return frame satisfies never;
    }
  }

  receiveBinary(bytes: Uint8Array): void {
    if (this.stateValue !== 'open') return this.reject(CloseCode.BAD_FRAME, 'binary frame before the welcome');
    this.lastHeard = this.opts.clock.now();
    const chunk = decodeChunk(bytes);
    if (!chunk) return this.reject(CloseCode.BAD_FRAME, 'binary frame shorter than its header');
    // Chunks of a stream the edge cancelled may still be on the wire: dropped.
    this.exchanges.get(chunk.id)?.onChunk?.(chunk.payload);
  }

  /** Registers an exchange and returns its id for the cmd or open frame. */
  begin(exchange: Exchange): number {
    if (this.stateValue !== 'open') throw new Error('tunnel session is not open');
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    this.exchanges.set(id, exchange);
    return id;
  }

  /** Ends an exchange from the edge side; `cancel` tells the agent to stop working on it. */
  end(id: number, cancel: boolean): void {
    if (!this.exchanges.delete(id) || !cancel) return;
    this.send({ t: 'cancel', id });
  }

  send(frame: EdgeFrame): void {
    this.sendRaw(encodeFrame(frame));
  }

  close(code: number, reason: string): void {
    if (this.stateValue === 'closed') return;
    try {
      this.opts.socket.close(code, reason);
    } finally {
      this.closed(code, reason);
    }
  }

  /** The runtime calls this when the socket ended, whoever ended it. */
  closed(code: number, reason: string): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.cancelTimer();
    const why = `${closeCodeName(code)}${reason ? `: ${reason}` : ''}`;
    const pending = [...this.exchanges.values()];
    this.exchanges.clear();
    for (const x of pending) x.onClosed(why);
    this.opts.log({ msg: 'tunnel closed', mac: this.mac, code, codeName: closeCodeName(code), reason });
    this.opts.onClosed(this, code, reason);
  }

  private sendRaw(text: string): void {
    if (this.stateValue !== 'closed') this.opts.socket.send(text);
  }

  private reject(code: number, reason: string): void {
    this.opts.log({ level: 'warn', msg: 'closing tunnel: protocol violation', mac: this.mac, code: closeCodeName(code), reason });
    this.close(code, reason.slice(0, 120));
  }

  private async onHello(hello: HelloFrame): Promise<void> {
    if (hello.v !== PROTOCOL_VERSION) return this.reject(CloseCode.UNSUPPORTED_VERSION, `agent speaks v${hello.v}, edge v${PROTOCOL_VERSION}`);
    if (hello.mac !== this.mac) return this.reject(CloseCode.BAD_HELLO, `hello names ${hello.mac}, the token is for ${this.mac}`);
    this.stateValue = 'welcoming';
    const { t: _t, v: _v, ...facts } = hello;
    this.factsValue = facts;
    let seq: number;
    try {
      seq = await this.opts.store.committedSeq(this.mac, hello.outbox.epoch);
    } catch (e) {
      this.opts.log({ level: 'error', msg: 'store failed while welcoming', mac: this.mac, error: String(e) });
      return this.close(CloseCode.GOING_AWAY, 'edge storage unavailable');
    }
    if (this.stateValue !== 'welcoming') return;
    this.send({ t: 'welcome', v: PROTOCOL_VERSION, committed: { epoch: hello.outbox.epoch, seq }, heartbeatMs: this.opts.heartbeatMs });
    this.stateValue = 'open';
    this.sinceValue = this.opts.clock.now();
    this.cancelTimer();
    this.watchHeartbeat();
    this.opts.onReady(this);
  }

  /**
   * Wakes when the agent would have been silent too long if nothing came since it last heard, not
   * every heartbeat: with 10,000 tunnels that is 2.5x fewer timers than pings, where a timer per
   * heartbeat doubled the edge's work per ping.
   */
  private watchHeartbeat(delay = this.opts.heartbeatMs * 2.5): void {
    if (this.opts.watchHeartbeat === false) return;
    const limit = this.opts.heartbeatMs * 2.5;
    this.cancelTimer = this.opts.clock.setTimer(delay, () => {
      if (this.stateValue !== 'open') return;
      const silent = this.opts.clock.now() - this.lastHeard;
      if (silent > limit) return this.close(CloseCode.HEARTBEAT_TIMEOUT, `no word from the agent for ${silent} ms`);
      this.watchHeartbeat(limit - silent + 1);
    });
  }

  private onEvents(frame: EvtFrame): void {
    this.commits = this.commits.then(async () => {
      if (this.stateValue !== 'open') return;
      try {
        await this.opts.store.commitEvents(this.mac, frame.epoch, frame.events, this.opts.clock.now());
      } catch (e) {
        // Not acked, so the agent keeps them and sends them again after it reconnects.
        this.opts.log({ level: 'error', msg: 'store failed to commit events', mac: this.mac, error: String(e) });
        return this.close(CloseCode.GOING_AWAY, 'edge storage unavailable');
      }
      const last = frame.events[frame.events.length - 1]!;
      this.send({ t: 'ack', epoch: frame.epoch, seq: last.seq });
      this.opts.onCommitted?.(this.mac, frame.events.length);
      this.opts.onEvents?.(this.mac, frame.events);
    });
  }
}
