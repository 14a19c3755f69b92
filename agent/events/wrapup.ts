import { z } from 'zod';
import type { AmiMessage } from '../ami/message.ts';
import type { AmiRunner } from '../ami/types.ts';
import type { Clock } from '../../shared/clock.ts';
import { readJsonFile } from '../json-file.ts';
import { writeFileAtomic } from '../outbox/atomic-file.ts';

/** The pause reason that marks a wrap-up pause; only pauses with it are lifted automatically. */
export const WRAPUP_REASON = 'wrapup';

export interface WrapupEntry {
  callId: string;
  /** The member's queue interface (SIP/800, Local/802@agents/n). */
  interface: string;
  /**
   * When the wrap-up started and when it ends by itself, on the agent's clock (epoch ms). Event
   * Timestamps are Asterisk's clock; mixing the two would stretch or cut a wrap-up by their skew.
   */
  endedAt: number;
  deadline: number;
  /** The pause was sent to Asterisk (else it is retried). */
  paused: boolean;
}

/** The wrap-up state file: what `save` writes. */
const wrapupFile = z.array(
  z.object({ callId: z.string(), interface: z.string(), endedAt: z.number(), deadline: z.number(), paused: z.boolean() }),
) satisfies z.ZodType<WrapupEntry[]>;

export interface WrapupOptions {
  ami: AmiRunner;
  seconds: number;
  clock: Clock;
  /** JSON file the open wrap-ups live in, so a restart finishes or ends them. */
  file: string;
  /** A wrap-up ended (by itself or by hand): the held cc_cdr goes out with this pauseTime. */
  onDone(callId: string, pauseSeconds: number, iface: string): void;
  /** A wrap-up began or ended, for the toolbars that show it. */
  onChange?(entry: WrapupEntry, state: 'begin' | 'end'): void;
  log?: (entry: Record<string, unknown>) => void;
}

/**
 * 后处理 (wrap-up): when an agent's own part of an answered call ends, the member is paused in all its queues with
 * reason `wrapup` for at most `seconds`, then unpaused, unless it was unpaused (or paused for another
 * reason) by hand first. The automatic unpause only touches queues where the member is still paused
 * for `wrapup`, so a supervisor's or the agent's own pause is never undone. Asterisk before 13.8 sends
 * no PausedReason at all: there the agent's memory stands in (it paused the member for wrap-up and saw
 * no unpause since), and a pause made by hand during a wrap-up cannot be told from the wrap-up's own.
 */
export class Wrapup {
  private entries = new Map<string, WrapupEntry>();
  /** Cancels of the armed wrap-up timers, by interface (one call can wrap up two agents). */
  private timers = new Map<string, () => void>();
  private saving: Promise<void> = Promise.resolve();

  private constructor(private readonly opts: WrapupOptions) {}

  static async open(opts: WrapupOptions): Promise<Wrapup> {
    const w = new Wrapup(opts);
    try {
      for (const e of (await readJsonFile(opts.file, wrapupFile)) ?? []) w.entries.set(e.interface, e);
    } catch (e) {
      opts.log?.({ level: 'warn', msg: 'wrap-up state unreadable; starting empty', error: (e as Error).message });
    }
    for (const e of w.entries.values()) w.schedule(e);
    return w;
  }

  get open(): readonly WrapupEntry[] {
    return [...this.entries.values()];
  }

  /** An answered call ended: pause the member everywhere with reason wrapup. */
  async begin(callId: string, iface: string): Promise<void> {
    if (this.entries.get(iface)?.callId === callId) return;
    const endedAt = this.opts.clock.now();
    const previous = this.entries.get(iface);
    // A second call ended before the first wrap-up did: the first one ends now.
    if (previous) this.finish(previous, endedAt);
    const entry: WrapupEntry = { callId, interface: iface, endedAt, deadline: endedAt + this.opts.seconds * 1000, paused: false };
    this.entries.set(iface, entry);
    this.opts.onChange?.(entry, 'begin');
    await this.save();
    await this.pause(entry);
    this.schedule(entry);
  }

