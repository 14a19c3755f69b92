import { Hono, type Context } from 'hono';
import { createAuthenticator, requirePrincipal, type Credentials } from '../../shared/api/authenticate.ts';
import { onApiError } from '../../shared/api/error-answer.ts';
import { serveReference, textResponse } from '../../shared/api/reference.ts';
import { serve } from '../../shared/api/route.ts';
import { normalizeMac } from '../../shared/auth/mac.ts';
import type { Clock } from '../../shared/clock.ts';
import { ApiError } from '../../shared/errors.ts';
import { TokenBuckets, type RateLimit } from '../../shared/http/rate-limit.ts';
import { createStoredIdempotencyStore, type IdempotencyStore } from '../../shared/idempotency.ts';
import { createEdgeAuth } from './auth.ts';
import { soloCluster, type Cluster } from './cluster.ts';
import type { EdgeDeliveries } from './deliveries.ts';
import { recordingKeyOf, toolbarKeyOf } from './device-keys.ts';
import type { Hub } from './hub.ts';
import type { Metrics } from './metrics.ts';
import { edgeOpenApi } from './openapi.ts';
import { createAdminRoutes } from './routes/admin.ts';
import { serveForwarding } from './routes/forward.ts';
import type { EdgeContext } from './routes/context.ts';
import { serveDeviceApi } from './routes/device-api.ts';
import { serveDeviceList, serveDeviceStatus } from './routes/devices.ts';
import { createMetrics, serveObservability } from './routes/observability.ts';
import { serveRecordingLinks } from './routes/recordings.ts';
import { serveToolbar } from './routes/toolbar.ts';
import { wireTunnels, type TunnelWiring } from './routes/tunnel.ts';
import { STATUS_PAGE } from './status-page.ts';
import { ToolbarFeeds } from './toolbar-feeds.ts';
import type { DeviceRecord, EdgeStore } from './store.ts';
import { EDGE_VERSION } from './version.ts';

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
  /** How instances sharing the store divide devices; default: this edge is home of all. */
  cluster?: Cluster;
  /**
   * Counts a request under its Authorization value where all instances see it (several Node edges:
   * their PostgreSQL); rejects with RateLimitedError. Default: rateLimits.perKey in this process.
   */
  keyLimit?: (name: string) => Promise<void>;
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

const statusPage = {
  method: 'get',
  path: '/ui',
  operationId: 'statusPage',
  summary: 'The operators\u2019 status page (asks for an admin or tenant key)',
  tags: ['service'],
  responses: { 200: textResponse('text/html', 'the page') },
} as const;

export interface Edge extends TunnelWiring {
  app: Hono;
  metrics: Metrics;
}

/**
 * The edge: the documented API per device at `/devices/{mac}/coocenter-api`, relayed down the
 * device's tunnel; the admin API; status, health and metrics. Web APIs only: each runtime wires the
 * store, the WebSocket upgrade and the clock. Each part is a module of edge/core/routes/; this puts
 * them together and holds what they share (edge/core/routes/context.ts).
 */
export function createEdgeApp(opts: EdgeAppOptions): Edge {
  const { store, hub, clock, log } = opts;
  const auth = createEdgeAuth({ store, hub, adminKey: opts.adminKey });
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
    ...(opts.keyLimit ? { limitKey: opts.keyLimit } : keyBuckets ? { limitKey: (name: string) => keyBuckets.take(name, 'this Authorization') } : {}),
    limitDevice: (mac) => deviceBuckets.take(mac, `device ${mac}`),
    now: () => clock.now(),
  });
  const macOf = (c: Context): string => {
    const mac = normalizeMac(c.req.param('mac') ?? '');
    if (!mac) throw new ApiError('NOT_FOUND', `${c.req.param('mac')} is not a MAC address (68:69:2e:03:8b:3e, 68-69-2E-03-8B-3E or 68692e038b3e)`);
    return mac;
  };
  const forDevice = (c: Context, credentials: Credentials = { authorization: c.req.header('authorization') }) => authenticate(macOf(c), credentials);

  const app = new Hono();
  const metrics = createMetrics();
  const { requestIdOf } = serveObservability(app, { metrics, hub, clock, log });
  app.onError(onApiError({ log, requestIdOf }));
  const cluster = opts.cluster ?? soloCluster(hub);
  serveForwarding(app, { cluster, macOf });
  const e: EdgeContext = {
    store,
    hub,
    clock,
    log,
    deliveries: opts.deliveries,
    cluster,
    auth,
    metrics,
    feeds: new ToolbarFeeds({ clock, hub }),
    macOf,
    requestIdOf,
    device,
    forDevice,
    async forOwner(c, what) {
      const caller = await forDevice(c);
      requirePrincipal(caller.principal, ['tenant', 'admin'], `${what} are issued to the tenant key that owns this device`);
      return caller;
    },
  };

  const tunnels = wireTunnels(app, e, { heartbeatMs: opts.heartbeatMs ?? 10_000 });
  // Reference and status page: open, they hold no secret (the page asks for a key).
  serveReference(app, () => edgeOpenApi(app, EDGE_VERSION));
  serve(app, statusPage, (c) => c.html(STATUS_PAGE, 200, { 'Cache-Control': 'no-store', 'X-Frame-Options': 'DENY' }));
  serveDeviceList(app, e);
  app.route('/admin', createAdminRoutes(e));
  serveDeviceStatus(app, e);
  serveRecordingLinks(app, e);
  serveToolbar(app, e);
  serveDeviceApi(app, e, {
    idempotency: opts.idempotency ?? createStoredIdempotencyStore({ now: clock.now, table: store }),
    commandTimeoutMs: opts.commandTimeoutMs ?? 15_000,
    allowOrigin: (origin) => origins.has('*') || origins.has(origin),
  });
  app.notFound((c) => c.json({ status: 'error', message: `${c.req.method} ${c.req.path} is not served here; the API is under /devices/{mac}/coocenter-api` }, 404));

  return { app, metrics, ...tunnels };
}
