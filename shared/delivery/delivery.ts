import { classifyResponse, type AttemptOutcome } from './attempt-outcome.ts';
import { systemClock, type Clock } from '../clock.ts';
import { isReplayable, type Queue, type QueueEntry, type ReplayableQueue } from './queue.ts';
import { parseRetryAfter } from './retry-after.ts';
import { retryDelayMs } from './retry-schedule.ts';
import { WebhookSigner, webhookId, webhookSecretBytes, type Signer, type SignerFactory } from './signature.ts';

export interface DeliveryOptions {
  queue: Queue;
  url: string;
  /** Device MAC, part of every webhook-id. */
  mac: string;
  /** `whsec_<base64>` or raw text (its UTF-8 bytes are the key); null sends unsigned POSTs. */
  secret: string | null;
  clock?: Clock;
  fetch?: typeof fetch;
  random?: () => number;
  /** Per-request headers (the agent's `Authorization: md5(WEBKEY+date)`), computed at send time. */
  extraHeaders?: (nowMs: number) => Record<string, string>;
  /** Event types to send; others are acknowledged unsent. Null or absent: all. */
  types?: Iterable<string> | null;
  /** A 2xx must come within this long. */
  timeoutMs?: number;
  /** Default: WebCrypto HMAC (WebhookSigner.create). */
  createSigner?: SignerFactory;
  batchSize?: number;
  log?: (entry: Record<string, unknown>) => void;
}

export type DeliveryState = 'idle' | 'sending' | 'waiting' | 'stopped' | 'closed';

export interface DeliveryError {
  at: number;
  seq: number | null;
  status: number | null;
  message: string;
}

export interface DeliveryStatus {
  url: string;
  state: DeliveryState;
  /** Why delivery stopped, e.g. `stopped: receiver answered 410 Gone`; null unless stopped. */
  stopped: string | null;
  waiting: number;
  deadLetters: number;
  lastDeliveredSeq: number | null;
  lastDeliveredAt: number | null;
  lastError: DeliveryError | null;
  /** Epoch ms of the next retry, when waiting. */
  nextAttemptAt: number | null;
  /** Failed attempts of the event at the head of the queue. */
  headAttempts: number;
}

/** After this many 4xx in a row for one event it goes to dead letters (SPEC "Delivery"). */
const REJECTIONS_TO_DEAD_LETTER = 3;
/** How long to wait before touching the queue again after its storage failed. */
const STORAGE_RETRY_MS = 5_000;

/**
 * Webhook delivery for one device: one POST in flight, in queue order, retried on the Svix schedule,
 * never dropped for a receiver that is down. Runs the same on the agent, the Node edge and a Durable
 * Object: only the Queue, the Clock and fetch differ. Call `kick()` when entries were added.
 */
export class Delivery {
  private readonly queue: Queue;
  private readonly mac: string;
  private readonly clock: Clock;
  private readonly fetch: typeof fetch;
  private readonly random: () => number;
  private readonly extraHeaders: (nowMs: number) => Record<string, string>;
  private readonly timeoutMs: number;
  private readonly batchSize: number;
  private readonly log: (entry: Record<string, unknown>) => void;

  private url: string;
  private secret: string | null;
  private readonly createSigner: SignerFactory;
  private signer: Promise<Signer> | null = null;
  private types: ReadonlySet<string> | null;

  private pumping: Promise<void> | null = null;
  private rekick = false;
  private operations: Promise<unknown> = Promise.resolve();
  private paused = false;
  private closed = false;
  private stoppedReason: string | null = null;
  private cancelRetry: (() => void) | null = null;
  private nextAttemptAt: number | null = null;
  private inflight: AbortController | null = null;
  private head = { seq: -1, attempts: 0, rejections: 0 };
  private lastDeliveredSeq: number | null = null;
  private lastDeliveredAt: number | null = null;
  private lastError: DeliveryError | null = null;

  constructor(opts: DeliveryOptions) {
    this.queue = opts.queue;
    this.mac = opts.mac;
    this.url = opts.url;
    this.secret = checkedSecret(opts.secret);
    this.clock = opts.clock ?? systemClock;
    this.fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.random = opts.random ?? Math.random;
    this.extraHeaders = opts.extraHeaders ?? (() => ({}));
    this.types = opts.types ? new Set(opts.types) : null;
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.createSigner = opts.createSigner ?? WebhookSigner.create;
    this.batchSize = opts.batchSize ?? 50;
    this.log = opts.log ?? (() => {});
  }