  /** Every AMI event: a member unpaused, or paused for another reason, ends its wrap-up early. */
  onEvent(ami: AmiMessage, receivedAt: number): void {
    if (ami.event !== 'QueueMemberPause') return;
    const entry = this.entries.get(ami.get('Interface') ?? '');
    if (!entry?.paused) return;
    if (ami.get('Paused') === '1' && this.isWrapupPause(ami, entry)) return;
    this.finish(entry, receivedAt);
  }

  /** After every AMI login: retry pauses and unpauses that could not be sent while it was down. */
  resume(): void {
    for (const e of this.entries.values()) {
      if (!e.paused) void this.pause(e);
      if (this.opts.clock.now() >= e.deadline) this.schedule(e);
    }
  }

  close(): void {
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }

  private async pause(entry: WrapupEntry): Promise<void> {
    try {
      // No Queue header: Asterisk pauses the interface in every queue it is a member of.
      await this.opts.ami.action({ Action: 'QueuePause', Interface: entry.interface, Paused: 'true', Reason: WRAPUP_REASON });
      entry.paused = true;
      await this.save();
    } catch (e) {
      this.opts.log?.({ level: 'warn', msg: 'wrap-up pause not sent; retried when AMI is back', interface: entry.interface, error: (e as Error).message });
    }
  }

  private schedule(entry: WrapupEntry): void {
    this.timers.get(entry.interface)?.();
    const wait = Math.max(0, entry.deadline - this.opts.clock.now());
    this.timers.set(
      entry.interface,
      this.opts.clock.setTimer(wait, () => void this.expire(entry)),
    );
  }

  private async expire(entry: WrapupEntry): Promise<void> {
    this.timers.delete(entry.interface);
    if (this.entries.get(entry.interface) !== entry) return;
    try {
      const status = await this.opts.ami.action({ Action: 'QueueStatus', Member: entry.interface });
      for (const m of status.events) {
        if (m.event !== 'QueueMember' || m.get('Location') !== entry.interface) continue;
        if (m.get('Paused') !== '1' || !this.isWrapupPause(m, entry)) continue;
        await this.opts.ami.action({ Action: 'QueuePause', Queue: m.get('Queue'), Interface: entry.interface, Paused: 'false' });
      }
    } catch (e) {
      // AMI down at the deadline: try again shortly; the member must not stay paused.
      this.opts.log?.({ level: 'warn', msg: 'wrap-up unpause failed; retrying', interface: entry.interface, error: (e as Error).message });
      this.timers.set(entry.interface, this.opts.clock.setTimer(2000, () => void this.expire(entry)));
      return;
    }
    this.finish(entry, Math.min(this.opts.clock.now(), entry.deadline));
  }

  /**
   * A pause (QueueMemberPause, QueueStatus' QueueMember) is the wrap-up's own: its PausedReason says
   * so, or, where Asterisk has no PausedReason header (before 13.8; an empty one is another reason),
   * the agent's memory does: the wrap-up pause went out, and an unpause since would have ended it.
   */
  private isWrapupPause(pause: AmiMessage, entry: WrapupEntry): boolean {
    return pause.has('PausedReason') ? pause.get('PausedReason') === WRAPUP_REASON : entry.paused;
  }

  private finish(entry: WrapupEntry, idleAt: number): void {
    if (this.entries.get(entry.interface) !== entry) return;
    this.entries.delete(entry.interface);
    this.timers.get(entry.interface)?.();
    this.timers.delete(entry.interface);
    void this.save();
    this.opts.onChange?.(entry, 'end');
    this.opts.onDone(entry.callId, Math.max(0, Math.min(this.opts.seconds, (idleAt - entry.endedAt) / 1000)), entry.interface);
  }

  private save(): Promise<void> {
    const data = JSON.stringify([...this.entries.values()]);
    this.saving = this.saving.then(() => writeFileAtomic(this.opts.file, data)).catch((e: Error) => {
      this.opts.log?.({ level: 'error', msg: 'wrap-up state not saved', error: e.message });
    });
    return this.saving;
  }
}
