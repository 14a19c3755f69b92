import type { Clock } from '../../shared/clock.ts';
import { CloseCode } from '../../shared/tunnel/close-codes.ts';
import type { DeviceFacts, TunnelSession } from './tunnel-session.ts';

/** What the edge remembers of a device's tunnels, online or not. */
export interface TunnelInfo {
  online: boolean;
  /** Epoch ms the current tunnel was welcomed. */
  since: number | null;
  /** Last facts the box sent (kept after it disconnects: versions, WEBKEY digests, outbox). */
  facts: DeviceFacts | null;
  connects: number;
  replacements: number;
  /** Replacements that followed another within the conflict window: two boxes with one token. */
  conflicts: number;
  lastConflictAt: number | null;
  lastDisconnect: { at: number; code: number; reason: string } | null;
}

/** What a device's new home takes over of its tunnels' history from the old one (edge/core/cluster-member.ts). */
export interface TunnelHistory {
  connects: number;
  replacements: number;
  conflicts: number;
  lastConflictAt: number | null;
  lastReplacementAt: number | null;
  lastDisconnect: TunnelInfo['lastDisconnect'];
}

export interface HubOptions {
  clock: Clock;
  /** Two replacements this close together count as a conflict. */
  conflictWindowMs?: number;
  log(entry: Record<string, unknown>): void;
  /** A tunnel came, went or sent new facts (Workers keeps them to rebuild after hibernation). */
  onChange?(mac: string, session: TunnelSession | null): void;
}

interface Entry extends TunnelInfo {
  session: TunnelSession | null;
  lastReplacementAt: number | null;
}

/**
 * MAC -> live tunnel. A newer tunnel for a MAC replaces the older (closed REPLACED), since the box
 * reconnecting after a half-dead link is the common case; a box whose token was cloned shows up as
 * replacements that keep coming, counted as conflicts.
 */
export class Hub {
  private readonly entries = new Map<string, Entry>();
  private readonly window: number;

  constructor(private readonly opts: HubOptions) {
    this.window = opts.conflictWindowMs ?? 5 * 60_000;
  }

  /** Called when a session was welcomed. */
  attach(session: TunnelSession): void {
    const e = this.entry(session.mac);
    const previous = e.session;
    e.session = session;
    e.connects++;
    e.facts = session.facts;
    if (previous && previous !== session) {
      this.countReplacement(session.mac, e);
      previous.close(CloseCode.REPLACED, 'a newer connection for this MAC took over');
    }
    this.opts.onChange?.(session.mac, session);
  }

  history(mac: string): TunnelHistory {
    const { connects, replacements, conflicts, lastConflictAt, lastReplacementAt, lastDisconnect } = this.entry(mac);
    return { connects, replacements, conflicts, lastConflictAt, lastReplacementAt, lastDisconnect };
  }

  /**
   * Adds the history an old home kept of mac's tunnels to ours; `replaced`: it closed a live tunnel
   * for the one welcomed here, a replacement as if both had been here.
   */
  inherit(mac: string, h: TunnelHistory, replaced: boolean): void {
    const e = this.entry(mac);
    e.connects += h.connects;
    e.replacements += h.replacements;
    e.conflicts += h.conflicts;
    e.lastConflictAt = later(e.lastConflictAt, h.lastConflictAt);
    e.lastReplacementAt = later(e.lastReplacementAt, h.lastReplacementAt);
    if (!e.lastDisconnect || (h.lastDisconnect && h.lastDisconnect.at > e.lastDisconnect.at)) e.lastDisconnect = h.lastDisconnect;
    if (replaced) this.countReplacement(mac, e);
  }

  private countReplacement(mac: string, e: Entry): void {
    const now = this.opts.clock.now();
    e.replacements++;
    if (e.lastReplacementAt !== null && now - e.lastReplacementAt < this.window) {
      e.conflicts++;
      e.lastConflictAt = now;
      this.opts.log({ level: 'warn', msg: 'tunnel conflict: two agents keep replacing each other (cloned device token?)', mac, conflicts: e.conflicts });
    }
    e.lastReplacementAt = now;
  }

  /** Called when a session closed; only the current one takes the device offline. */
  detach(session: TunnelSession, code: number, reason: string): void {
    const e = this.entries.get(session.mac);
    if (!e || e.session !== session) return;
    e.session = null;
    e.lastDisconnect = { at: this.opts.clock.now(), code, reason };
    this.opts.onChange?.(session.mac, null);
  }

  /** Keeps the remembered facts current as status frames arrive. */
  updateFacts(session: TunnelSession): void {
    const e = this.entries.get(session.mac);
    if (!e || e.session !== session) return;
    e.facts = session.facts;
    this.opts.onChange?.(session.mac, session);
  }

  session(mac: string): TunnelSession | undefined {
    const s = this.entries.get(mac)?.session;
    return s && s.state === 'open' ? s : undefined;
  }

  info(mac: string): TunnelInfo {
    const { session, lastReplacementAt: _r, ...info } = this.entry(mac);
    return { ...info, online: session?.state === 'open', since: session?.since ?? null };
  }

  /** Closes the device's tunnel (deleted device, rotated token) and forgets it. */
  revoke(mac: string, reason: string): void {
    this.entries.get(mac)?.session?.close(CloseCode.REVOKED, reason);
    this.entries.delete(mac);
  }

  get onlineCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.session?.state === 'open') n++;
    return n;
  }

  totals(): { replacements: number; conflicts: number } {
    let replacements = 0;
    let conflicts = 0;
    for (const e of this.entries.values()) {
      replacements += e.replacements;
      conflicts += e.conflicts;
    }
    return { replacements, conflicts };
  }

  closeAll(code: number, reason: string): void {
    for (const e of this.entries.values()) e.session?.close(code, reason);
  }

  private entry(mac: string): Entry {
    let e = this.entries.get(mac);
    if (!e) {
      e = { session: null, online: false, since: null, facts: null, connects: 0, replacements: 0, conflicts: 0, lastConflictAt: null, lastDisconnect: null, lastReplacementAt: null };
      this.entries.set(mac, e);
    }
    return e;
  }
}

const later = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));
