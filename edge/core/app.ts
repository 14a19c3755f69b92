import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { createApiRoutes } from '../../shared/api/app.ts';
import { serveRecordingSign } from '../../shared/api/recording-sign.ts';
import { serveReference, textResponse } from '../../shared/api/reference.ts';
import { serve, type Security } from '../../shared/api/route.ts';
import { assessAsteriskVersion } from '../../shared/asterisk-version.ts';
import { operations } from '../../shared/api/operations.ts';
import { normalizeMac } from '../../shared/auth/mac.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Device } from '../../shared/device.ts';
import { ApiError } from '../../shared/errors.ts';
import { TokenBuckets, type RateLimit } from '../../shared/http/rate-limit.ts';
import { createStoredIdempotencyStore, type IdempotencyStore } from '../../shared/idempotency.ts';
import { ToolbarFeed } from '../../shared/toolbar/feed.ts';
import { createToolbarRoutes } from '../../shared/toolbar/routes.ts';
import { createAdminRoutes } from './admin-routes.ts';
import { deviceList, deviceStatus, edgeHealth, iso, toPublicDevice } from './schemas.ts';
import { actorOf, createAuthenticator, requirePrincipal, type Credentials, type Principal } from '../../shared/api/authenticate.ts';
import { onApiError } from '../../shared/api/error-answer.ts';
import { createEdgeAuth } from './auth.ts';
import type { EdgeDeliveries } from './deliveries.ts';
import type { Hub } from './hub.ts';
import { Metrics } from './metrics.ts';
import { edgeOpenApi } from './openapi.ts';
import { EDGE_VERSION } from './version.ts';
import { STATUS_PAGE } from './status-page.ts';
import type { DeviceRecord, EdgeStore } from './store.ts';
import { recordingKeyOf, toolbarKeyOf } from './device-keys.ts';
import { TunnelDevice } from './tunnel-device.ts';
import { TunnelSession, type EdgeSocket, type TunnelSessionOptions } from './tunnel-session.ts';

export interface EdgeAppOptions {
  store: EdgeStore;
  hub: Hub;
  clock: Clock;
  /** COOCENTER_ADMIN_KEY; undefined disables the admin API. */
  adminKey: string | undefined;
  log(entry: Record<string, unknown>): void;
  deliveries?: EdgeDeliveries;
  /** How long a command may take through the tunnel before 504. */
  commandTimeoutMs?: number;
  /** Agents ping this often; silence for 2.5 of these drops the tunnel. */
  heartbeatMs?: number;
  idempotency?: IdempotencyStore;
  /** Origins allowed to call the device API from a browser (`*` for any). */
  corsOrigins?: readonly string[];
  /** Device routes answer 429 past these: per Authorization value (checked first) and per device. */
  rateLimits?: EdgeRateLimits;
}

export interface EdgeRateLimits {
  /**
   * Per Authorization value, on the requests edge/core/key-limit.ts names. null: counted in front of
   * this app, across all of it (the Workers edge counts keys in the Worker, before its device objects).
   */
  perKey: RateLimit | null;
  perDevice: RateLimit;
}

/** Well above what a CRM needs, well below what a PBX's AMI or a Durable Object (about 1,000/s) takes. */
// A tenant key serves all its devices, so it gets more than one device; a device is one PBX answering AMI.
export const DEFAULT_EDGE_RATE_LIMITS: { perKey: RateLimit; perDevice: RateLimit } = { perKey: { perSecond: 1000, burst: 2000 }, perDevice: { perSecond: 200, burst: 400 } };

const TOO_MANY = { 429: 'too many requests; Retry-After says when to come back' };
/** Who may sign links and issue toolbar tokens for a device, and what else they may be told. */
const OWNER: Security = [{ tenantKey: [] }, { admin: [] }];
const ownerErrors = (what: string) => ({
  401: 'Authorization missing or invalid',
  403: `only the tenant key that owns this device (or the admin key) may ${what}`,
  404: 'no such device',
  ...TOO_MANY,
});
const SERVICE = { tags: ['service'] } as const;

