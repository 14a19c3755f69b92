import { operations, type OperationName } from '../../shared/api/operations.ts';
import type { Device } from '../../shared/device.ts';
import { ApiError } from '../../shared/errors.ts';
import { CHUNK_BYTES, encodeChunk } from '../../shared/tunnel/binary.ts';
import { CloseCode, closeCodeName } from '../../shared/tunnel/close-codes.ts';
import {
  encodeFrame,
  FrameError,
  HEARTBEAT_PING,
  parseEdgeFrame,
  PROTOCOL_VERSION,
  type AgentFrame,
  type CmdFrame,
  type EdgeFrame,
  type HelloFrame,
  type LiveFrame,
  type OpenFrame,
  type OutboxEvent,
  type StatusFrame,
} from '../../shared/tunnel/frames.ts';
import type { Clock } from '../../shared/clock.ts';
import { defaultRetryStrategy, type RetryStrategy } from '../ami/retry.ts';
import type { TunnelConnect, TunnelSocket } from './socket.ts';

/** What the tunnel needs of the agent's durable outbox. */
export interface TunnelOutbox {
  readonly epoch: string;
  /** Up to `max` entries with seq > `after`, oldest first. */
  readAfter(after: number, max: number): Promise<OutboxEvent[]>;
  /** The edge committed every entry up to `seq`: they may go. */
  ack(seq: number): Promise<void>;
  /** `oldestSeq` is the first entry not yet acknowledged, null when none waits. */
  stats(): { epoch: string; oldestSeq: number | null; nextSeq: number };
  /** Called after new entries are durably written. */
  onAppend(listener: () => void): () => void;
}

export type TunnelStatus = 'idle' | 'connecting' | 'waiting-welcome' | 'online' | 'reconnecting' | 'closed';

export interface TunnelClientOptions {
  url: string;
  token: string;
  mac: string;
  connect: TunnelConnect;
  device: Device;
  outbox: TunnelOutbox;
  /** The hello's device facts, read fresh at every connect. */
  hello(): Omit<HelloFrame, 't' | 'v' | 'mac'>;
  clock: Clock;
  retryStrategy?: RetryStrategy;
  /** Events in flight not yet acked by the edge; more waits for acks. */
  maxUnacked?: number;
  /** Pause file streaming above this many buffered bytes. */
  highWaterBytes?: number;
  log?: (entry: Record<string, unknown>) => void;
}

interface Stream {
  credit: number;
  cancelled: boolean;
  wake: (() => void) | null;
}

/**
 * The agent's end of the tunnel: dials out to the edge, says hello, runs the commands that come down
 * and streams the outbox up, resuming after the last sequence the edge committed. Reconnects forever
 * with capped jittered backoff; a silent link is noticed by missing pongs within ~2.5 heartbeats.
 */
export class TunnelClient {
  private statusValue: TunnelStatus = 'idle';
  /** sendStatus was called while the hello waited for its welcome. */
  private statusPending = false;
  private socket: TunnelSocket | null = null;
  private serial = 0;
  private attempt = 0;
  private readonly retry: RetryStrategy;
  /** Cancels of the timers this connection has armed. */
  private timers: { reconnect?: () => void; heartbeat?: () => void; welcome?: () => void } = {};
  private heartbeatMs = 10_000;
  private lastHeard = 0;
  /** Highest seq sent on this connection; pumping continues after it. */
  private sentUpTo = -1;
  private acked = -1;
  private pumping = false;
  private readonly streams = new Map<number, Stream>();
  private readonly running = new Map<number, AbortController>();
  private offAppend: (() => void) | null = null;
  private readonly statusListeners = new Set<(s: TunnelStatus, reason?: string) => void>();

  constructor(private readonly opts: TunnelClientOptions) {
    this.retry = opts.retryStrategy ?? defaultRetryStrategy();
  }

  get status(): TunnelStatus {
    return this.statusValue;
  }

