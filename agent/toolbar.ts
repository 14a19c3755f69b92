import type { Clock } from '../shared/clock.ts';
import type { ToolbarEvent } from '../shared/toolbar/events.ts';
import { extensionOf } from '../shared/toolbar/events.ts';
import { ToolbarFeed } from '../shared/toolbar/feed.ts';
import type { AmiMessage } from './ami/message.ts';
import { ToolbarTranslator } from './events/toolbar.ts';
import type { WrapupEntry } from './events/wrapup.ts';

export interface AgentToolbarOptions {
  clock: Clock;
  popUrl: string | null;
  /** Passes toolbar-only events up the tunnel, when there is one. */
  sendLive(events: ToolbarEvent[]): void;
}

/**
 * The agent's side of the toolbar: its LAN pages read `feed`; the same toolbar-only events go up the
 * tunnel for the edge's pages, whose documented events come from the edge's own event queue.
 */
export class AgentToolbar {
  readonly feed: ToolbarFeed;
  private readonly translator = new ToolbarTranslator();

  constructor(private readonly opts: AgentToolbarOptions) {
    this.feed = new ToolbarFeed({ clock: opts.clock, popUrl: () => opts.popUrl });
  }

  onAmi(ami: AmiMessage): void {
    this.publish(this.translator.translate(ami));
  }

  onWrapup(entry: WrapupEntry, state: 'begin' | 'end'): void {
    const e = this.wrapupEvent(entry, state);
    if (e.ext) this.publish([e]);
  }

  /** Documented events as the pipeline spools them. */
  onDocumented(events: readonly { type: string; body: string }[]): void {
    this.feed.publishDocumented(events);
  }

  /**
   * Wrap-ups already open: after a restart during one, and whenever the tunnel comes back (the
   * edge keeps live state in memory only).
   */
  publishOpen(entries: readonly WrapupEntry[]): void {
    this.publish(entries.map((e) => this.wrapupEvent(e, 'begin')).filter((e) => e.ext !== ''));
  }

  close(): void {
    this.feed.close();
  }

  private publish(events: ToolbarEvent[]): void {
    if (events.length === 0) return;
    this.feed.publish(events);
    this.opts.sendLive(events);
  }

  private wrapupEvent(entry: WrapupEntry, state: 'begin' | 'end'): ToolbarEvent {
    const remainingMs = state === 'begin' ? Math.max(0, Math.round(entry.deadline - this.opts.clock.now())) : 0;
    return { type: 'wrapup', ext: extensionOf(entry.interface), interface: entry.interface, callId: entry.callId, state, remainingMs };
  }
}
