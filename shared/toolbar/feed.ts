import type { Clock } from '../clock.ts';
import { extensionsOfDocumented, type ToolbarEvent } from './events.ts';

export interface ToolbarFeedOptions {
  clock: Clock;
  /** Events kept for a reconnecting page (Last-Event-ID); older ones are gone and it starts afresh. */
  keep?: number;
  /** A comment line this often keeps proxies from closing an idle stream. */
  heartbeatMs?: number;
  /** The screen-pop URL as the box configured it (api.conf pop_url), sent to each page on connect. */
  popUrl(): string | null;
}

interface Item {
  seq: number;
  name: string;
  exts: readonly string[];
  /** Serialised when sent: a wrap-up's time left depends on when. */
  data: () => unknown;
}

interface OpenWrapup {
  event: Extract<ToolbarEvent, { type: 'wrapup' }>;
  /** On this feed's clock. */
  deadline: number;
}

interface Subscriber {
  ext: string;
  send(item: Item): void;
  close(): void;
}

/** A page that fell this far behind is cut off; EventSource reconnects and catches up from the ring. */
const MAX_QUEUED_BYTES = 1024 * 1024;

const enc = new TextEncoder();

/**
 * One device's live stream for toolbars, as Server-Sent Events filtered by extension. Fed the
 * documented events (the agent's outbox appends, or the edge's committed `evt` frames) and the
 * toolbar-only events (`live` frames). In memory: a page that reconnects within the last `keep`
 * events gets what it missed, otherwise it starts from the snapshot sent on every connect.
 */
export class ToolbarFeed {
  /** Ids are `<epoch>.<seq>`: a restarted feed does not mistake an old page's id for one of its own. */
  private readonly epoch = Math.random().toString(36).slice(2, 10);
  private seq = 0;
  private readonly ring: Item[] = [];
  private readonly subscribers = new Set<Subscriber>();
  private readonly wrapups = new Map<string, OpenWrapup>();
  private readonly keep: number;
  private readonly heartbeatMs: number;

  constructor(private readonly opts: ToolbarFeedOptions) {
    this.keep = opts.keep ?? 500;
    this.heartbeatMs = opts.heartbeatMs ?? 15_000;
  }

  /** Documented events as spooled: `type` and the JSON body that is POSTed. */
  publishDocumented(events: readonly { type: string; body: string }[]): void {
    for (const e of events) {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(e.body) as Record<string, unknown>;
      } catch {
        continue;
      }
      const exts = extensionsOfDocumented(body);
      if (exts.length > 0) this.add(e.type, exts, () => body);
    }
  }

  publish(events: readonly ToolbarEvent[]): void {
    const now = this.opts.clock.now();
    for (const e of events) {
      if (e.type !== 'wrapup') {
        this.add(e.type, [e.ext], () => e);
        continue;
      }
      if (e.state === 'end') {
        this.wrapups.delete(e.ext);
        this.add('wrapup', [e.ext], () => e);
        continue;
      }
      const open: OpenWrapup = { event: e, deadline: now + e.remainingMs };
      this.wrapups.set(e.ext, open);
      this.add('wrapup', [e.ext], () => this.wrapupNow(open));
    }
  }

  /** The SSE body for one extension's page. */
  stream(ext: string, lastEventId: string | undefined, signal?: AbortSignal): ReadableStream<Uint8Array> {
    let sub: Subscriber | undefined;
    let cancelBeat = () => {};
    const stop = () => {
      cancelBeat();
      if (sub) this.subscribers.delete(sub);
    };
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        let open = true;
        const write = (text: string) => {
          if (!open) return;
          if ((controller.desiredSize ?? 0) < -MAX_QUEUED_BYTES) return sub?.close();
          controller.enqueue(enc.encode(text));
        };
        sub = {
          ext,
          send: (item) => write(this.frame(item)),
          close: () => {
            if (!open) return;
            open = false;
            stop();
            controller.close();
          },
        };
        write('retry: 2000\n\n');
        write(`event: snapshot\ndata: ${JSON.stringify(this.snapshot(ext))}\n\n`);
        for (const item of this.missed(lastEventId)) if (item.exts.includes(ext)) sub.send(item);
        this.subscribers.add(sub);
        const beat = () => {
          cancelBeat = this.opts.clock.setTimer(this.heartbeatMs, () => {
            write(': keep-alive\n\n');
            beat();
          });
        };
        beat();
        signal?.addEventListener('abort', () => sub?.close(), { once: true });
      },
      cancel: stop,
    }, { highWaterMark: MAX_QUEUED_BYTES, size: (chunk) => chunk.byteLength });
  }

  /** Pages open right now (for tests and status). */
  get listeners(): number {
    return this.subscribers.size;
  }

  /** Ends every stream, so an HTTP server can close. */
  close(): void {
    for (const s of [...this.subscribers]) s.close();
  }

  private add(name: string, exts: readonly string[], data: () => unknown): void {
    const item: Item = { seq: ++this.seq, name, exts, data };
    this.ring.push(item);
    if (this.ring.length > this.keep) this.ring.shift();
    for (const s of this.subscribers) if (exts.includes(s.ext)) s.send(item);
  }

  private missed(lastEventId: string | undefined): Item[] {
    const m = /^([a-z0-9]+)\.(\d+)$/.exec(lastEventId ?? '');
    if (!m || m[1] !== this.epoch) return [];
    const after = Number(m[2]);
    return this.ring.filter((i) => i.seq > after);
  }

  private frame(item: Item): string {
    return `id: ${this.epoch}.${item.seq}\nevent: ${item.name}\ndata: ${JSON.stringify(item.data())}\n\n`;
  }

  private snapshot(ext: string) {
    const w = this.wrapups.get(ext);
    return { ext, popUrl: this.opts.popUrl(), wrapup: w && w.deadline > this.opts.clock.now() ? this.wrapupNow(w) : null };
  }

  private wrapupNow(w: OpenWrapup) {
    return { ...w.event, remainingMs: Math.max(0, Math.round(w.deadline - this.opts.clock.now())) };
  }
}
