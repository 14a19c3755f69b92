import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../../shared/clock.ts';
import { AmiError } from './errors.ts';
import type { AmiMessage } from './message.ts';
import { AmiParser, type AmiFrame } from './parser.ts';
import { defaultRetryStrategy, type RetryStrategy } from './retry.ts';
import type { AmiActionOptions, AmiEventSource, AmiResult, AmiRunner } from './types.ts';
import { encodeAction, type AmiAction } from './writer.ts';

/** A byte pipe to Asterisk; the client never touches sockets itself (agent/ami/tcp.ts makes them). */
export interface AmiTransport {
  write(data: string): void;
  /** Closes the connection; onClose follows. */
  close(): void;
}

export interface AmiTransportHandlers {
  onData(chunk: Buffer): void;
  /** Called exactly once, whether the connection failed, dropped or was closed by us. */
  onClose(error?: Error): void;
}

export type AmiConnect = (handlers: AmiTransportHandlers) => AmiTransport;

/**
 * connecting: a socket is being opened or the banner awaited; authenticating: Login sent;
 * ready: logged in, actions flow; reconnecting: waiting out the backoff; closed: close() was called.
 */
export type AmiStatus = 'idle' | 'connecting' | 'authenticating' | 'ready' | 'reconnecting' | 'closed';

export interface AmiStatusChange {
  status: AmiStatus;
  previous: AmiStatus;
  /** Why the connection left `ready` or a login failed. */
  reason?: string;
  /** Asterisk's version from the banner (`9.0.0` is the AMI version). */
  amiVersion?: string;
}

export interface AmiClientOptions {
  connect: AmiConnect;
  username: string;
  secret: string;
  /** `md5` logs in with the Challenge action so the secret never crosses the wire. */
  authType?: 'plain' | 'md5';
  /** Subscribe to events (`Events: on`); off for action-only sessions. */
  events?: boolean;
  actionTimeoutMs?: number;
  /** A Ping this often while idle; a Ping without answer closes the link so reconnect starts. */
  keepaliveMs?: number;
  /** How long a connection may take from open to logged in. */
  loginTimeoutMs?: number;
  retryStrategy?: RetryStrategy;
  clock?: Clock;
  log?: (entry: Record<string, unknown>) => void;
}

interface Pending {
  id: string;
  action: string;
  resolve: (r: AmiResult) => void;
  reject: (e: AmiError) => void;
  cancelTimer: () => void;
  response?: AmiMessage;
  events: AmiMessage[];
  onAbort?: () => void;
  signal?: AbortSignal;
}

const INTERNAL = Symbol('internal');

/**
 * An AMI client that survives the network: one status with one transition point, every action
 * correlated by ActionID with its own timeout, event lists gathered into one result, nothing sent
 * before login, reconnect forever with capped jittered backoff, keepalive pings. After any outcome no
 * timer, listener or map entry of an action is left behind.
 */
export class AmiClient implements AmiRunner, AmiEventSource {
  private statusValue: AmiStatus = 'idle';
  private transport: AmiTransport | null = null;
  private readonly parser = new AmiParser({ expectBanner: true });
  private readonly pending = new Map<string, Pending>();
  private readonly eventListeners = new Set<(e: AmiMessage) => void>();
  private readonly statusListeners = new Set<(s: AmiStatusChange) => void>();
  private readonly clock: Clock;
  private readonly retry: RetryStrategy;
  private attempt = 0;
  private nextId = 0;
  private readonly idPrefix = Math.random().toString(36).slice(2, 8);
  private cancelReconnect: (() => void) | null = null;
  private cancelLogin: (() => void) | null = null;
  private cancelKeepalive: (() => void) | null = null;
  private lastReason: string | undefined;
  /** Why we are closing the current connection ourselves (login refused, dead keepalive...). */
  private closeReason: string | undefined;
  private authFailed = false;
  private amiVersion: string | undefined;
  private connectionSerial = 0;

  constructor(private readonly opts: AmiClientOptions) {
    this.clock = opts.clock ?? systemClock;
    this.retry = opts.retryStrategy ?? defaultRetryStrategy();
  }

  get status(): AmiStatus {
    return this.statusValue;
  }

  get version(): string | undefined {
    return this.amiVersion;
  }

  /** In-flight actions; zero after every outcome (tests hold the client to that). */
  get pendingCount(): number {
    return this.pending.size;
  }

  start(): void {
    if (this.statusValue !== 'idle') return;
    this.open();
  }

