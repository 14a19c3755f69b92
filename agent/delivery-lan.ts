import type { Clock } from '../shared/clock.ts';
import { Delivery } from '../shared/delivery/delivery.ts';
import type { WebhookFetch } from '../shared/delivery/webhook-fetch.ts';
import { webkeyDigests } from './auth/webkey.ts';
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
  fetch?: WebhookFetch;
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
    // The box's today (the middle of yesterday, today, tomorrow), as its own pushes were authorised.
    extraHeaders: webkey ? (now) => ({ authorization: webkeyDigests(webkey, now, timeZone)[1]! }) : undefined,
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