  onStatus(listener: (s: TunnelStatus, reason?: string) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  start(): void {
    if (this.statusValue !== 'idle') return;
    this.offAppend = this.opts.outbox.onAppend(() => void this.pump());
    this.open();
  }

  /** Tells the edge what changed (AMI up/down, the day's WEBKEY digests, outbox counters). */
  sendStatus(): void {
    // A change between the hello and the welcome (AMI logging in meanwhile) is sent once welcomed.
    if (this.statusValue === 'waiting-welcome') this.statusPending = true;
    if (this.statusValue !== 'online') return;
    this.statusPending = false;
    const h = this.opts.hello();
    const frame: StatusFrame = { t: 'status', ami: h.ami, webkeyDigests: h.webkeyDigests, outbox: h.outbox, gaps: h.gaps };
    if (h.asteriskVersion !== undefined) frame.asteriskVersion = h.asteriskVersion;
    if (h.driver !== null) frame.driver = h.driver;
    this.send(frame);
  }

  /** Toolbar live state for the edge's open pages; dropped while offline (a page refreshes on reconnect). */
  sendLive(events: LiveFrame['events']): void {
    if (this.statusValue !== 'online' || events.length === 0) return;
    for (let i = 0; i < events.length; i += 100) this.send({ t: 'live', events: events.slice(i, i + 100) });
  }

  close(): void {
    if (this.statusValue === 'closed') return;
    this.offAppend?.();
    this.clearTimers();
    this.timers.reconnect?.();
    this.setStatus('closed', 'closed by the agent');
    this.teardown();
    this.socket?.close(CloseCode.NORMAL, 'agent shutting down');
    this.socket = null;
  }

  private setStatus(s: TunnelStatus, reason?: string): void {
    if (s === this.statusValue) return;
    const previous = this.statusValue;
    this.statusValue = s;
    this.opts.log?.({ msg: 'tunnel status', status: s, previous, ...(reason ? { reason } : {}) });
    for (const l of [...this.statusListeners]) l(s, reason);
  }

  private open(): void {
    this.setStatus('connecting');
    const serial = ++this.serial;
    const mine = () => serial === this.serial;
    this.socket = this.opts.connect(
      this.opts.url,
      { authorization: `Bearer ${this.opts.token}`, 'x-device-mac': this.opts.mac },
      {
        onOpen: () => mine() && this.onOpen(),
        onText: (t) => mine() && this.onText(t),
        onBinary: () => mine() && this.fail(CloseCode.BAD_FRAME, 'the edge sent a binary frame; none are expected'),
        onClose: (code, reason) => mine() && this.onClose(code, reason),
        onDrain: () => {
          if (mine()) for (const s of this.streams.values()) s.wake?.();
        },
      },
    );
  }

  private onOpen(): void {
    this.setStatus('waiting-welcome');
    this.statusPending = false;
    this.lastHeard = this.opts.clock.now();
    const hello: HelloFrame = { t: 'hello', v: PROTOCOL_VERSION, mac: this.opts.mac, ...this.opts.hello() };
    this.send(hello);
    this.timers.welcome = this.opts.clock.setTimer(15_000, () => this.fail(CloseCode.BAD_HELLO, 'no welcome from the edge within 15 s'));
  }

  private onText(text: string): void {
    this.lastHeard = this.opts.clock.now();
    let frame: EdgeFrame;
    try {
      frame = parseEdgeFrame(text);
    } catch (e) {
      const msg = e instanceof FrameError ? e.message : String(e);
      this.opts.log?.({ level: 'warn', msg: 'bad frame from the edge', error: msg });
      this.fail(CloseCode.BAD_FRAME, msg.slice(0, 120));
      return;
    }
    switch (frame.t) {
      case 'welcome':
        return this.onWelcome(frame);
      case 'pong':
        return;
      case 'ack':
        return void this.onAck(frame.epoch, frame.seq);
      case 'cmd':
        return void this.onCommand(frame);
      case 'open':
        return void this.onOpenFile(frame);
      case 'credit': {
        const s = this.streams.get(frame.id);
        if (s) {
          s.credit += frame.bytes;
          s.wake?.();
        }
        return;
      }
      case 'cancel': {
        const s = this.streams.get(frame.id);
        if (s) {
          s.cancelled = true;
          s.wake?.();
        }
        this.running.get(frame.id)?.abort();
        return;
      }
      default:
        // A frame type added to shared/tunnel/frames.ts must be handled here: this stops compiling.
        return frame satisfies never;
    }
  }

  private onWelcome(frame: Extract<EdgeFrame, { t: 'welcome' }>): void {
    if (frame.v !== PROTOCOL_VERSION) return this.fail(CloseCode.UNSUPPORTED_VERSION, `edge speaks v${frame.v}, agent v${PROTOCOL_VERSION}`);
    this.timers.welcome?.();
    this.heartbeatMs = frame.heartbeatMs;
    const st = this.opts.outbox.stats();
    const firstUnacked = st.oldestSeq ?? st.nextSeq;
    // Resume after what the edge committed for this epoch; a new epoch (fresh spool) starts over.
    const committed = frame.committed && frame.committed.epoch === st.epoch ? frame.committed.seq : -1;
    this.acked = Math.max(committed, firstUnacked - 1);
    this.sentUpTo = this.acked;
    if (committed >= firstUnacked) void this.opts.outbox.ack(committed);
    this.attempt = 0;
    this.setStatus('online');
    if (this.statusPending) this.sendStatus();
    this.scheduleHeartbeat();
    void this.pump();
  }

  private async onAck(epoch: string, seq: number): Promise<void> {
    if (epoch !== this.opts.outbox.epoch || seq <= this.acked) return;
    this.acked = seq;
    await this.opts.outbox.ack(seq);
    void this.pump();
  }

  /** Sends outbox entries after the last sent, keeping at most maxUnacked in flight. */
  private async pump(): Promise<void> {
    if (this.pumping || this.statusValue !== 'online') return;
    this.pumping = true;
    const serial = this.serial;
    try {
      const max = this.opts.maxUnacked ?? 2000;
      for (;;) {
        const room = max - (this.sentUpTo - this.acked);
        if (room <= 0) break;
        const batch = await this.opts.outbox.readAfter(this.sentUpTo, Math.min(room, 500));
        if (serial !== this.serial || this.statusValue !== 'online' || batch.length === 0) break;
        this.send({ t: 'evt', epoch: this.opts.outbox.epoch, events: batch });
        this.sentUpTo = (batch[batch.length - 1] as OutboxEvent).seq;
      }
    } finally {
      this.pumping = false;
    }
  }

  private async onCommand(frame: CmdFrame): Promise<void> {
    const serial = this.serial;
    const reply = (f: AgentFrame) => serial === this.serial && this.send(f);
    const op = frame.op as OperationName;
    const def = Object.hasOwn(operations, op) ? operations[op] : undefined;
    if (!def) return void reply({ t: 'res', id: frame.id, ok: false, error: { code: 'NOT_FOUND', message: `unknown operation ${frame.op}` } });
    // Validate again here: the agent trusts no frame, and nothing unchecked may reach AMI.
    const parsed = def.params.safeParse(frame.params);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = String(issue?.path[0] ?? 'params');
      return void reply({ t: 'res', id: frame.id, ok: false, error: { code: 'BAD_PARAMETER', message: `${field}: ${issue?.message ?? 'invalid'}`, field } });
    }
    const ctl = new AbortController();
    this.running.set(frame.id, ctl);
    const cancelDeadline = this.opts.clock.setTimer(Math.max(1, frame.timeoutMs - 250), () => ctl.abort());
    try {
      const body = await this.opts.device.run(op, parsed.data as never, {
        signal: ctl.signal,
        ...(frame.idempotencyKey !== undefined ? { idempotencyKey: frame.idempotencyKey } : {}),
      });
      reply({ t: 'res', id: frame.id, ok: true, body });
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError('INTERNAL', 'the agent failed to run the command');
      if (!(e instanceof ApiError)) this.opts.log?.({ level: 'error', msg: 'command failed', op, error: String(e) });
      reply({ t: 'res', id: frame.id, ok: false, error: err.toJSON() });
    } finally {
      cancelDeadline();
      this.running.delete(frame.id);
    }
  }

