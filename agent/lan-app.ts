import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { createApiRoutes } from '../shared/api/app.ts';
import { serveRecordingSign } from '../shared/api/recording-sign.ts';
import { serveReference } from '../shared/api/reference.ts';
import { serve, type Security } from '../shared/api/route.ts';
import { verifyRecordingSignature } from '../shared/auth/recording-url.ts';
import type { Device } from '../shared/device.ts';
import { ApiError } from '../shared/errors.ts';
import { TokenBuckets, type RateLimit } from '../shared/http/rate-limit.ts';
import { createMemoryIdempotencyStore } from '../shared/idempotency.ts';
import type { ToolbarFeed } from '../shared/toolbar/feed.ts';
import { createToolbarRoutes } from '../shared/toolbar/routes.ts';
import { scopedDevice } from '../shared/toolbar/scope.ts';
import { toolbarTokenOf, verifyToolbarToken, type ToolbarClaims } from '../shared/toolbar/token.ts';
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
  /** Requests made with a toolbar token, which act for its extension only. */
  const scopes = new WeakMap<Request, ToolbarClaims>();
  const api = createApiRoutes({
    resolveDevice: async (c) => {
      const claims = scopes.get(c.req.raw);
      return claims ? scopedDevice(device, claims) : device;
    },
    authorize: async (c, action, target) => {
      const authorization = c.req.header('authorization');
      const sig = action === 'monitor' && target && links ? c.req.query('sig') : undefined;
      if (sig !== undefined && target && links) {
        // A signed recording link proves itself for this one file: an <audio> element sends no header.
        boxBuckets.take('box', 'this PBX');
        return verifyRecordingSignature(links.key, links.mac, target.relPath, c.req.query('exp'), sig, now());
      }
      keyBuckets.take(authorization?.trim() || 'no Authorization', 'this Authorization');
      const token = toolbar && toolbarTokenOf(authorization);
      if (toolbar && token) scopes.set(c.req.raw, await verifyToolbarToken(toolbar.key, token, toolbar.mac, now()));
      else checkWebkey(authorization);
      boxBuckets.take('box', 'this PBX');
    },
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
        authorizeIssue: (c) => checkWebkey(c.req.header('authorization')),
        log,
        docs: { tokenSecurity: LAN_SECURITY, tokenErrors: LAN_401, streamErrors: {} },
      }),
    );
  }
  if (links) {
    serveRecordingSign(app, {
      path: '/coocenter-api/recordings/sign',
      async authorize(c) {
        checkWebkey(c.req.header('authorization'));
        return { key: links.key, mac: links.mac, apiBase: '/coocenter-api' };
      },
      now,
      docs: { security: LAN_SECURITY, errors: LAN_401 },
    });
  }
  app.route('/coocenter-api', api);
  // Routes outside the shared API (recording links) fail the way it does: the ApiError's status and words.
  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(err.toBody(), err.status as ContentfulStatusCode);
    log({ level: 'error', msg: 'unexpected error in a LAN route', path: c.req.path, error: err instanceof Error ? err.message : String(err) });
    return c.json({ status: 'error', message: 'internal error in the agent' }, 500);
  });
  app.notFound((c) => c.json({ status: 'error', message: `${c.req.method} ${c.req.path} is not served here; the API is under /coocenter-api` }, 404));
  return app;
}