  /** New entries may be waiting: send them unless a retry wait or a stop holds the queue. */
  kick(): void {
    if (this.closed || this.paused || this.stoppedReason !== null || this.cancelRetry) return;
    if (this.pumping) {
      this.rekick = true;
      return;
    }
    this.rekick = false;
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
      // A retry timer of 0 ms or an append may have kicked while this pump was finishing.
      if (this.rekick) this.kick();
    });
  }

  /** A new URL also ends a stop caused by 410 Gone, and retries the head at once. */
  setUrl(url: string): void {
    if (url === this.url) return;
    this.url = url;
    this.stoppedReason = null;
    this.head = { seq: -1, attempts: 0, rejections: 0 };
    this.clearRetry();
    this.kick();
  }

  setSecret(secret: string | null): void {
    this.secret = checkedSecret(secret);
    this.signer = null;
  }

  setTypes(types: Iterable<string> | null): void {
    this.types = types ? new Set(types) : null;
  }

  async status(): Promise<DeliveryStatus> {
    const [waiting, deadLetters] = await Promise.all([this.queue.depth(), this.queue.deadLetterCount()]);
    return {
      url: this.url,
      state: this.state(),
      stopped: this.stoppedReason === null ? null : `stopped: ${this.stoppedReason}`,
      waiting,
      deadLetters,
      lastDeliveredSeq: this.lastDeliveredSeq,
      lastDeliveredAt: this.lastDeliveredAt,
      lastError: this.lastError,
      nextAttemptAt: this.nextAttemptAt,
      headAttempts: this.head.attempts,
    };
  }

  /** Sends everything from `seq` on again, in order; returns the first seq that will be sent. */
  async replayFrom(seq: number): Promise<number> {
    const queue = this.replayable();
    return this.whilePaused(async () => {
      const from = await queue.replayFrom(seq);
      this.head = { seq: -1, attempts: 0, rejections: 0 };
      this.clearRetry();
      return from;
    });
  }

  /**
   * One POST of a dead letter, out of band (the queue's order is not disturbed); on 2xx it leaves the
   * dead-letter list. The outcome tells the operator what the receiver said.
   */
  async redeliverDeadLetter(seq: number): Promise<AttemptOutcome> {
    const queue = this.replayable();
    return this.whilePaused(async () => {
      const letter = (await queue.listDeadLetters()).find((d) => d.seq === seq);
      if (!letter) throw new RangeError(`no dead letter with seq ${seq}`);
      const outcome = await this.post(letter);
      if (outcome.kind === 'delivered') await queue.removeDeadLetter(seq);
      this.log({ msg: 'dead letter redelivered', seq, outcome: outcome.kind, status: 'status' in outcome ? outcome.status : null });
      return outcome;
    });
  }

  /** Cancels waits and the request in flight; nothing is acknowledged that was not delivered. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearRetry();
    this.inflight?.abort();
    await this.pumping;
  }

  private state(): DeliveryState {
    if (this.closed) return 'closed';
    if (this.stoppedReason !== null) return 'stopped';
    if (this.cancelRetry) return 'waiting';
    return this.pumping ? 'sending' : 'idle';
  }

  private replayable(): ReplayableQueue {
    if (!isReplayable(this.queue)) throw new TypeError('this queue keeps no history to replay or redeliver');
    return this.queue;
  }

  /** Runs an operator action with the loop halted, so only one POST is ever in flight. */
  private whilePaused<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.operations.then(() => this.pausedRun(fn));
    this.operations = run.catch(() => {});
    return run;
  }

  private async pausedRun<T>(fn: () => Promise<T>): Promise<T> {
    this.paused = true;
    const resumeAt = this.nextAttemptAt;
    this.clearRetry();
    try {
      await this.pumping;
      return await fn();
    } finally {
      this.paused = false;
      const wait = resumeAt === null || this.head.seq === -1 ? 0 : resumeAt - this.clock.now();
      if (wait > 0 && this.stoppedReason === null && !this.closed) this.scheduleRetry(wait);
      else this.kick();
    }
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        this.rekick = false;
        const entries = await this.queue.peek(this.batchSize);
        if (entries.length === 0 && !this.rekick) return;
        for (const entry of entries) {
          if (this.closed || this.paused) return;
          if (!(await this.deliverOne(entry))) return;
        }
      }
    } catch (err) {
      this.lastError = { at: this.clock.now(), seq: null, status: null, message: `queue storage failed: ${describe(err)}` };
      this.log({ level: 'error', msg: 'delivery queue storage failed', error: describe(err) });
      if (!this.closed && !this.paused) this.scheduleRetry(STORAGE_RETRY_MS);
    }
  }

  /** True when the queue may go on to the next entry. */
  private async deliverOne(entry: QueueEntry): Promise<boolean> {
    if (this.types && !this.types.has(entry.type)) {
      await this.queue.ack(entry.seq);
      return true;
    }
    if (this.head.seq !== entry.seq) this.head = { seq: entry.seq, attempts: 0, rejections: 0 };
    const outcome = await this.post(entry);
    if (this.closed) return false;
    switch (outcome.kind) {
      case 'delivered':
        await this.queue.ack(entry.seq);
        this.lastDeliveredSeq = entry.seq;
        this.lastDeliveredAt = this.clock.now();
        return true;
      case 'gone':
        this.fail(entry, outcome.status, outcome.message);
        this.stoppedReason = outcome.message;
        this.log({ level: 'warn', msg: `delivery stopped: ${outcome.message}`, url: redactUrl(this.url), seq: entry.seq });
        return false;
      case 'rejected':
        this.fail(entry, outcome.status, outcome.message);
        if (++this.head.rejections >= REJECTIONS_TO_DEAD_LETTER) {
          const reason = `${outcome.message} ${this.head.rejections} times in a row`;
          await this.queue.deadLetter(entry, reason);
          this.log({ level: 'warn', msg: 'event moved to dead letters', seq: entry.seq, type: entry.type, reason });
          return true;
        }
        this.scheduleRetry(retryDelayMs(this.head.attempts, this.random));
        return false;
      case 'retry':
        this.fail(entry, outcome.status ?? null, outcome.message);
        this.head.rejections = 0;
        this.scheduleRetry(outcome.retryAfterMs ?? retryDelayMs(this.head.attempts, this.random));
        return false;
    }
  }

  private fail(entry: QueueEntry, status: number | null, message: string): void {
    this.head.attempts++;
    this.lastError = { at: this.clock.now(), seq: entry.seq, status, message };
    this.log({ level: 'warn', msg: 'webhook attempt failed', seq: entry.seq, attempt: this.head.attempts, status, error: message });
  }

  private scheduleRetry(ms: number): void {
    this.clearRetry();
    this.nextAttemptAt = this.clock.now() + ms;
    this.cancelRetry = this.clock.setTimer(ms, () => {
      this.cancelRetry = null;
      this.nextAttemptAt = null;
      this.kick();
    });
  }

  private clearRetry(): void {
    this.cancelRetry?.();
    this.cancelRetry = null;
    this.nextAttemptAt = null;
  }

  private async post(entry: QueueEntry): Promise<AttemptOutcome> {
    const now = this.clock.now();
    const id = webhookId(this.mac, entry.epoch, entry.seq);
    const timestamp = Math.floor(now / 1000);
    const headers: Record<string, string> = {
      ...this.extraHeaders(now),
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
    };
    if (this.secret !== null) {
      this.signer ??= this.createSigner(this.secret);
      headers['webhook-signature'] = await (await this.signer).sign(id, timestamp, entry.body);
    }
    const controller = new AbortController();
    this.inflight = controller;
    let timedOut = false;
    const cancelTimeout = this.clock.setTimer(this.timeoutMs, () => {
      timedOut = true;
      controller.abort();
    });
    try {
      const res = await this.fetch(this.url, { method: 'POST', headers, body: entry.body, signal: controller.signal, redirect: 'manual' });
      // Only the status matters; release the connection without reading what may never end.
      res.body?.cancel().catch(() => {});
      return classifyResponse(res.status, res.statusText, parseRetryAfter(res.headers.get('retry-after'), this.clock.now()));
    } catch (err) {
      if (timedOut) return { kind: 'retry', message: `receiver did not answer within ${this.timeoutMs / 1000} s` };
      return { kind: 'retry', message: `cannot reach receiver: ${describe(err)}` };
    } finally {
      cancelTimeout();
      this.inflight = null;
    }
  }
}

/** A secret that cannot sign fails here, at configuration, not as a retry loop later. */
function checkedSecret(secret: string | null): string | null {
  if (secret !== null) webhookSecretBytes(secret);
  return secret;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // fetch wraps the socket error (ECONNREFUSED, ...) in `cause`, which is the part a person can act on.
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
}

/** Receiver URLs may carry a token in the query or userinfo; logs get the origin and path only. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.origin + u.pathname;
  } catch {
    return '(invalid url)';
  }
}