const healthz = { ...SERVICE, method: 'get', path: '/healthz', operationId: 'healthz', summary: 'The edge is up, and how many tunnels are open', responses: { 200: edgeHealth } } as const;
const metricsRoute = { ...SERVICE, method: 'get', path: '/metrics', operationId: 'metrics', summary: 'Prometheus text format', responses: { 200: textResponse('text/plain', 'the metrics') } } as const;
const agentTunnel = {
  ...SERVICE,
  method: 'get',
  path: '/agent/tunnel',
  operationId: 'agentTunnel',
  summary: 'The WebSocket the agent dials (Authorization: Bearer <device token>, X-Device-Mac)',
  headers: [{ name: 'X-Device-Mac', required: true, schema: z.string() }],
  responses: { 101: { description: 'switching to the tunnel protocol' } },
  errors: { 400: 'not a WebSocket upgrade, or X-Device-Mac is not a MAC', 401: 'device token refused for this MAC' },
  security: [{ deviceToken: [] }],
} as const;
const statusPage = {
  ...SERVICE,
  method: 'get',
  path: '/ui',
  operationId: 'statusPage',
  summary: 'The operators\u2019 status page (asks for an admin or tenant key)',
  responses: { 200: textResponse('text/html', 'the page') },
} as const;
const listDevices = {
  method: 'get',
  path: '/devices',
  operationId: 'listDevices',
  summary: 'The devices this key reaches (a tenant its own, the admin key all), with online',
  tags: ['devices'],
  responses: { 200: deviceList },
  errors: { 401: 'Authorization is not a tenant or admin key' },
  security: [{ tenantKey: [] }, { admin: [] }],
} as const;
const deviceStatusRoute = {
  method: 'get',
  path: '/devices/:mac/status',
  operationId: 'deviceStatus',
  summary: 'Online since when, versions, AMI, events waiting on the box and the edge, dead letters, gaps, conflicts, delivery',
  tags: ['devices'],
  responses: { 200: deviceStatus },
  errors: { 401: 'Authorization missing or invalid', 403: 'the key does not give access to this device', 404: 'no such device', ...TOO_MANY },
  security: [{ tenantKey: [] }, { admin: [] }, { webkey: [] }],
} as const;

export interface Edge {
  app: Hono;
  /** The tunnel upgrade's check: the MAC whose token this is, or ApiError 400/401. */
  authorizeTunnel(headers: Headers): Promise<string>;
  /** Binds an accepted WebSocket to a new session; the runtime feeds it frames and the close. */
  openTunnel(mac: string, socket: EdgeSocket, runtime?: Pick<TunnelSessionOptions, 'watchHeartbeat' | 'restored'>): TunnelSession;
  metrics: Metrics;
}


/**
 * The edge: the documented API per device at `/devices/{mac}/coocenter-api`, relayed down the
 * device's tunnel; the admin API; status, health and metrics. Web APIs only: each runtime wires the
 * store, the WebSocket upgrade and the clock.
 */