  /** Resolves when logged in; rejects with AMI_TIMEOUT after `timeoutMs` or AMI_CLOSED on close(). */
  waitReady(timeoutMs = 10_000): Promise<void> {
    if (this.statusValue === 'ready') return Promise.resolve();
    if (this.statusValue === 'closed') return Promise.reject(new AmiError('AMI_CLOSED', 'AMI client is closed'));
    return new Promise((resolve, reject) => {
      const off = this.onStatus((s) => {
        if (s.status === 'ready') done(() => resolve());
        else if (s.status === 'closed') done(() => reject(new AmiError('AMI_CLOSED', 'AMI client is closed')));
      });
      const cancel = this.clock.setTimer(timeoutMs, () =>
        done(() => reject(new AmiError('AMI_TIMEOUT', `AMI not logged in after ${timeoutMs} ms${this.lastReason ? `: ${this.lastReason}` : ''}`))),
      );
      const done = (fn: () => void) => {
        off();
        cancel();
        fn();
      };
    });
  }

  onEvent(listener: (e: AmiMessage) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onStatus(listener: (s: AmiStatusChange) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  action(action: AmiAction, options: AmiActionOptions = {}): Promise<AmiResult> {
    if (this.statusValue !== 'ready') {
      return Promise.reject(
        new AmiError(
          this.statusValue === 'closed' ? 'AMI_CLOSED' : 'AMI_NOT_CONNECTED',
          `Asterisk is not connected (AMI ${this.statusValue}${this.lastReason ? `: ${this.lastReason}` : ''})`,
        ),
      );
    }
    return this.send(action, options);
  }

  /** Closes for good: in-flight actions fail with AMI_CLOSED, no reconnect. */
  close(): void {
    if (this.statusValue === 'closed') return;
    const t = this.transport;
    this.transport = null;
    this.clearConnectionTimers();
    this.cancelReconnect?.();
    this.cancelReconnect = null;
    this.failAll('AMI_CLOSED', 'AMI client closed');
    this.setStatus('closed', 'closed by the agent');
    if (t) {
      try {
        t.write(encodeAction({ Action: 'Logoff', ActionID: `${this.idPrefix}-logoff` }));
      } catch {
        // The link may already be gone; closing is what matters.
      }
      t.close();
    }
  }

  private send(action: AmiAction, options: AmiActionOptions, internal?: typeof INTERNAL): Promise<AmiResult> {
    const id = `${this.idPrefix}-${++this.nextId}`;
    let wire: string;
    try {
      // ActionID goes second, as Asterisk's own clients write it; a caller's ActionID is replaced.
      const { Action, ActionID: _ignored, ...rest } = action;
      wire = encodeAction({ Action, ActionID: id, ...rest });
    } catch (e) {
      return Promise.reject(e);
    }
    const transport = this.transport;
    if (!transport || (this.statusValue !== 'ready' && internal !== INTERNAL)) {
      return Promise.reject(new AmiError('AMI_NOT_CONNECTED', 'Asterisk is not connected'));
    }
    if (options.signal?.aborted) return Promise.reject(new AmiError('AMI_ABORTED', `${action.Action} aborted before it was sent`));
    return new Promise<AmiResult>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.opts.actionTimeoutMs ?? 10_000;
      const p: Pending = {
        id,
        action: action.Action,
        resolve,
        reject,
        events: [],
        cancelTimer: this.clock.setTimer(timeoutMs, () =>
          this.settle(id, new AmiError('AMI_TIMEOUT', `Asterisk did not answer ${action.Action} within ${timeoutMs} ms`)),
        ),
      };
      if (options.signal) {
        p.signal = options.signal;
        p.onAbort = () => this.settle(id, new AmiError('AMI_ABORTED', `${action.Action} aborted`));
        options.signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.pending.set(id, p);
      transport.write(wire);
    });
  }

  /** Ends one pending action with a result or an error and removes every trace of it. */
  private settle(id: string, outcome: AmiResult | AmiError): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.cancelTimer();
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    if (outcome instanceof AmiError) p.reject(outcome);
    else p.resolve(outcome);
  }

  private failAll(code: 'AMI_DISCONNECTED' | 'AMI_CLOSED', message: string): void {
    for (const p of [...this.pending.values()]) {
      this.settle(p.id, new AmiError(code, `${message} while ${p.action} was waiting for its answer`));
    }
  }

  private setStatus(status: AmiStatus, reason?: string): void {
    const previous = this.statusValue;
    if (previous === status) return;
    this.statusValue = status;
    if (reason !== undefined) this.lastReason = reason;
    const change: AmiStatusChange = { status, previous };
    if (reason !== undefined) change.reason = reason;
    if (this.amiVersion !== undefined) change.amiVersion = this.amiVersion;
    this.opts.log?.({ msg: 'ami status', status, previous, ...(reason ? { reason } : {}) });
    for (const l of [...this.statusListeners]) l(change);
  }

