import type { Clock } from '../../shared/clock.ts';
import { ToolbarFeed } from '../../shared/toolbar/feed.ts';
import type { Hub } from './hub.ts';

/** Live toolbar streams per device, fed by its tunnel; in memory, like the tunnel itself. */
export class ToolbarFeeds {
  private readonly feeds = new Map<string, ToolbarFeed>();
  constructor(private readonly o: { clock: Clock; hub: Hub }) {}

  /** The device's feed, opened on first use. */
  of(mac: string): ToolbarFeed {
    let feed = this.feeds.get(mac);
    if (!feed) {
      feed = new ToolbarFeed({ clock: this.o.clock, popUrl: () => this.o.hub.info(mac).facts?.popUrl ?? null });
      this.feeds.set(mac, feed);
    }
    return feed;
  }

  /** The device's feed when a page has opened one. */
  open(mac: string): ToolbarFeed | undefined {
    return this.feeds.get(mac);
  }

  close(mac: string): void {
    this.feeds.get(mac)?.close();
    this.feeds.delete(mac);
  }
}