export function createEdgeApp(opts: EdgeAppOptions): Edge {
  const { store, hub, clock, log } = opts;
  const auth = createEdgeAuth({ store, hub, adminKey: opts.adminKey });
  const commandTimeoutMs = opts.commandTimeoutMs ?? 15_000;
  const heartbeatMs = opts.heartbeatMs ?? 10_000;
  const origins = new Set(opts.corsOrigins ?? []);
  const limits = opts.rateLimits ?? DEFAULT_EDGE_RATE_LIMITS;
  const keyBuckets = limits.perKey && new TokenBuckets(limits.perKey, () => clock.now());
  const deviceBuckets = new TokenBuckets(limits.perDevice, () => clock.now());
  const device = async (mac: string) => {
    const d = await store.getDevice(mac);
    if (!d) throw new ApiError('NOT_FOUND', `no device ${mac} on this edge`);
    return d;
  };
  /** Every request to a device's routes is authenticated, and counted, here. */
  const authenticate = createAuthenticator<DeviceRecord>({
    keys: { device, linkKey: recordingKeyOf, toolbarKey: toolbarKeyOf, principal: auth.forDevice },
    ...(keyBuckets ? { limitKey: (name: string) => keyBuckets.take(name, 'this Authorization') } : {}),
    limitDevice: (mac) => deviceBuckets.take(mac, `device ${mac}`),
    now: () => clock.now(),
  });
  const forDevice = (c: Context, credentials: Credentials = { authorization: c.req.header('authorization') }) => authenticate(macOf(c), credentials);
  /** The tenant key that owns the device, or the admin key. */
  const forOwner = async (c: Context, what: string) => {
    const caller = await forDevice(c);
    requirePrincipal(caller.principal, ['tenant', 'admin'], `${what} are issued to the tenant key that owns this device`);
    return caller;
  };
  const callers = new WeakMap<Request, { principal: Principal; device: DeviceRecord; requestId: string }>();
  /** Live toolbar streams per device, fed by its tunnel; in memory, like the tunnel itself. */
  const toolbarFeeds = new Map<string, ToolbarFeed>();
  const feedOf = (mac: string): ToolbarFeed => {
    let feed = toolbarFeeds.get(mac);
    if (!feed) {
      feed = new ToolbarFeed({ clock, popUrl: () => hub.info(mac).facts?.popUrl ?? null });
      toolbarFeeds.set(mac, feed);
    }
    return feed;
  };
  const metrics = new Metrics({
    coocenter_edge_requests_total: 'HTTP requests answered, by status class',
    coocenter_edge_commands_total: 'Commands relayed to devices, by result',
    coocenter_edge_tunnel_connects_total: 'Tunnels welcomed',
    coocenter_edge_tunnel_closes_total: 'Tunnels closed, by close code name',
    coocenter_edge_events_committed_total: 'Events committed to the edge queue',
  });

  const macOf = (c: Context): string => {
    const mac = normalizeMac(c.req.param('mac') ?? '');
    if (!mac) throw new ApiError('NOT_FOUND', `${c.req.param('mac')} is not a MAC address (68:69:2e:03:8b:3e, 68-69-2E-03-8B-3E or 68692e038b3e)`);
    return mac;
  };
  const requestIds = new WeakMap<Request, string>();
  const requestIdOf = (c: Context): string => requestIds.get(c.req.raw) ?? 'none';

  const app = new Hono();

  app.use('*', async function requestLog(c, next) {
    const requestId = crypto.randomUUID();
    requestIds.set(c.req.raw, requestId);
    const started = clock.now();
    await next();
    c.header('X-Request-Id', requestId);
    const status = c.res.status;
    metrics.inc('coocenter_edge_requests_total', { code: `${Math.floor(status / 100)}xx` });
    const mac = c.req.param('mac');
    log({ msg: 'request', requestId, method: c.req.method, path: c.req.path, status, ms: clock.now() - started, ...(mac ? { mac: normalizeMac(mac) ?? mac } : {}) });
  });

  app.onError(onApiError({ log, requestIdOf }));

  serve(app, healthz, () => ({ status: 200, body: { status: 'ok', tunnels: hub.onlineCount } }));

  serve(app, metricsRoute, (c) => {
    const { replacements, conflicts } = hub.totals();
    const text = metrics.render({
      coocenter_edge_tunnels_online: { help: 'Devices with a live tunnel', value: hub.onlineCount },
      coocenter_edge_tunnel_replacements: { help: 'Tunnels replaced by a newer one for the same MAC', value: replacements },
      coocenter_edge_tunnel_conflicts: { help: 'Replacements that look like two boxes sharing one token', value: conflicts },
    });
    return c.text(text, 200, { 'Content-Type': 'text/plain; version=0.0.4' });
  });

  serve(app, agentTunnel, () => {
    throw new ApiError('BAD_PARAMETER', 'this is the agent tunnel: connect with a WebSocket upgrade', 'Upgrade');
  });

  // --- reference and status page: open, they hold no secret (the page asks for a key) ---
  serveReference(app, () => edgeOpenApi(app, EDGE_VERSION));
  serve(app, statusPage, (c) => c.html(STATUS_PAGE, 200, { 'Cache-Control': 'no-store', 'X-Frame-Options': 'DENY' }));

  serve(app, listDevices, async (c) => {
    const scope = await auth.forListing(c.req.header('authorization'));
    const list = await store.listDevices(scope.kind === 'tenant' ? scope.tenant : undefined);
    return { status: 200, body: list.map((d) => ({ ...toPublicDevice(d), online: hub.info(d.mac).online })) };
  });

  app.route(
    '/admin',
    createAdminRoutes({
      auth,
      store,
      hub,
      clock,
      log,
      deliveries: opts.deliveries,
      macOf,
      requestIdOf,
      device,
      onDeviceDeleted(mac) {
        toolbarFeeds.get(mac)?.close();
        toolbarFeeds.delete(mac);
      },
    }),
  );

  // --- per device ---
  serve(app, deviceStatusRoute, async (c) => {
    const mac = macOf(c);
    const { principal, device: d } = await forDevice(c);
    if (principal.kind === 'open' || principal.kind === 'toolbar') throw new ApiError('UNAUTHORIZED', 'Authorization: status needs a tenant key or the device WEBKEY digest');
    const info = hub.info(mac);
    const f = info.facts;
    const [waiting, deadLetters, delivery] = await Promise.all([
      store.waitingCount(mac),
      store.deadLetterCount(mac),
      opts.deliveries?.status(mac) ?? Promise.resolve(null),
    ]);
    return {
      status: 200,
      body: {
      mac,
      tenant: d.tenant,
      online: info.online,
      since: iso(info.since),
      lastDisconnect: info.lastDisconnect && { ...info.lastDisconnect, at: iso(info.lastDisconnect.at) },
      agentVersion: f?.agentVersion ?? null,
      agentRuntime: f?.runtime ?? null,
      asteriskVersion: f?.asteriskVersion ?? null,
      // What works on that Asterisk, assessed here from the version so every edge says it alike.
      asteriskSupport: f?.asteriskVersion ? assessAsteriskVersion(f.asteriskVersion) : null,
      timeZone: f?.timeZone ?? null,
      driver: f?.driver ?? null,
      ami: f?.ami ?? null,
      eventsWaitingOnBox: f ? f.outbox.nextSeq - f.outbox.firstUnacked : null,
      eventsDroppedOnBox: f?.outbox.dropped ?? null,
      eventsWaitingOnEdge: waiting,
      deadLetters,
      gaps: f?.gaps ?? [],
      replacements: info.replacements,
      conflicts: info.conflicts,
      lastConflictAt: iso(info.lastConflictAt),
      delivery: delivery && {
        url: delivery.url,
        state: delivery.state,
        stopped: delivery.stopped,
        lastDeliveredAt: iso(delivery.lastDeliveredAt),
        lastError: delivery.lastError && { ...delivery.lastError, at: iso(delivery.lastError.at) },
        attempts: delivery.headAttempts,
        nextAttemptAt: iso(delivery.nextAttemptAt),
      },
      },
    };
  });

  // Signed recording links for <audio> in a CRM page, which cannot send Authorization.
  serveRecordingSign(app, {
    path: '/devices/:mac/recordings/sign',
    async authorize(c) {
      const { device: d } = await forOwner(c, 'recording links');
      return { key: await recordingKeyOf(d), mac: d.mac, apiBase: `/devices/${d.mac}/coocenter-api` };
    },
    now: () => clock.now(),
    docs: { security: OWNER, errors: ownerErrors('sign recording links') },
  });

  app.route(
    '/devices/:mac',
    createToolbarRoutes({
      mac: macOf,
      key: async (c) => toolbarKeyOf(await device(macOf(c))),
      feed: async (c) => feedOf((await device(macOf(c))).mac),
      now: () => clock.now(),
      tokenPath: '/toolbar/token',
      async authorizeIssue(c) {
        await forOwner(c, 'toolbar tokens');
      },
      log,
      requestIdOf,
      docs: { tokenSecurity: OWNER, tokenErrors: ownerErrors('issue toolbar tokens'), streamErrors: { 404: 'no such device' } },
    }),
  );

  const api = createApiRoutes({
    async authenticate(c, credentials) {
      const caller = await forDevice(c, credentials);
      callers.set(c.req.raw, { ...caller, requestId: requestIdOf(c) });
      return caller.principal;
    },
    async resolveDevice(c) {
      const mac = macOf(c);
      const session = hub.session(mac);
      if (!session) {
        const last = hub.info(mac).lastDisconnect;
        throw new ApiError('DEVICE_OFFLINE', `device ${mac} is offline: its agent is not connected to this edge${last ? ` (since ${iso(last.at)})` : ''}`);
      }
      const caller = callers.get(c.req.raw);
      if (!caller) throw new Error('resolveDevice before authenticate');
      return audited(new TunnelDevice(session, { clock, timeoutMs: commandTimeoutMs }), mac, caller);
    },
    deviceId: (c) => macOf(c),
    idempotency: opts.idempotency ?? createStoredIdempotencyStore({ now: clock.now, table: store }),
    allowOrigin: (origin) => origins.has('*') || origins.has(origin),
    log,
    requestIdOf,
    docs: {
      security: [{ tenantKey: [] }, { webkey: [] }],
      errors: {
        401: 'Authorization missing or not a valid key for this device',
        403: 'the key does not give access to this device',
        404: 'the MAC is not a MAC address or no such device',
        ...TOO_MANY,
        502: 'Asterisk refused the action or AMI is not connected',
        503: 'the device is offline: its agent is not connected',
        504: 'the device did not answer in time',
      },
    },
  });
  app.route('/devices/:mac/coocenter-api', api);

  app.notFound((c) => c.json({ status: 'error', message: `${c.req.method} ${c.req.path} is not served here; the API is under /devices/{mac}/coocenter-api` }, 404));

  /** Wraps a device so every command that acts on calls lands in the audit log with its result. */
  function audited(inner: Device, mac: string, caller: { principal: Principal; device: DeviceRecord; requestId: string }): Device {
    return {
      async run(op, params, options) {
        let status = 200;
        try {
          return await inner.run(op, params, options);
        } catch (e) {
          status = e instanceof ApiError ? e.status : 500;
          throw e;
        } finally {
          metrics.inc('coocenter_edge_commands_total', { result: status === 200 ? 'ok' : String(status) });
          if (operations[op].actsOnCalls) {
            const p = caller.principal;
            await store
              .appendAudit({
                at: clock.now(),
                actor: actorOf(p),
                keyId: p.kind === 'tenant' ? p.keyId : null,
                mac,
                tenant: caller.device.tenant,
                action: op,
                params: { ...(params as Record<string, string>) },
                status,
                requestId: caller.requestId,
              })
              .catch((err: unknown) => log({ level: 'error', msg: 'audit write failed', mac, action: op, error: String(err) }));
          }
        }
      },
      openRecording: (relPath, range, options) => inner.openRecording(relPath, range, options),
    };
  }

  return {
    app,
    metrics,
    async authorizeTunnel(headers) {
      const raw = headers.get('x-device-mac') ?? undefined;
      const mac = raw === undefined ? undefined : normalizeMac(raw);
      if (raw !== undefined && !mac) throw new ApiError('BAD_PARAMETER', `X-Device-Mac: ${raw} is not a MAC address`, 'X-Device-Mac');
      return (await auth.forTunnel(headers.get('authorization') ?? undefined, mac)).mac;
    },
    openTunnel(mac, socket, runtime = {}) {
      return new TunnelSession({
        ...runtime,
        mac,
        socket,
        store,
        clock,
        heartbeatMs,
        log,
        onReady: (s) => {
          hub.attach(s);
          metrics.inc('coocenter_edge_tunnel_connects_total');
          log({ msg: 'tunnel online', mac, agentVersion: s.facts?.agentVersion, asteriskVersion: s.facts?.asteriskVersion });
          void opts.deliveries?.kick(mac);
        },
        onFacts: (s) => hub.updateFacts(s),
        onEvents: (m, events) => toolbarFeeds.get(m)?.publishDocumented(events),
        onLive: (m, events) => feedOf(m).publish(events),
        onCommitted: (m, count) => {
          metrics.inc('coocenter_edge_events_committed_total', {}, count);
          void opts.deliveries?.kick(m);
        },
        onClosed: (s, code, reason) => {
          metrics.inc('coocenter_edge_tunnel_closes_total', { code: String(code) });
          hub.detach(s, code, reason);
        },
      });
    },
  };
}
