import type { Clock } from '../../shared/clock.ts';
import { ApiError } from '../../shared/errors.ts';
import { CloseCode } from '../../shared/tunnel/close-codes.ts';
import type { Cluster } from './cluster.ts';
import type { EdgeDeliveries } from './deliveries.ts';
import type { ClusterMessage, HomeStore, Instance } from './home-store.ts';
import type { Hub, TunnelHistory } from './hub.ts';

/** The header an internal request carries: the cluster's secret, kept in the store. */
export const HOP_HEADER = 'x-coocenter-cluster';
const HANDOVER = '/internal/cluster/handover/';
/** Request headers that belong to one connection, not to the request forwarded. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'te', 'trailer', 'proxy-authorization', 'proxy-connection'];
const ORPHANS_PER_BEAT = 50;

export interface ClusterMemberOptions {
  self: Instance;
  homes: HomeStore;
  hub: Hub;
  /** Real time: leases and heartbeats never run on a test's scaled clock. */
  timers: Clock;
  fetch: typeof fetch;
  /** A home not heard from for this long is taken over (ms). */
  leaseMs: number;
  log(entry: Record<string, unknown>): void;
}

/**
 * One Node edge among several on one PostgreSQL store. A tunnel welcomed here makes this instance
 * the device's home, after the old home has closed its tunnel and stopped delivering (an internal
 * handover request), so a device's webhooks never go out from two instances at once. A request for
 * a device homed elsewhere is forwarded there. Every lease/4 the instance says it is alive, learns
 * which homes it still has, and takes devices whose home died with events still waiting. When it
 * cannot reach the store for most of a lease it stops delivering (fenced): another instance may
 * already have taken its devices.
 */
export class ClusterMember implements Cluster {
  private readonly homes = new Set<string>();
  private readonly tunnels = new Set<string>();
  private readonly claiming = new Set<string>();
  /** Devices being handed over from here: not ours to take back until the store says where they went. */
  private readonly leaving = new Set<string>();
  private deliveries: EdgeDeliveries | undefined;
  private secret = '';
  private lastBeat = 0;
  private fenced = false;
  private stopBeat: () => void = () => {};
  private unlisten: () => Promise<void> = async () => {};
  private closed = false;

  constructor(private readonly o: ClusterMemberOptions) {}

  get id(): string {
    return this.o.self.id;
  }

  /** Joins: reads the secret, listens, and beats once before the edge serves. */
  async start(deliveries: EdgeDeliveries): Promise<void> {
    this.deliveries = deliveries;
    this.secret = await this.o.homes.secret();
    this.unlisten = await this.o.homes.listen((m) => this.onMessage(m));
    await this.beat();
    this.schedule();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopBeat();
    await this.unlisten();
    // Our devices are free at once: another instance takes them on its next beat.
    await this.o.homes.leave(this.o.self.id).catch((e: unknown) => this.o.log({ level: 'warn', msg: 'cluster: could not leave cleanly; our devices move when the lease runs out', error: String(e) }));
  }

