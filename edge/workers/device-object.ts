import { Hono } from 'hono';
import { systemClock } from '../../shared/clock.ts';
import { errorAnswer, errorResponse } from '../../shared/api/error-answer.ts';
import { CloseCode } from '../../shared/tunnel/close-codes.ts';
import { HEARTBEAT_PING, HEARTBEAT_PONG, helloFrame } from '../../shared/tunnel/frames.ts';
import { createEdgeApp, type Edge } from '../core/app.ts';
import { createEdgeAuth } from '../core/auth.ts';
import { EdgeDeliveries } from '../core/deliveries.ts';
import { Hub, type TunnelInfo } from '../core/hub.ts';
import { KEEP_DELIVERED_MS } from '../core/retention.ts';
import { createSqlStore, type SqlDriver } from '../core/sql-store.ts';
import type { EdgeStore, TenantKeyRecord } from '../core/store.ts';
import type { DeviceFacts, RestoredSession, TunnelSession } from '../core/tunnel-session.ts';
import { AlarmClock } from './alarm-clock.ts';
import { deferredAcks } from './deferred-acks.ts';
import { deviceStore, syncTenantKeys } from './device-store.ts';
import { doSql } from './do-sql.ts';
import { listVar, log, msVar } from './log.ts';
import { callObject, REGISTRY_NAME } from './object-call.ts';
import { rateLimitVars } from './rate-limit-vars.ts';
import { Retention } from './retention.ts';
import { keepContentLength, upgradeResponse, workerd, type DurableObjectState, type Env, type HibernatableWebSocket } from './platform.ts';

/** Kept on each accepted socket (serializeAttachment) so a woken object knows whose tunnel it is. */
interface SocketAttachment {
  mac: string;
  since: number;
}

interface Tunnel {
  session: TunnelSession;
  /** Last frame that woke the object; pings answered by the runtime are read separately. */
  lastHeard: number;
}

/**
 * One device, one object (idFromName(mac)): its tunnel, event queue, delivery, audit and the key
 * hashes that authorize its callers. The agent's WebSocket is accepted with the Hibernation API:
 * heartbeats are answered by the runtime (setWebSocketAutoResponse) without waking the object, and
 * when it wakes the session is rebuilt from the socket's attachment and the facts in storage.
 */
