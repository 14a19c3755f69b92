import { createHash } from 'node:crypto';
import type { Clock } from '../shared/delivery/clock.ts';
import { Delivery } from '../shared/delivery/delivery.ts';
import type { Outbox } from './outbox/outbox.ts';

export interface LanDeliveryOptions {
  outbox: Outbox;
  /** api.conf `[general] URL`. */
  url: string;
  mac: string;
  /** api.conf `WEBHOOK_SECRET`; when unset the WEBKEY signs. */
  secret: string | null;
  /** api.conf `WEBKEY`; when set, every POST carries `Authorization: md5(WEBKEY + date)` as the box did. */
  webkey: string | null;
  /** The PBX's IANA zone, whose calendar date goes into the Authorization digest. */
  timeZone: string;
  clock?: Clock;
  fetch?: typeof fetch;
  types?: Iterable<string> | null;
  log?: (entry: Record<string, unknown>) => void;
}

export interface LanDelivery {
  readonly delivery: Delivery;
  close(): Promise<void>;
}

/**
 * LAN mode (no edge): the agent itself pushes its outbox to the customer URL, signed per Standard
 * Webhooks and authorised the way the original box authorised its pushes.
 */
export function startLanDelivery(opts: LanDeliveryOptions): LanDelivery {
  const { webkey, timeZone } = opts;
  const delivery = new Delivery({
    queue: opts.outbox,
    url: opts.url,
    mac: opts.mac,
    secret: opts.secret || webkey || null,
    clock: opts.clock,
    fetch: opts.fetch,
    types: opts.types,
    log: opts.log,
    extraHeaders: webkey ? (now) => ({ authorization: webkeyAuthorization(webkey, now, timeZone) }) : undefined,
  });
  const unsubscribe = opts.outbox.onAppend(() => delivery.kick());
  delivery.kick();
  return {
    delivery,
    async close() {
      unsubscribe();
      await delivery.close();
    },
  };
}

/** `md5(WEBKEY + 'YYYY-MM-DD')` in hex, the date being the box's own (SPEC "Authentication"). */
export function webkeyAuthorization(webkey: string, nowMs: number, timeZone: string): string {
  return createHash('md5').update(webkey + calendarDate(nowMs, timeZone)).digest('hex');
}

function calendarDate(nowMs: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(nowMs);
  const part = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}