  private async onOpenFile(frame: OpenFrame): Promise<void> {
    const serial = this.serial;
    const live = () => serial === this.serial;
    const stream: Stream = { credit: frame.credit, cancelled: false, wake: null };
    this.streams.set(frame.id, stream);
    const ctl = new AbortController();
    this.running.set(frame.id, ctl);
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    try {
      const file = await this.opts.device.openRecording(frame.path, frame.range, { signal: ctl.signal });
      reader = file.body.getReader();
      if (!live() || stream.cancelled) return;
      this.send({ t: 'file', id: frame.id, size: file.size, contentType: file.contentType, ...(file.range ? { range: file.range } : {}) });
      const high = this.opts.highWaterBytes ?? 1024 * 1024;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (let off = 0; off < value.byteLength; ) {
          // Wait for credit from the edge and for the socket to drain: memory stays bounded.
          while (live() && !stream.cancelled && (stream.credit <= 0 || (this.socket?.bufferedAmount ?? 0) > high)) {
            await new Promise<void>((resolve) => {
              // Drain callbacks are best effort; a short poll makes sure a stream never sticks.
              const cancel = this.opts.clock.setTimer(50, done);
              function done() {
                stream.wake = null;
                resolve();
              }
              stream.wake = () => {
                cancel();
                done();
              };
            });
          }
          if (!live() || stream.cancelled) return;
          const n = Math.min(CHUNK_BYTES, stream.credit, value.byteLength - off);
          this.socket?.send(encodeChunk(frame.id, value.subarray(off, off + n)));
          stream.credit -= n;
          off += n;
        }
      }
      if (live()) this.send({ t: 'eof', id: frame.id });
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError('INTERNAL', 'the agent could not read the recording');
      if (live()) this.send({ t: 'res', id: frame.id, ok: false, error: err.toJSON() });
    } finally {
      void reader?.cancel().catch(() => undefined);
      this.streams.delete(frame.id);
      this.running.delete(frame.id);
    }
  }

  private scheduleHeartbeat(): void {
    this.timers.heartbeat = this.opts.clock.setTimer(this.heartbeatMs, () => {
      if (this.statusValue !== 'online') return;
      const silent = this.opts.clock.now() - this.lastHeard;
      if (silent > this.heartbeatMs * 2.5) return this.fail(CloseCode.HEARTBEAT_TIMEOUT, `no word from the edge for ${silent} ms`);
      this.socket?.send(HEARTBEAT_PING);
      this.scheduleHeartbeat();
    });
  }

  private send(frame: AgentFrame): void {
    this.socket?.send(encodeFrame(frame));
  }

  private fail(code: number, reason: string): void {
    this.opts.log?.({ level: 'warn', msg: 'closing the tunnel', code: closeCodeName(code), reason });
    this.socket?.close(code, reason);
    this.onClose(code, reason);
  }

  private clearTimers(): void {
    for (const k of ['heartbeat', 'welcome'] as const) {
      this.timers[k]?.();
      delete this.timers[k];
    }
  }

  private teardown(): void {
    for (const c of this.running.values()) c.abort();
    this.running.clear();
    for (const s of this.streams.values()) {
      s.cancelled = true;
      s.wake?.();
    }
    this.streams.clear();
  }

  private onClose(code: number, reason: string): void {
    this.serial++;
    this.socket = null;
    this.clearTimers();
    this.teardown();
    if (this.statusValue === 'closed') return;
    this.attempt++;
    // Replaced by another connection with our MAC: likely a cloned token; back off to the cap.
    const delay = code === CloseCode.REPLACED ? this.retry(Number.MAX_SAFE_INTEGER) : this.retry(this.attempt);
    this.setStatus('reconnecting', `${closeCodeName(code)} (${code})${reason ? `: ${reason}` : ''}`);
    if (delay === null) return this.setStatus('closed', 'gave up');
    this.timers.reconnect = this.opts.clock.setTimer(delay, () => {
      delete this.timers.reconnect;
      if (this.statusValue === 'reconnecting') this.open();
    });
  }
}
