import { classifyResponse, type AttemptOutcome } from '../../shared/delivery/attempt-outcome.ts';
import type { Clock } from '../../shared/clock.ts';
import { ApiError } from '../../shared/errors.ts';
import { Delivery, type DeliveryStatus } from '../../shared/delivery/delivery.ts';
import { retryDelayMs } from '../../shared/delivery/retry-schedule.ts';
import { WebhookSigner, webhookId, type SignerFactory } from '../../shared/delivery/signature.ts';
import type { WebhookFetch } from '../../shared/delivery/webhook-fetch.ts';
import { deviceQueue } from './device-queue.ts';
import type { Hub } from './hub.ts';
import type { EdgeStore } from './store.ts';

export interface EdgeDeliveriesOptions {
  store: EdgeStore;
  hub: Hub;
  clock: Clock;
  fetch?: WebhookFetch;
  /** Default: WebCrypto HMAC. */
  createSigner?: SignerFactory;
  /** Tests only: the retry schedule's waits times this (the Workers edge's clock cannot be scaled). */
  retryScale?: number;
  /** Whether this instance sends mac's webhooks (edge/core/cluster.ts); default: all. */
  delivers?: (mac: string) => boolean;
  log(entry: Record<string, unknown>): void;
}

/**
 * One shared Delivery loop per device, over its slice of the edge store, signed with the secret the
 * edge issued, to the operator's URL or else the URL the box sent in its hello.
 */
export class EdgeDeliveries {
  private readonly loops = new Map<string, Delivery>();

  constructor(private readonly opts: EdgeDeliveriesOptions) {}

  /** Re-reads the device's settings and sends whatever waits. */
  async kick(mac: string): Promise<void> {
    const device = await this.opts.store.getDevice(mac);
    const url = device?.url ?? this.opts.hub.info(mac).facts?.url ?? null;
    const loop = this.loops.get(mac);
    if (!device || !url || this.opts.delivers?.(mac) === false) {
      if (loop) {
        this.loops.delete(mac);
        await loop.close();
      }
      return;
    }
    if (!loop) {
      const { store, clock, log } = this.opts;
      const created = new Delivery({
        queue: deviceQueue(store, mac, clock.now),
        url,
        mac,
        secret: device.webhookSecret,
        clock,
        types: device.types,
        ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
        ...(this.opts.createSigner ? { createSigner: this.opts.createSigner } : {}),
        ...(this.opts.retryScale ? { retryDelay: scaledRetryDelay(this.opts.retryScale) } : {}),
        log: (e) => log({ ...e, mac }),
      });
      this.loops.set(mac, created);
      return created.kick();
    }
    loop.setUrl(url);
    loop.setSecret(device.webhookSecret);
    loop.setTypes(device.types);
    loop.kick();
  }

  async status(mac: string): Promise<DeliveryStatus | null> {
    return (await this.loops.get(mac)?.status()) ?? null;
  }

  async replayFrom(mac: string, seq: number): Promise<number> {
    return this.loop(mac).replayFrom(seq);
  }

  async redeliver(mac: string, seq: number): Promise<AttemptOutcome> {
    return this.loop(mac).redeliverDeadLetter(seq);
  }

  /** One signed POST of a `test` event, outside the queue, so the operator sees what the receiver says. */
  async sendTest(mac: string): Promise<AttemptOutcome & { url: string }> {
    const device = await this.opts.store.getDevice(mac);
    const url = device?.url ?? this.opts.hub.info(mac).facts?.url ?? null;
    if (!device || !url) throw new ApiError('CONFLICT', 'no push URL: set one with PUT /admin/devices/{mac} {url}, or in the box api.conf');
    const now = this.opts.clock.now();
    const body = JSON.stringify({ event: 'test', mac, timestamp: (now / 1000).toFixed(6) });
    const id = webhookId(mac, 'test', now);
    const ts = Math.floor(now / 1000);
    const signature = await (await (this.opts.createSigner ?? WebhookSigner.create)(device.webhookSecret)).sign(id, ts, body);
    const headers = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature };
    try {
      const res = await (this.opts.fetch ?? fetch)(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
      res.body?.cancel().catch(() => {});
      return { ...classifyResponse(res.status, res.statusText, null, res.headers.get('location')), url };
    } catch (e) {
      return { kind: 'retry', message: `could not reach the receiver: ${e instanceof Error ? e.message : String(e)}`, fault: 'unreachable', url };
    }
  }

  /**
   * Stops mac's delivery for another edge to take over: the webhook in flight gets its answer (for
   * up to `withinMs`) so the next home sends nothing twice; past that it is cut, and resent there.
   */
  async handOver(mac: string, withinMs: number): Promise<void> {
    const loop = this.loops.get(mac);
    this.loops.delete(mac);
    if (!loop) return;
    let cancel = () => {};
    await Promise.race([loop.finish(), new Promise<void>((r) => (cancel = this.opts.clock.setTimer(withinMs, r)))]);
    cancel();
    await loop.close();
  }

  async remove(mac: string): Promise<void> {
    const loop = this.loops.get(mac);
    this.loops.delete(mac);
    await loop?.close();
  }

  async closeAll(): Promise<void> {
    const loops = [...this.loops.values()];
    this.loops.clear();
    await Promise.all(loops.map((l) => l.close()));
  }

  private loop(mac: string): Delivery {
    const loop = this.loops.get(mac);
    if (!loop) throw new ApiError('CONFLICT', `no delivery for ${mac}: it has no push URL yet`);
    return loop;
  }
}

const scaledRetryDelay = (scale: number) => (failedAttempts: number, random: () => number) => Math.round(retryDelayMs(failedAttempts, random) * scale);
