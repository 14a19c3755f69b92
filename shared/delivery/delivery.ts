import { classifyResponse, redactUrl, type AttemptOutcome } from './attempt-outcome.ts';
import { systemClock, type Clock } from '../clock.ts';
import { ApiError } from '../errors.ts';
import { isReplayable, type Queue, type QueueEntry, type ReplayableQueue } from './queue.ts';
import type { RetryState } from './retry-state.ts';
import { parseRetryAfter } from './retry-after.ts';
import { retryDelayMs } from './retry-schedule.ts';
import { WebhookSigner, webhookId, webhookSecretBytes, type Signer, type SignerFactory } from './signature.ts';
import type { WebhookFetch } from './webhook-fetch.ts';

export interface DeliveryOptions {
  queue: Queue;
  url: string;
  /** Device MAC, part of every webhook-id. */
  mac: string;
  /** `whsec_<base64>` or raw text (its UTF-8 bytes are the key); null sends unsigned POSTs. */
  secret: string | null;
  clock?: Clock;
  fetch?: WebhookFetch;
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
  /** Wait after the head's n-th failure; default the documented schedule (retry-schedule.ts). Tests shorten it. */
  retryDelay?: (failedAttempts: number, random: () => number) => number;
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
  /** Why delivery stopped and what to fix, e.g. `stopped: receiver answered 301 ..., redirecting to ...`; null unless stopped. */
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

/** After this many 4xx in a row for one event it goes to dead letters (docs/api.md "Delivery"). */
const REJECTIONS_TO_DEAD_LETTER = 3;
/**
 * Failed attempts (5xx or timeouts) after which the head is suspected of being a poison event: the
 * first, the one 5 s later and the one after the 5-minute wait. Then the next event goes once as a
 * probe: if the receiver takes it, the head alone is the problem and is set aside.
 */
const PROBE_AFTER_ATTEMPTS = 3;
const NO_HEAD = { epoch: '', seq: -1, attempts: 0, rejections: 0 };

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
  private readonly fetch: WebhookFetch;
  private readonly random: () => number;
  private readonly extraHeaders: (nowMs: number) => Record<string, string>;
  private readonly timeoutMs: number;
  private readonly batchSize: number;
  private readonly log: (entry: Record<string, unknown>) => void;
  private readonly retryDelay: (failedAttempts: number, random: () => number) => number;

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
  /** finish(): no new request; the one in flight gets its answer and its ack. */
  private finishing = false;
  private stoppedReason: string | null = null;
  private cancelRetry: (() => void) | null = null;
  private nextAttemptAt: number | null = null;
  private inflight: AbortController | null = null;
  private head = NO_HEAD;
  /** The retry state saved before a restart, until the first head is seen; undefined: not read yet. */
  private restored: RetryState | null | undefined = undefined;
  /** A retry state is stored for the head, to be forgotten once it is delivered or set aside. */
  private persisted = false;
  private stateWrites: Promise<unknown> = Promise.resolve();
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
    this.retryDelay = opts.retryDelay ?? retryDelayMs;
  }

  /** New entries may be waiting: send them unless a retry wait or a stop holds the queue. */
  kick(): void {
    if (this.closed || this.finishing || this.paused || this.stoppedReason !== null || this.cancelRetry) return;
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

  /** A new URL also ends a stop (410 Gone, a redirect), and retries the head at once. */
  setUrl(url: string): void {
    if (url === this.url) return;
    this.url = url;
    this.stoppedReason = null;
    this.head = NO_HEAD;
    this.clearRetry();
    this.forget().catch((err: unknown) => this.log({ level: 'error', msg: 'delivery state not saved', error: describe(err) }));
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
      this.head = NO_HEAD;
      this.clearRetry();
      await this.forget();
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
      if (!letter) throw new ApiError('NOT_FOUND', `no dead letter with seq ${seq}`);
      const outcome = await this.post(letter);
      if (outcome.kind === 'delivered') await queue.removeDeadLetter(seq);
      this.log({ msg: 'dead letter redelivered', seq, outcome: outcome.kind, status: 'status' in outcome ? outcome.status : null });
      return outcome;
    });
  }

  /**
   * Stops once the request in flight has its answer, acked if delivered and its retry state saved if
   * not, so whoever delivers next (another edge taking the device over) starts right after it and
   * sends nothing twice.
   */
  async finish(): Promise<void> {
    this.finishing = true;
    this.clearRetry();
    await this.pumping;
    this.closed = true;
    this.clearRetry();
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
      const resumes = resumeAt !== null && this.head.seq !== -1 && resumeAt > this.clock.now();
      if (resumes && this.stoppedReason === null && !this.closed) this.scheduleRetryAt(resumeAt);
      else this.kick();
    }
  }

  private async pump(): Promise<void> {
    try {
      if (this.restored === undefined) {
        this.restored = await this.queue.loadRetryState();
        this.persisted = this.restored !== null;
      }
      for (;;) {
        this.rekick = false;
        const entries = await this.queue.peek(this.batchSize);
        if (entries.length === 0 && !this.rekick) return;
        for (const entry of entries) {
          if (this.closed || this.finishing || this.paused) return;
          const next = await this.deliverOne(entry);
          if (next === 'wait') return;
          // A probe delivered entries past this one: read the line again.
          if (next === 'reread') break;
        }
      }
    } catch (err) {
      this.lastError = { at: this.clock.now(), seq: null, status: null, message: `queue storage failed: ${describe(err)}` };
      this.log({ level: 'error', msg: 'delivery queue storage failed', error: describe(err) });
      if (!this.closed && !this.paused) this.scheduleRetry(STORAGE_RETRY_MS);
    }
  }

  /** Whether the queue goes on with the next entry, waits, or goes on after rereading the line. */
  private async deliverOne(entry: QueueEntry): Promise<'next' | 'wait' | 'reread'> {
    if (this.types && !this.types.has(entry.type)) {
      await this.queue.ack(entry.seq);
      return 'next';
    }
    if (this.head.seq !== entry.seq || this.head.epoch !== entry.epoch) {
      this.head = { epoch: entry.epoch, seq: entry.seq, attempts: 0, rejections: 0 };
      if (this.resume(entry)) return 'wait';
    }
    const outcome = await this.post(entry);
    if (this.closed) return 'wait';
    switch (outcome.kind) {
      case 'delivered':
        await this.queue.ack(entry.seq);
        this.delivered(entry);
        await this.forget();
        return 'next';
      case 'stop':
        this.fail(entry, outcome.status, outcome.message);
        this.stoppedReason = outcome.message;
        this.log({ level: 'warn', msg: `delivery stopped: ${outcome.message}`, url: redactUrl(this.url), seq: entry.seq });
        await this.persist();
        return 'wait';
      case 'rejected':
        this.fail(entry, outcome.status, outcome.message);
        if (++this.head.rejections >= REJECTIONS_TO_DEAD_LETTER) {
          await this.setAside(entry, `${outcome.message} ${this.head.rejections} times in a row`);
          return 'next';
        }
        this.scheduleRetry(this.retryDelay(this.head.attempts, this.random));
        await this.persist();
        return 'wait';
      case 'retry': {
        this.fail(entry, outcome.status ?? null, outcome.message);
        this.head.rejections = 0;
        const suspect = outcome.fault === 'timeout' || (outcome.status ?? 0) >= 500;
        if (suspect && this.head.attempts >= PROBE_AFTER_ATTEMPTS) {
          const taken = await this.probe(entry, outcome.message);
          if (this.closed) return 'wait';
          if (taken) return 'reread';
        }
        this.scheduleRetry(outcome.retryAfterMs ?? this.retryDelay(this.head.attempts, this.random));
        await this.persist();
        return 'wait';
      }
      default:
        // An outcome added to AttemptOutcome must be decided here: this stops compiling.
        return outcome satisfies never;
    }
  }

  /**
   * Takes up the schedule saved before a restart when `entry` is the head it was saved for; true
   * when its next attempt is still to come (a timer now waits for it).
   */
  private resume(entry: QueueEntry): boolean {
    const saved = this.restored;
    this.restored = null;
    if (!saved || saved.epoch !== entry.epoch || saved.seq !== entry.seq) return false;
    this.head.attempts = saved.attempts;
    this.head.rejections = saved.rejections;
    if (saved.lastError) this.lastError = { ...saved.lastError, seq: saved.seq };
    if (saved.nextAttemptAt === null || saved.nextAttemptAt <= this.clock.now()) return false;
    this.scheduleRetryAt(saved.nextAttemptAt);
    return true;
  }

  /**
   * Sends the event after the failing head once. Taken: the receiver is up and the head is what it
   * cannot take, so the head goes to dead letters with the receiver's last answer and the queue goes
   * on after the probe. Not taken: the receiver is down, and the head keeps its schedule.
   */
  private async probe(head: QueueEntry, lastAnswer: string): Promise<boolean> {
    const next = (await this.queue.peek(this.batchSize)).find((e) => e.seq !== head.seq && (!this.types || this.types.has(e.type)));
    if (!next) return false;
    const outcome = await this.post(next);
    if (this.closed) return false;
    if (outcome.kind !== 'delivered') {
      this.log({ level: 'warn', msg: 'probe not taken: the receiver is down, the head waits', seq: head.seq, probe: next.seq, error: 'message' in outcome ? outcome.message : '' });
      return false;
    }
    await this.setAside(head, `${lastAnswer} on ${this.head.attempts} attempts while the receiver took the next event (seq ${next.seq}): set aside so the rest goes on`);
    await this.queue.ack(next.seq);
    this.delivered(next);
    return true;
  }

  private async setAside(entry: QueueEntry, reason: string): Promise<void> {
    await this.queue.deadLetter(entry, reason);
    this.log({ level: 'warn', msg: 'event moved to dead letters', seq: entry.seq, type: entry.type, reason });
    await this.forget();
  }

  private delivered(entry: QueueEntry): void {
    this.lastDeliveredSeq = entry.seq;
    this.lastDeliveredAt = this.clock.now();
  }

  /** Saves where the head stands in its schedule. */
  private persist(): Promise<void> {
    const { epoch, seq, attempts, rejections } = this.head;
    const e = this.lastError;
    this.persisted = true;
    return this.writeState({ epoch, seq, attempts, rejections, nextAttemptAt: this.nextAttemptAt, lastError: e && { at: e.at, status: e.status, message: e.message } });
  }

  private forget(): Promise<void> {
    if (!this.persisted) return Promise.resolve();
    this.persisted = false;
    return this.writeState(null);
  }

  /** State writes go in order, so a late `forget` never lands after a newer save. */
  private writeState(state: RetryState | null): Promise<void> {
    const write = this.stateWrites.then(() => this.queue.saveRetryState(state));
    this.stateWrites = write.catch(() => {});
    return write;
  }

  private fail(entry: QueueEntry, status: number | null, message: string): void {
    this.head.attempts++;
    this.lastError = { at: this.clock.now(), seq: entry.seq, status, message };
    this.log({ level: 'warn', msg: 'webhook attempt failed', seq: entry.seq, attempt: this.head.attempts, status, error: message });
  }

  private scheduleRetry(ms: number): void {
    this.scheduleRetryAt(this.clock.now() + ms, ms);
  }

  /** Takes an absolute time so a restored schedule keeps the exact instant it was saved with. */
  private scheduleRetryAt(at: number, ms = Math.max(0, at - this.clock.now())): void {
    this.clearRetry();
    this.nextAttemptAt = at;
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
    const id = webhookId(this.mac, entry.epoch, entry.seq, entry.id);
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
      return classifyResponse(res.status, res.statusText, parseRetryAfter(res.headers.get('retry-after'), this.clock.now()), res.headers.get('location'));
    } catch (err) {
      if (timedOut) return { kind: 'retry', message: `receiver did not answer within ${this.timeoutMs / 1000} s`, fault: 'timeout' };
      return { kind: 'retry', message: `cannot reach receiver: ${describe(err)}`, fault: 'unreachable' };
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
