import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { createApiRoutes } from '../shared/api/app.ts';
import { createAuthenticator, requirePrincipal } from '../shared/api/authenticate.ts';
import { onApiError } from '../shared/api/error-answer.ts';
import { serveRecordingSign } from '../shared/api/recording-sign.ts';
import { serveReference } from '../shared/api/reference.ts';
import { serve, type Security } from '../shared/api/route.ts';
import type { Device } from '../shared/device.ts';
import { TokenBuckets, type RateLimit } from '../shared/http/rate-limit.ts';
import { createMemoryIdempotencyStore } from '../shared/idempotency.ts';
import type { ToolbarFeed } from '../shared/toolbar/feed.ts';
import { createToolbarRoutes } from '../shared/toolbar/routes.ts';
import { createWebkeyAuth } from './auth/webkey.ts';
import type { AgentConfig } from './config.ts';
import { agentOpenApi } from './openapi.ts';
import { AGENT_VERSION } from './version.ts';

export interface LanAppOptions {
  config: AgentConfig;
  device: Device;
  /** Epoch milliseconds. */
  now: () => number;
  log: (entry: Record<string, unknown>) => void;
  /** The box's IANA time zone for WEBKEY dates; default: the process's. */
  timeZone?: string;
  /** The API answers 429 past these: per Authorization value (checked first) and for the box as a whole. */
  rateLimits?: LanRateLimits;
  /** The agent toolbar (`/toolbar`), its stream and its scoped tokens. */
  toolbar?: LanToolbar;
  /** Signs recording links (`POST /coocenter-api/recordings/sign`) for this box's MAC; absent: none. */
  recordingLinks?: { key: Uint8Array; mac: string };
}

export interface LanToolbar {
  mac: string;
  key: Uint8Array;
  feed: ToolbarFeed;
}

export interface LanRateLimits {
  perKey: RateLimit;
  perBox: RateLimit;
}

/** A CRM needs a few requests a second; AMI on a small PBX should not see hundreds. */
export const DEFAULT_LAN_RATE_LIMITS: LanRateLimits = { perKey: { perSecond: 100, burst: 200 }, perBox: { perSecond: 200, burst: 400 } };

/** WEBKEY when api.conf sets one, else nothing. */
const LAN_SECURITY: Security = [{ webkey: [] }, {}];
const LAN_401 = { 401: 'Authorization missing or not a valid WEBKEY digest', 429: 'too many requests; Retry-After says when to come back' };

/**
 * The agent's own HTTP server on BINDPORT: the drop-in for the original box. The documented API at
 * `/coocenter-api`, guarded by WEBKEY when one is set, plus `GET /healthz` and its reference
 * (`/openapi.json`, `/docs`; open, since they hold no secret), and the agent toolbar at `/toolbar`.
 */
export function createLanApp(opts: LanAppOptions): Hono {
  const { config, device, now, log } = opts;
  const links = opts.recordingLinks;
  const checkWebkey = createWebkeyAuth({ webkey: config.general.webkey, now, timeZone: opts.timeZone });
  const origins = new Set(config.general.corsOrigins);
  const limits = opts.rateLimits ?? DEFAULT_LAN_RATE_LIMITS;
  const keyBuckets = new TokenBuckets(limits.perKey, now);
  const boxBuckets = new TokenBuckets(limits.perBox, now);
  const toolbar = opts.toolbar;
  const webkey = config.general.webkey ? 'webkey' : 'open';
  /** The box's own MAC: toolbar tokens and recording links name it. */
  const mac = toolbar?.mac ?? links?.mac ?? '';
  const authenticate = createAuthenticator<null>({
    keys: {
      device: async () => null,
      ...(links ? { linkKey: () => links.key } : {}),
      ...(toolbar ? { toolbarKey: () => toolbar.key } : {}),
      async principal(authorization) {
        checkWebkey(authorization);
        return { principal: { kind: webkey }, device: null };
      },
    },
    limitKey: (name) => keyBuckets.take(name, 'this Authorization'),
    limitDevice: () => boxBuckets.take('box', 'this PBX'),
    now,
  });
  /** The WEBKEY (or nothing, without one) may sign links and issue toolbar tokens; a toolbar token may not. */
  const authenticateOwner = async (c: Context, what: string) =>
    requirePrincipal((await authenticate(mac, { authorization: c.req.header('authorization') })).principal, [webkey], what);
  const api = createApiRoutes({
    authenticate: async (_c, credentials) => (await authenticate(mac, credentials)).principal,
    resolveDevice: async () => device,
    idempotency: createMemoryIdempotencyStore({ now }),
    allowOrigin: (origin) => origins.has('*') || origins.has(origin),
    log,
    docs: { security: LAN_SECURITY, errors: { ...LAN_401, 502: 'Asterisk refused the action or AMI is not connected', 504: 'Asterisk did not answer in time' } },
  });
  const app = new Hono();
  const health = { method: 'get', path: '/healthz', operationId: 'healthz', summary: 'The agent is up', tags: ['service'], responses: { 200: z.object({ status: z.literal('ok') }) } } as const;
  serve(app, health, () => ({ status: 200, body: { status: 'ok' } }));
  serveReference(app, () => agentOpenApi(app, AGENT_VERSION));
  if (toolbar) {
    app.route(
      '/',
      createToolbarRoutes({
        mac: () => toolbar.mac,
        key: () => toolbar.key,
        feed: () => toolbar.feed,
        now,
        tokenPath: '/coocenter-api/toolbar/token',
        authorizeIssue: (c) => authenticateOwner(c, 'toolbar tokens are issued to the WEBKEY'),
        log,
        docs: { tokenSecurity: LAN_SECURITY, tokenErrors: LAN_401, streamErrors: {} },
      }),
    );
  }
  if (links) {
    serveRecordingSign(app, {
      path: '/coocenter-api/recordings/sign',
      async authorize(c) {
        await authenticateOwner(c, 'recording links are issued to the WEBKEY');
        return { key: links.key, mac: links.mac, apiBase: '/coocenter-api' };
      },
      now,
      docs: { security: LAN_SECURITY, errors: LAN_401 },
    });
  }
  app.route('/coocenter-api', api);
  app.onError(onApiError({ log }));
  app.notFound((c) => c.json({ status: 'error', message: `${c.req.method} ${c.req.path} is not served here; the API is under /coocenter-api` }, 404));
  return app;
}