export class DeviceObject {
  private readonly db: SqlDriver;
  private readonly local: EdgeStore;
  private readonly hub: Hub;
  private readonly alarms: AlarmClock;
  private readonly deliveries: EdgeDeliveries;
  private readonly retention: Retention;
  private readonly edge: Edge;
  private readonly auth: ReturnType<typeof createEdgeAuth>;
  private readonly heartbeatMs: number;
  private readonly tunnels = new Map<HibernatableWebSocket, Tunnel>();
  private readonly internal = new Hono().basePath('/internal');
  private readonly reported = new Map<string, string>();
  private rebuilding = false;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
  ) {
    this.db = doSql(ctx.storage);
    this.local = createSqlStore(this.db);
    this.db.script('CREATE TABLE IF NOT EXISTS tunnel_facts (mac TEXT PRIMARY KEY, facts TEXT NOT NULL)');
    // Every ack written may be the first delivered event kept: retention then arms its prune.
    const store = deferredAcks(deviceStore(this.local, env), () => retention.delivered());
    this.heartbeatMs = msVar(env.HEARTBEAT_MS) ?? 10_000;
    ctx.setWebSocketAutoResponse(new workerd.WebSocketRequestResponsePair(HEARTBEAT_PING, HEARTBEAT_PONG));
    this.hub = new Hub({ clock: systemClock, log, onChange: (mac, session) => this.tunnelChanged(mac, session) });
    this.alarms = new AlarmClock(ctx.storage, log);
    const retention = new Retention({ db: this.db, store: this.local, clock: this.alarms, keepMs: msVar(env.KEEP_DELIVERED_MS) ?? KEEP_DELIVERED_MS, log });
    this.retention = retention;
    const retryScale = Number(env.RETRY_SCALE);
    this.deliveries = new EdgeDeliveries({ store, hub: this.hub, clock: this.alarms, log, ...(retryScale > 0 ? { retryScale } : {}) });
    this.auth = createEdgeAuth({ store, hub: this.hub, adminKey: env.COOCENTER_ADMIN_KEY });
    const commandTimeoutMs = msVar(env.COMMAND_TIMEOUT_MS);
    this.edge = createEdgeApp({
      store,
      hub: this.hub,
      clock: systemClock,
      adminKey: env.COOCENTER_ADMIN_KEY,
      log,
      deliveries: this.deliveries,
      heartbeatMs: this.heartbeatMs,
      corsOrigins: listVar(env.CORS_ORIGINS),
      // With the binding, the Worker in front counts keys across all objects (edge/workers/key-limit.ts);
      // without it (a wrangler.toml that dropped [[ratelimits]]), each object counts its own.
      rateLimits: { ...rateLimitVars(env), ...(env.KEY_RATE_LIMIT ? { perKey: null } : {}) },
      ...(commandTimeoutMs ? { commandTimeoutMs } : {}),
    });

    this.internal.put('/tenant-keys/:tenant', async (c) => {
      await syncTenantKeys(this.local, c.req.param('tenant'), await c.req.json<TenantKeyRecord[]>());
      return c.json({ status: 'success' });
    });
    this.internal.get('/audit', async (c) => {
      const tenant = c.req.query('tenant');
      return c.json(await this.local.listAudit({ limit: Number(c.req.query('limit')) || 100, ...(tenant ? { tenant } : {}) }));
    });

    this.rebuilding = true;
    try {
      for (const ws of ctx.getWebSockets()) this.rebuild(ws);
    } finally {
      this.rebuilding = false;
    }
    // Whatever waited while the object slept or was evicted goes out now; a prune due meanwhile runs.
    void this.kickDeliveries();
    void this.retention.wake();
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith('/internal/')) return this.internal.fetch(request);
    this.checkLiveness();
    if (url.pathname === '/agent/tunnel' && request.headers.get('upgrade')?.toLowerCase() === 'websocket') return this.upgrade(request);
    if (request.method === 'POST' && /^\/admin\/devices\/[^/]+\/restart$/.test(url.pathname)) return this.restart(request);
    return keepContentLength(await this.edge.app.fetch(request));
  }

  webSocketMessage(ws: HibernatableWebSocket, message: string | ArrayBuffer): void {
    const tunnel = this.tunnels.get(ws);
    if (!tunnel) return ws.close(CloseCode.GOING_AWAY, 'edge lost this tunnel: reconnect');
    tunnel.lastHeard = Date.now();
    if (typeof message === 'string') tunnel.session.receiveText(message);
    else tunnel.session.receiveBinary(new Uint8Array(message));
  }

  webSocketClose(ws: HibernatableWebSocket, code: number, reason: string): void {
    this.tunnels.get(ws)?.session.closed(code, reason);
    this.tunnels.delete(ws);
    try {
      // 1005/1006 describe a close without a frame; they cannot be sent back.
      ws.close(code === 1005 || code === 1006 ? CloseCode.NORMAL : code, reason);
    } catch {
      // already closed
    }
  }

  webSocketError(ws: HibernatableWebSocket, error: unknown): void {
    this.tunnels.get(ws)?.session.closed(1006, error instanceof Error ? error.message : String(error));
    this.tunnels.delete(ws);
  }

  async alarm(): Promise<void> {
    this.alarms.fire();
    await this.kickDeliveries();
  }

  private async upgrade(request: Request): Promise<Response> {
    let mac: string;
    try {
      mac = await this.edge.authorizeTunnel(request.headers);
    } catch (e) {
      const refused = errorAnswer(e, { log, requestId: crypto.randomUUID(), where: { path: '/agent/tunnel' } });
      log({ level: 'warn', msg: 'tunnel refused', mac: request.headers.get('x-device-mac'), status: refused.status, reason: refused.body.message });
      return Response.json(refused.body, { status: refused.status, headers: refused.headers });
    }
    const pair = new workerd.WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    this.bind(pair[1], mac);
    return upgradeResponse(pair[0]);
  }

  private bind(ws: HibernatableWebSocket, mac: string, restored?: RestoredSession): Tunnel {
    const session = this.edge.openTunnel(
      mac,
      { send: (data) => ws.send(data), close: (code, reason) => ws.close(code, reason) },
      { watchHeartbeat: false, ...(restored ? { restored } : {}) },
    );
    const tunnel = { session, lastHeard: restored?.since ?? Date.now() };
    this.tunnels.set(ws, tunnel);
    return tunnel;
  }

  private rebuild(ws: HibernatableWebSocket): void {
    const attachment = ws.deserializeAttachment() as SocketAttachment | null;
    const row = attachment && this.db.all<{ facts: string }>('SELECT facts FROM tunnel_facts WHERE mac = ?', attachment.mac)[0];
    const facts = row ? storedFacts(row.facts) : undefined;
    if (!attachment || !facts) {
      // Never welcomed: the agent sends its hello again on a new connection.
      return ws.close(CloseCode.GOING_AWAY, 'edge restarted before the welcome');
    }
    const { session } = this.bind(ws, attachment.mac, { facts, since: attachment.since });
    this.hub.attach(session);
  }

  /**
   * The agent pings every heartbeat and the runtime answers without waking us; its timestamp says
   * whether the agent is still there. Checked when someone asks, instead of a timer that would keep
   * the object awake.
   */
  private checkLiveness(): void {
    const now = Date.now();
    for (const [ws, t] of this.tunnels) {
      if (t.session.state !== 'open') continue;
      const pinged = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
      const silent = now - Math.max(pinged, t.lastHeard);
      if (silent > this.heartbeatMs * 2.5) t.session.close(CloseCode.HEARTBEAT_TIMEOUT, `no word from the agent for ${silent} ms`);
    }
  }

  private tunnelChanged(mac: string, session: TunnelSession | null): void {
    if (session?.facts) {
      this.db.run('INSERT OR REPLACE INTO tunnel_facts (mac, facts) VALUES (?, ?)', mac, JSON.stringify(session.facts));
      for (const [ws, t] of this.tunnels) if (t.session === session) ws.serializeAttachment({ mac, since: session.since ?? Date.now() } satisfies SocketAttachment);
    }
    if (!this.rebuilding) this.report(mac, this.hub.info(mac));
  }

  /** Tells the registry when the tunnel's online state or counters change (not on every status frame). */
  private report(mac: string, info: TunnelInfo): void {
    const key = JSON.stringify([info.online, info.since, info.replacements, info.conflicts]);
    if (this.reported.get(mac) === key) return;
    this.reported.set(mac, key);
    const { facts: _facts, ...summary } = info;
    callObject(this.env.REGISTRY, REGISTRY_NAME, 'PUT', `/internal/tunnels/${mac}`, summary).catch((e: unknown) =>
      log({ level: 'warn', msg: 'tunnel report to registry failed', mac, error: String(e) }),
    );
  }

  /** Operator's reset of a wedged object: the agent reconnects, storage stays. */
  private async restart(request: Request): Promise<Response> {
    try {
      await this.auth.requireAdmin(request.headers.get('authorization') ?? undefined);
    } catch (e) {
      return errorResponse(e, { log, requestId: crypto.randomUUID(), where: { path: new URL(request.url).pathname } });
    }
    log({ level: 'warn', msg: 'device object restarted by the operator' });
    setTimeout(() => this.ctx.abort('restarted by the operator'), 50);
    return Response.json({ status: 'success', message: 'the device object restarts; its agent reconnects' }, { status: 202 });
  }

  private async kickDeliveries(): Promise<void> {
    for (const d of await this.local.listDevices()) await this.deliveries.kick(d.mac);
  }
}

/** The hello the agent sent, as tunnelChanged stored it; undefined when it is not (a restore then asks for a new hello). */
const deviceFacts = helloFrame.omit({ t: true, v: true });
function storedFacts(text: string): DeviceFacts | undefined {
  try {
    const r = deviceFacts.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