  private open(): void {
    this.setStatus('connecting');
    this.parser.reset(true);
    const serial = ++this.connectionSerial;
    // Handlers check the serial so a late callback of an old socket cannot touch the new one.
    const handlers: AmiTransportHandlers = {
      onData: (chunk) => {
        if (serial === this.connectionSerial) this.onData(chunk);
      },
      onClose: (error) => {
        if (serial === this.connectionSerial) this.onClose(error);
      },
    };
    this.cancelLogin = this.clock.setTimer(this.opts.loginTimeoutMs ?? 10_000, () => {
      if (serial !== this.connectionSerial) return;
      this.closeWith(`no login answer within ${this.opts.loginTimeoutMs ?? 10_000} ms`);
    });
    try {
      this.transport = this.opts.connect(handlers);
    } catch (e) {
      this.onClose(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private onData(chunk: Buffer): void {
    const frames: AmiFrame[] = [];
    try {
      this.parser.feed(chunk, frames);
    } catch (e) {
      this.closeWith(`protocol error: ${(e as Error).message}`);
      return;
    }
    for (const f of frames) {
      if (f.kind === 'banner') {
        this.amiVersion = f.version;
        void this.login();
      } else this.onMessage(f.message);
    }
  }

  private onMessage(m: AmiMessage): void {
    const id = m.actionId;
    const p = id === undefined ? undefined : this.pending.get(id);
    if (m.event !== undefined) {
      // An event with a pending action's ActionID is an item of its list; anything else, including
      // OriginateResponse (ActionID of an already answered Async Originate), is a plain event.
      if (p?.response && p.response.get('EventList') === 'start') {
        if (m.get('EventList') === 'Complete') this.settle(p.id, { response: p.response, events: p.events, complete: m });
        else p.events.push(m);
        return;
      }
      for (const l of [...this.eventListeners]) l(m);
      return;
    }
    if (!p) return; // an answer to an action that already timed out
    if (m.response === 'Error') {
      this.settle(p.id, new AmiError('AMI_RESPONSE', m.get('Message') ?? `${p.action} failed`, m));
    } else if (m.get('EventList') === 'start') {
      p.response = m;
    } else {
      this.settle(p.id, { response: m, events: [] });
    }
  }

  private async login(): Promise<void> {
    this.setStatus('authenticating');
    const base = { Username: this.opts.username, Events: this.opts.events === false ? 'off' : 'on' };
    try {
      if (this.opts.authType === 'md5') {
        const ch = await this.send({ Action: 'Challenge', AuthType: 'MD5' }, {}, INTERNAL);
        const challenge = ch.response.get('Challenge') ?? '';
        const key = createHash('md5').update(challenge + this.opts.secret).digest('hex');
        await this.send({ Action: 'Login', AuthType: 'MD5', ...base, Key: key }, {}, INTERNAL);
      } else {
        await this.send({ Action: 'Login', ...base, Secret: this.opts.secret }, {}, INTERNAL);
      }
    } catch (e) {
      const err = e as AmiError;
      // Asterisk closes the connection after a failed login; close() makes that certain.
      this.authFailed = err.code === 'AMI_RESPONSE';
      this.closeWith(this.authFailed ? `login refused: ${err.message}` : `login failed: ${err.message}`);
      return;
    }
    this.clearLoginTimer();
    this.attempt = 0;
    this.authFailed = false;
    this.setStatus('ready', 'logged in');
    this.scheduleKeepalive();
  }

  private scheduleKeepalive(): void {
    const every = this.opts.keepaliveMs ?? 20_000;
    if (every <= 0) return;
    this.cancelKeepalive = this.clock.setTimer(every, () => {
      this.cancelKeepalive = null;
      if (this.statusValue !== 'ready') return;
      this.send({ Action: 'Ping' }, { timeoutMs: Math.min(every, 10_000) }).then(
        () => this.statusValue === 'ready' && this.scheduleKeepalive(),
        (e: AmiError) => {
          if (e.code !== 'AMI_TIMEOUT') return;
          this.closeWith('keepalive Ping got no answer');
        },
      );
    });
  }

  private closeWith(reason: string): void {
    this.closeReason = reason;
    this.transport?.close();
  }

  private clearLoginTimer(): void {
    this.cancelLogin?.();
    this.cancelLogin = null;
  }

  private clearConnectionTimers(): void {
    this.clearLoginTimer();
    this.cancelKeepalive?.();
    this.cancelKeepalive = null;
  }

  private onClose(error?: Error): void {
    this.connectionSerial++;
    this.transport = null;
    this.clearConnectionTimers();
    if (this.statusValue === 'closed') return;
    const reason = this.closeReason ?? error?.message ?? 'connection closed by Asterisk';
    this.closeReason = undefined;
    this.failAll('AMI_DISCONNECTED', 'AMI connection lost');
    this.attempt++;
    // A refused login is retried too (an operator may fix manager.conf and reload), but at the cap.
    const delay = this.authFailed ? this.retry(Number.MAX_SAFE_INTEGER) : this.retry(this.attempt);
    this.setStatus('reconnecting', reason);
    if (delay === null) {
      this.setStatus('closed', `gave up after ${this.attempt} attempts`);
      return;
    }
    this.cancelReconnect = this.clock.setTimer(delay, () => {
      this.cancelReconnect = null;
      if (this.statusValue === 'reconnecting') this.open();
    });
  }
}