  async forward(mac: string, request: Request): Promise<Response | null> {
    // The tunnel's holder serves, even while it is still becoming the home (an old home that died
    // must not keep the device unreachable for a lease).
    if (this.tunnels.has(mac) || this.homes.has(mac)) return null;
    const secret = request.headers.get(HOP_HEADER);
    if (secret !== null) {
      if (!this.isPeer(secret)) throw new ApiError('FORBIDDEN', `${HOP_HEADER}: not this cluster's secret`);
      return null; // forwarded once already: never twice
    }
    const home = await this.homeFor(mac);
    if (!home) return null;
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    for (const h of HOP_BY_HOP) headers.delete(h);
    headers.set(HOP_HEADER, this.secret);
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
    let res: Response;
    try {
      res = await this.o.fetch(`${home.url}${url.pathname}${url.search}`, {
        method: request.method,
        headers,
        redirect: 'manual',
        ...(hasBody ? { body: request.body, duplex: 'half' } : {}),
        signal: request.signal,
      } as RequestInit);
    } catch (e) {
      throw new ApiError(
        'DEVICE_OFFLINE',
        `device ${mac} is served by edge instance ${home.url}, which did not answer (${causeOf(e)}); if it stopped, its devices move to another instance within ${Math.ceil(this.o.leaseMs / 1000)} s: retry then`,
      );
    }
    const out = new Headers(res.headers);
    out.delete('transfer-encoding');
    // fetch has already undone a content encoding: the length was the encoded one.
    if (out.has('content-encoding')) {
      out.delete('content-encoding');
      out.delete('content-length');
    }
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers: out });
  }

  /**
   * mac's live home, when it is another instance. A device without one is homed here by its first
   * request, so its requests are all counted, and its state kept, in one place.
   */
  private async homeFor(mac: string): Promise<Instance | null> {
    for (let tries = 0; tries < 3 && !this.leaving.has(mac); tries++) {
      const home = await this.o.homes.home(mac);
      if (home) return home.id === this.o.self.id ? null : home;
      if (await this.o.homes.take(mac, this.o.self.id, null, false)) {
        this.adopt(mac);
        return null;
      }
    }
    return null;
  }

  attached(mac: string): void {
    this.tunnels.add(mac);
    void this.homeTunnel(mac);
  }

  /** Marks the tunnel held here online, claiming the home first if the claim at authorization gave up. */
  private async homeTunnel(mac: string): Promise<void> {
    await this.claim(mac);
    if (this.homes.has(mac) && this.tunnels.has(mac)) await this.o.homes.setOnline(mac, this.o.self.id, true).catch(() => {});
  }

  detached(mac: string): void {
    this.tunnels.delete(mac);
    if (this.homes.has(mac)) void this.o.homes.setOnline(mac, this.o.self.id, false).catch(() => {});
  }

  committed(mac: string): void {
    if (!this.homes.has(mac)) void this.o.homes.broadcast({ kind: 'nudge', mac }).catch(() => {});
  }

  delivers(mac: string): boolean {
    return this.homes.has(mac) && !this.fenced;
  }

  async online(macs: readonly string[]): Promise<Set<string>> {
    const online = await this.o.homes.online(macs);
    for (const m of macs) if (this.o.hub.session(m)) online.add(m);
    return online;
  }

  async revoke(mac: string, reason: string): Promise<void> {
    this.o.hub.revoke(mac, reason);
    await this.o.homes.broadcast({ kind: 'revoke', mac, reason });
  }

  async internal(request: Request, path: string): Promise<Response | null> {
    if (!path.startsWith('/internal/')) return null;
    if (!this.isPeer(request.headers.get(HOP_HEADER) ?? '')) throw new ApiError('FORBIDDEN', 'internal cluster route: only other instances of this edge may call it');
    if (request.method === 'POST' && path.startsWith(HANDOVER)) {
      const mac = decodeURIComponent(path.slice(HANDOVER.length));
      const { to } = (await request.json()) as { to?: unknown };
      if (typeof to !== 'string') throw new ApiError('BAD_PARAMETER', 'handover: `to` is the instance id', 'to');
      return Response.json(await this.handOver(mac, to));
    }
    throw new ApiError('NOT_FOUND', `${request.method} ${path} is not an internal route`);
  }

  /**
   * Becomes mac's home: asks the live home to hand over, or takes a free one. A home that does not
   * answer is going away, or gone while its lease runs: tried again until the lease has run out once,
   * then the tunnel is let in anyway (it is served here; the next beat claims again).
   */
  async claim(mac: string): Promise<void> {
    if (this.homes.has(mac) || this.claiming.has(mac)) return;
    this.claiming.add(mac);
    const deadline = this.o.timers.now() + this.o.leaseMs * 1.5;
    try {
      let from: { url: string; handedOver: HandedOver } | null = null;
      while (!this.closed && !this.homes.has(mac)) {
        const home = await this.o.homes.home(mac);
        const leaving = this.leaving.has(mac);
        if (!leaving && (home?.id === this.o.self.id || (!home && (await this.o.homes.take(mac, this.o.self.id, null, false))))) {
          if (from?.handedOver.history) this.o.hub.inherit(mac, from.handedOver.history, from.handedOver.replaced);
          this.adopt(mac);
          this.o.log({ msg: 'cluster: device homed here', mac, from: from?.url ?? null });
          return;
        }
        const handedOver = home && home.id !== this.o.self.id && (await this.askHandover(home, mac));
        if (home && handedOver) {
          from = { url: home.url, handedOver };
          continue;
        }
        if (this.o.timers.now() > deadline) {
          this.o.log({ level: 'warn', msg: 'cluster: the device\u2019s home did not hand over; its tunnel is served here meanwhile', mac, home: home?.url });
          return;
        }
        await new Promise<void>((r) => this.o.timers.setTimer(Math.max(50, this.o.leaseMs / 8), r));
      }
    } catch (e) {
      this.o.log({ level: 'warn', msg: 'cluster: could not become the device\u2019s home; retried on the next beat', mac, error: String(e) });
    } finally {
      this.claiming.delete(mac);
    }
  }

  private async askHandover(home: Instance, mac: string): Promise<HandedOver | null> {
    try {
      const res = await this.o.fetch(`${home.url}${HANDOVER}${encodeURIComponent(mac)}`, {
        method: 'POST',
        headers: { [HOP_HEADER]: this.secret, 'content-type': 'application/json' },
        body: JSON.stringify({ to: this.o.self.id }),
        signal: AbortSignal.timeout(Math.max(1000, this.o.leaseMs)),
      });
      if (!res.ok) {
        await res.body?.cancel();
        return null;
      }
      return (await res.json()) as HandedOver;
    } catch {
      return null;
    }
  }

  /** Another instance holds mac's new tunnel: close ours, let the webhook in flight finish, pass the home on. */
  private async handOver(mac: string, to: string): Promise<HandedOver> {
    // Not (or no longer) the home: nothing to pass on; the asker reads the home again.
    if (!this.homes.has(mac)) return { history: null, replaced: false };
    const session = this.o.hub.session(mac);
    const handedOver = { history: this.o.hub.history(mac), replaced: session !== undefined };
    this.homes.delete(mac);
    this.leaving.add(mac);
    try {
      session?.close(CloseCode.REPLACED, 'a newer connection for this MAC took over, on another edge instance');
      // Within the asker's patience (askHandover's timeout), with room for the store write after.
      await this.deliveries?.handOver(mac, Math.max(500, this.o.leaseMs / 2));
      await this.o.homes.take(mac, to, this.o.self.id, false);
    } finally {
      this.leaving.delete(mac);
    }
    this.o.log({ msg: 'cluster: device handed over', mac, to });
    return handedOver;
  }

  private adopt(mac: string): void {
    this.homes.add(mac);
    void this.deliveries?.kick(mac);
  }

  private lose(mac: string, why: string): void {
    this.homes.delete(mac);
    void this.deliveries?.remove(mac);
    // A tunnel here would serve a device another instance now delivers for: let the agent come back.
    this.o.hub.session(mac)?.close(CloseCode.REPLACED, why);
    this.o.log({ level: 'warn', msg: 'cluster: device no longer homed here', mac, why });
  }

  private onMessage(m: ClusterMessage): void {
    if (m.kind === 'revoke') this.o.hub.revoke(m.mac, m.reason);
    else if (m.kind === 'nudge' && this.delivers(m.mac)) void this.deliveries?.kick(m.mac);
  }

  private schedule(): void {
    if (this.closed) return;
    this.stopBeat = this.o.timers.setTimer(this.o.leaseMs / 4, () => void this.beat().finally(() => this.schedule()));
  }

  private async beat(): Promise<void> {
    const before = new Set(this.homes);
    let mine: Set<string>;
    try {
      mine = new Set(await this.o.homes.heartbeat(this.o.self));
    } catch (e) {
      const silent = this.o.timers.now() - this.lastBeat;
      if (!this.fenced && this.lastBeat > 0 && silent > this.o.leaseMs * 0.75) this.fence(silent, e);
      else if (!this.fenced) this.o.log({ level: 'warn', msg: 'cluster: heartbeat failed', error: String(e) });
      return;
    }
    this.lastBeat = this.o.timers.now();
    if (this.fenced) {
      // Back after an outage: keep what is still ours, the rest went to other instances.
      this.fenced = false;
      this.o.log({ msg: 'cluster: store reachable again; delivering for the devices still homed here', homes: mine.size });
      for (const mac of mine) this.adopt(mac);
    } else {
      for (const mac of before) if (this.homes.has(mac) && !mine.has(mac)) this.lose(mac, 'another edge instance took the device over');
    }
    for (const mac of this.tunnels) if (!this.homes.has(mac)) void this.homeTunnel(mac);
    try {
      for (const mac of await this.o.homes.claimOrphans(this.o.self.id, ORPHANS_PER_BEAT)) {
        this.adopt(mac);
        this.o.log({ msg: 'cluster: took over a device whose home stopped, with events waiting', mac });
      }
    } catch (e) {
      this.o.log({ level: 'warn', msg: 'cluster: could not look for devices without a home', error: String(e) });
    }
  }

  /** Too long without the store: another instance may hold our devices now, so stop sending. */
  private fence(silentMs: number, e: unknown): void {
    this.fenced = true;
    this.o.log({ level: 'error', msg: 'cluster: store unreachable for most of a lease; stopped delivering until it is back', silentMs, error: String(e) });
    for (const mac of this.homes) void this.deliveries?.remove(mac);
    this.homes.clear();
  }

  private isPeer(secret: string): boolean {
    if (!this.secret || secret.length !== this.secret.length) return false;
    let diff = 0;
    for (let i = 0; i < secret.length; i++) diff |= secret.charCodeAt(i) ^ this.secret.charCodeAt(i);
    return diff === 0;
  }
}

/** What an old home answers a handover with. */
interface HandedOver {
  history: TunnelHistory | null;
  /** It closed a live tunnel for the new one. */
  replaced: boolean;
}

function causeOf(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
}
