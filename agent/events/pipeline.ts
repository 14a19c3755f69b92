import { AmiMessage } from '../ami/message.ts';
import type { ExtensionDirectory, HintEntry } from '../extensions.ts';
import type { OutboxEvent } from '../outbox/outbox.ts';
import { CcCdrMachine, type CcCdrOptions, type CcCdrOutput } from './cc-cdr.ts';
import { ccCdrRecordId, cdrRecordId } from '../backfill/record-events.ts';
import { CcJournal, type JournalInput } from './cc-journal.ts';
import { parsePbxTime } from './time.ts';
import { EventTranslator, isNoise } from './translate.ts';

/** What the pipeline needs of the outbox: ordered durable appends and the next sequence number. */
export interface PipelineOutbox {
  appendMany(events: readonly OutboxEvent[]): Promise<number[]>;
  stats(): { nextSeq: number };
}

export type WrapupSignal = Extract<CcCdrOutput, { kind: 'answered-call-ended' }>;

export interface EventPipelineOptions extends Omit<CcCdrOptions, 'now'> {
  outbox: PipelineOutbox;
  /** Folder for the cc_cdr journal and snapshot (below `[paths] spool`). */
  stateDir: string;
  now: () => number;
  /** An agent's part of an answered call ended: the wrap-up logic pauses the member (pausetime=yes). */
  onWrapup?(signal: WrapupSignal): void;
  /** Fold the journal into a snapshot after this many inputs. */
  snapshotEvery?: number;
  log?: (entry: Record<string, unknown>) => void;
}

type Input = JournalInput & { ami?: AmiMessage; done?: (written: OutboxEvent[]) => void };

/**
 * From AMI events to durable documented events. Each input is translated (the six stateless
 * events) and fed to the cc_cdr machine; the machine's inputs go to a write-ahead journal first, then
 * every resulting event to the outbox, in arrival order. Inputs that arrive while a write is on disk
 * wait for the next one (group commit), so throughput does not pay one fsync per event.
 */
export class EventPipeline {
  private queue: Input[] = [];
  private running: Promise<void> | null = null;
  private nextSeq: number;
  /** The last disk error while it lasts, for status. */
  diskError: string | null = null;

  private constructor(
    private readonly opts: EventPipelineOptions,
    private readonly translator: EventTranslator,
    private readonly machine: CcCdrMachine,
    private readonly journal: CcJournal,
  ) {
    this.nextSeq = opts.outbox.stats().nextSeq;
  }

  /**
   * Opens the journal, restores the machine and replays what the last run journaled: records the
   * outbox already holds are not written twice.
   */
  static async open(opts: EventPipelineOptions): Promise<EventPipeline> {
    const { journal, state, replay } = await CcJournal.open(opts.stateDir);
    const ccOpts: CcCdrOptions = { ...opts, now: opts.now };
    const machine = state ? CcCdrMachine.restore(state, ccOpts) : new CcCdrMachine(ccOpts);
    const translator = new EventTranslator({ mac: opts.mac, timeZone: opts.timeZone, monitorDir: opts.monitorDir });
    translator.setDirectory(machine.extensions);
    const p = new EventPipeline(opts, translator, machine, journal);
    const have = opts.outbox.stats().nextSeq;
    const missing: OutboxEvent[] = [];
    const signals: WrapupSignal[] = [];
    const completed = new Set<string>();
    for (const entry of replay) {
      if (entry.k === 'wrapup') completed.add(`${entry.callId}\n${entry.iface ?? ''}`);
      let seq = entry.seq;
      for (const out of p.process(entry)) {
        if ('kind' in out) {
          signals.push(out);
          continue;
        }
        if (seq++ >= have) missing.push(out);
      }
    }
    if (missing.length > 0) await opts.outbox.appendMany(missing);
    p.nextSeq = opts.outbox.stats().nextSeq;
    if (replay.length > 0) {
      opts.log?.({ msg: 'cc_cdr journal replayed', inputs: replay.length, recordsWritten: missing.length });
      await journal.snapshot(machine.snapshot());
    }
    // Wrap-ups the journal does not see completed are the wrap-up logic's to finish or resume.
    for (const s of signals) if (!completed.has(`${s.callId}\n${s.interface}`) && !completed.has(`${s.callId}\n`)) opts.onWrapup?.(s);
    return p;
  }

  /** Takes one AMI event as read from the socket. Noise (half the stream) costs one lookup. */
  push(ami: AmiMessage, receivedAt: number): void {
    this.enqueue({ k: 'ami', t: receivedAt, p: ami.pairs, ami });
  }

  /** QueueStatus items after each AMI login, so the machine knows who is logged in. */
  seedQueueStatus(items: readonly AmiMessage[]): void {
    this.enqueue({ k: 'seed', items: items.map((i) => i.pairs) });
  }

  /** The box's hints after each AMI login, so trunks are told from extensions. */
  seedHints(hints: readonly HintEntry[]): void {
    this.enqueue({ k: 'hints', hints: hints.map((h) => ({ exten: h.exten, devices: h.devices })) });
  }

  completeWrapup(callId: string, pauseSeconds: number, iface: string): void {
    this.enqueue({ k: 'wrapup', callId, secs: pauseSeconds, iface });
  }

