import { Hono } from 'hono';
import { systemClock } from '../../shared/clock.ts';
import { errorResponse } from '../../shared/api/error-answer.ts';
import { ApiError } from '../../shared/errors.ts';
import { createEdgeApp, type Edge } from '../core/app.ts';
import type { TunnelInfo } from '../core/hub.ts';
import { createSqlStore } from '../core/sql-store.ts';
import type { DeviceRecord, EdgeStore } from '../core/store.ts';
import { DirectoryHub } from './directory-hub.ts';
import { doSql } from './do-sql.ts';
import { listVar, log } from './log.ts';
import type { DurableObjectState, Env } from './platform.ts';
import { registryStore } from './registry-store.ts';

/**
 * The one registry object: tenants, their key hashes, the device directory and each device's
 * tunnel summary. It serves the admin API that spans devices (tenants, keys, listing, audit),
 * /healthz and /metrics; device requests never pass through it (see device-store.ts).
 */
export class RegistryObject {
  private readonly local: EdgeStore;
  private readonly hub: DirectoryHub;
  private readonly edge: Edge;
  private readonly internal = new Hono().basePath('/internal');

  constructor(ctx: DurableObjectState, env: Env) {
    const db = doSql(ctx.storage);
    this.local = createSqlStore(db);
    this.hub = new DirectoryHub(db, log);
    this.edge = createEdgeApp({
      store: registryStore(this.local, env),
      hub: this.hub,
      clock: systemClock,
      adminKey: env.COOCENTER_ADMIN_KEY,
      log,
      corsOrigins: listVar(env.CORS_ORIGINS),
    });

    const found = <T>(c: { json(v: unknown, s?: 404): Response }, v: T | undefined) => (v === undefined ? c.json({ status: 'error' }, 404) : c.json(v));
    this.internal.get('/tenants/:id', async (c) => found(c, await this.local.getTenant(c.req.param('id'))));
    this.internal.get('/tenants/:id/keys', async (c) => c.json(await this.local.listTenantKeys(c.req.param('id'))));
    this.internal.get('/keys/:hash', async (c) => found(c, await this.local.findTenantKey(c.req.param('hash'))));
    this.internal.put('/devices/:mac', async (c) => {
      await this.local.putDevice(await c.req.json<DeviceRecord>());
      return c.json({ status: 'success' });
    });
    this.internal.delete('/devices/:mac', async (c) => {
      await this.local.deleteDevice(c.req.param('mac'));
      this.hub.forget(c.req.param('mac'));
      return c.json({ status: 'success' });
    });
    this.internal.put('/tunnels/:mac', async (c) => {
      this.hub.report(c.req.param('mac'), await c.req.json<TunnelInfo>());
      return c.json({ status: 'success' });
    });
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith('/internal/')) return this.internal.fetch(request);
    // A tunnel upgrade reaches the registry only without a usable X-Device-Mac: say why, as Node does.
    if (url.pathname === '/agent/tunnel' && request.headers.get('upgrade')) {
      const err = await this.edge.authorizeTunnel(request.headers).then(
        () => new ApiError('BAD_PARAMETER', 'X-Device-Mac: required', 'X-Device-Mac'),
        (e: unknown) => e,
      );
      return errorResponse(err, { log, requestId: crypto.randomUUID(), where: { path: url.pathname } });
    }
    return this.edge.app.fetch(request);
  }
}