  /**
   * Appends records rebuilt from the box's files after a gap, skipping any the agent sent already
   * (live before the gap, or by an earlier backfill), and forgets the open calls they finish.
   * Resolves with what was written, once it is on disk.
   */
  backfill(events: readonly { type: string; body: string; id: string }[], calls: readonly string[]): Promise<OutboxEvent[]> {
    return new Promise((resolve) => this.enqueue({ k: 'backfill', events: [...events], calls: [...calls], done: resolve }));
  }

  /** Finishes calls silent for hours and releases held records whose wrap-up never ended. */
  expire(): void {
    this.enqueue({ k: 'expire', t: this.opts.now() });
  }

  /** The box's extensions as the last hints said. */
  get extensions(): ExtensionDirectory {
    return this.machine.extensions;
  }

  get openCalls(): number {
    return this.machine.openCalls;
  }

  /** Resolves once everything pushed so far is on disk. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.journal.snapshot(this.machine.snapshot());
    await this.journal.close();
  }

  private enqueue(input: Input): void {
    this.queue.push(input);
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      const journaled: (JournalInput & { seq: number })[] = [];
      const events: OutboxEvent[] = [];
      const signals: WrapupSignal[] = [];
      const done: (() => void)[] = [];
      for (const input of batch) {
        if (input.k === 'ami' && isNoise(input.ami ?? new AmiMessage(input.p))) continue;
        const { ami: _live, done: notify, ...plain } = input;
        journaled.push({ ...plain, seq: this.nextSeq + events.length });
        const written: OutboxEvent[] = [];
        for (const out of this.process(input)) {
          if ('kind' in out) signals.push(out);
          else written.push(out);
        }
        events.push(...written);
        if (notify) done.push(() => notify(written));
      }
      this.nextSeq += events.length;
      // The journal first: once it holds an input, a crash before the outbox write is replayed.
      await this.untilWritten(() => this.journal.append(journaled));
      if (events.length > 0) {
        const seqs = await this.untilWritten(() => this.opts.outbox.appendMany(events));
        if (seqs[0] !== this.nextSeq - events.length) {
          this.opts.log?.({ level: 'error', msg: 'outbox sequence moved under the event pipeline', expected: this.nextSeq - events.length, got: seqs[0] });
          this.nextSeq = this.opts.outbox.stats().nextSeq;
        }
      }
      if (this.journal.entriesSinceSnapshot >= (this.opts.snapshotEvery ?? 5000)) {
        await this.untilWritten(() => this.journal.snapshot(this.machine.snapshot()));
      }
      for (const s of signals) this.opts.onWrapup?.(s);
      for (const d of done) d();
    }
  }

  /**
   * Retries a disk write until it succeeds: a full or failing disk holds the stream in memory, in
   * order, rather than skipping what it could not write. Said once per outage.
   */
  private async untilWritten<T>(write: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await write();
        if (this.diskError) {
          this.opts.log?.({ msg: 'event pipeline writes again', after: this.diskError });
          this.diskError = null;
        }
        return r;
      } catch (e) {
        if (!this.diskError) this.opts.log?.({ level: 'error', msg: 'event pipeline cannot write to disk; holding events in memory', error: (e as Error).message });
        this.diskError = (e as Error).message;
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)).unref());
      }
    }
  }

  /** The outputs of one input, in the order they take sequence numbers. */
  private process(input: JournalInput & { ami?: AmiMessage }): (OutboxEvent | WrapupSignal)[] {
    const out: (OutboxEvent | WrapupSignal)[] = [];
    if (input.k === 'ami') {
      const ami = (input.ami ??= new AmiMessage(input.p));
      const doc = this.translator.translate(ami, input.t);
      if (doc) out.push({ type: doc.event, body: JSON.stringify(doc) });
      if (doc?.event === 'cdr') {
        const f = (k: string) => ami.get(k) ?? '';
        const startMs = parsePbxTime(f('StartTime'), this.opts.timeZone);
        this.machine.noteRecord(cdrRecordId({ uniqueid: f('UniqueID'), channel: f('Channel'), dstchannel: f('DestinationChannel'), startMs }));
      }
    }
    if (input.k === 'backfill') {
      for (const e of input.events) {
        if (this.machine.wasSent(e.id)) continue;
        this.machine.noteRecord(e.id);
        out.push({ type: e.type, body: e.body, id: e.id });
      }
      for (const c of input.calls) this.machine.dismiss(c);
      return out;
    }
    for (const o of this.feedMachine(input)) {
      if (o.kind === 'cc_cdr') this.machine.noteRecord(ccCdrRecordId(o.record.uuid));
      out.push(o.kind === 'cc_cdr' ? ccEvent(o.record) : o);
    }
    return out;
  }

  private feedMachine(input: Exclude<JournalInput, { k: 'backfill' }> & { ami?: AmiMessage }): CcCdrOutput[] {
    switch (input.k) {
      case 'ami':
        return this.machine.feed(input.ami ?? new AmiMessage(input.p), input.t);
      case 'seed':
        this.machine.seedQueueStatus(input.items.map((p) => new AmiMessage(p)));
        return [];
      case 'hints':
        this.machine.seedHints(input.hints);
        this.translator.setDirectory(this.machine.extensions);
        return [];
      case 'wrapup':
        return this.machine.completeWrapup(input.callId, input.secs, input.iface);
      case 'expire':
        return this.machine.expire(input.t);
      default:
        // A journal input added to JournalInput must be fed here: this stops compiling.
        return input satisfies never;
    }
  }
}

function ccEvent(record: object): OutboxEvent {
  return { type: 'cc_cdr', body: JSON.stringify(record) };
}
