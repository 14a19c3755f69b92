import { Hono, type Context } from 'hono';
import { normalizeMac } from '../../shared/auth/mac.ts';
import type { Clock } from '../../shared/clock.ts';
import { ApiError } from '../../shared/errors.ts';
import { jsonBody } from '../../shared/http/json-body.ts';
import { deviceBody, replayBody, tenantBody } from './admin-schemas.ts';
import type { EdgeAuth } from './auth.ts';
import type { EdgeDeliveries } from './deliveries.ts';
import type { Hub } from './hub.ts';
import { newId, newSecret, newWebhookSecret, sha256Hex } from './secrets.ts';
import type { DeviceRecord, EdgeStore } from './store.ts';

export interface AdminRoutesDeps {
  auth: EdgeAuth;
  store: EdgeStore;
  hub: Hub;
  clock: Clock;
  log(entry: Record<string, unknown>): void;
  deliveries: EdgeDeliveries | undefined;
  macOf(c: Context): string;
  requestIdOf(c: Context): string;
  /** The device by MAC, or ApiError NOT_FOUND. */
  device(mac: string): Promise<DeviceRecord>;
  /** A device was deleted: drop what the app keeps for it in memory. */
  onDeviceDeleted(mac: string): void;
}

/** The device's settings as the admin API shows them: never its token hash or webhook secret. */
export const publicDevice = (d: DeviceRecord) => ({
  mac: d.mac,
  tenant: d.tenant,
  url: d.url,
  allowUnauthenticated: d.allowUnauthenticated,
  allowWebkey: d.allowWebkey,
  types: d.types,
  createdAt: new Date(d.createdAt).toISOString(),
});

export const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/**
 * The operator's API under `/admin` (admin key): tenants and their keys, devices and their secrets,
 * the audit log, and the delivery tools (test event, replay, dead letters).
 */
export function createAdminRoutes(deps: AdminRoutesDeps): Hono {
  const { auth, store, hub, clock, log, macOf, requestIdOf, device } = deps;
  const admin = new Hono();
  admin.use('*', async function requireAdmin(c, next) {
    await auth.requireAdmin(c.req.header('authorization'));
    await next();
  });

  const issueKey = async (tenant: string) => {
    const key = newSecret('cok_');
    const keyId = newId('key_');
    await store.addTenantKey({ id: keyId, tenant, hash: await sha256Hex(key), createdAt: clock.now() });
    return { keyId, key };
  };

  admin.post('/tenants', async (c) => {
    const { name } = await jsonBody(c, tenantBody);
    const id = newId('ten_');
    await store.createTenant({ id, name, createdAt: clock.now() });
    const { keyId, key } = await issueKey(id);
    log({ msg: 'tenant created', requestId: requestIdOf(c), tenant: id, keyId });
    return c.json({ id, name, keyId, key }, 201);
  });
  admin.get('/tenants', async (c) => c.json(await store.listTenants()));
  /** Rotation: issue a new key, move clients over, then revoke the old one. */
  admin.post('/tenants/:id/keys', async (c) => {
    const tenant = c.req.param('id');
    if (!(await store.getTenant(tenant))) throw new ApiError('NOT_FOUND', `no tenant ${tenant}`);
    const issued = await issueKey(tenant);
    log({ msg: 'tenant key issued', requestId: requestIdOf(c), tenant, keyId: issued.keyId });
    return c.json(issued, 201);
  });
  admin.get('/tenants/:id/keys', async (c) =>
    c.json((await store.listTenantKeys(c.req.param('id'))).map((k) => ({ keyId: k.id, createdAt: iso(k.createdAt) }))),
  );
  admin.delete('/tenants/:id/keys/:keyId', async (c) => {
    const { id, keyId } = c.req.param();
    if (!(await store.removeTenantKey(id, keyId))) throw new ApiError('NOT_FOUND', `tenant ${id} has no key ${keyId}`);
    log({ msg: 'tenant key revoked', requestId: requestIdOf(c), tenant: id, keyId });
    return c.json({ status: 'success' });
  });

  admin.put('/devices/:mac', async (c) => {
    const mac = macOf(c);
    const b = await jsonBody(c, deviceBody);
    if (!(await store.getTenant(b.tenant))) throw new ApiError('BAD_PARAMETER', `tenant: no tenant ${b.tenant}`, 'tenant');
    const existing = await store.getDevice(mac);
    if (existing) {
      // Settings only: secrets are rotated explicitly, so a repeated PUT never cuts a live tunnel.
      const updated: DeviceRecord = {
        ...existing,
        tenant: b.tenant,
        ...(b.url !== undefined ? { url: b.url } : {}),
        ...(b.allowUnauthenticated !== undefined ? { allowUnauthenticated: b.allowUnauthenticated } : {}),
        ...(b.allowWebkey !== undefined ? { allowWebkey: b.allowWebkey } : {}),
        ...(b.types !== undefined ? { types: b.types } : {}),
      };
      await store.putDevice(updated);
      await deps.deliveries?.kick(mac);
      return c.json(publicDevice(updated));
    }
    const token = newSecret('cdt_');
    const webhookSecret = newWebhookSecret();
    const record: DeviceRecord = {
      mac,
      tenant: b.tenant,
      tokenHash: await sha256Hex(token),
      url: b.url ?? null,
      allowUnauthenticated: b.allowUnauthenticated ?? false,
      allowWebkey: b.allowWebkey ?? false,
      webhookSecret,
      types: b.types ?? null,
      createdAt: clock.now(),
    };
    await store.putDevice(record);
    log({ msg: 'device created', requestId: requestIdOf(c), mac, tenant: b.tenant });
    return c.json({ ...publicDevice(record), token, webhookSecret }, 201);
  });
  admin.get('/devices', async (c) => {
    const tenant = c.req.query('tenant');
    const list = await store.listDevices(tenant);
    return c.json(list.map((d) => ({ ...publicDevice(d), online: hub.info(d.mac).online })));
  });
  admin.delete('/devices/:mac', async (c) => {
    const mac = macOf(c);
    if (!(await store.deleteDevice(mac))) throw new ApiError('NOT_FOUND', `no device ${mac} on this edge`);
    hub.revoke(mac, 'device deleted');
    deps.onDeviceDeleted(mac);
    await deps.deliveries?.remove(mac);
    log({ msg: 'device deleted', requestId: requestIdOf(c), mac });
    return c.json({ status: 'success' });
  });
  admin.post('/devices/:mac/token', async (c) => {
    const mac = macOf(c);
    const d = await device(mac);
    const token = newSecret('cdt_');
    await store.putDevice({ ...d, tokenHash: await sha256Hex(token) });
    hub.revoke(mac, 'device token rotated');
    log({ msg: 'device token rotated', requestId: requestIdOf(c), mac });
    return c.json({ mac, token }, 201);
  });
  admin.post('/devices/:mac/webhook-secret', async (c) => {
    const mac = macOf(c);
    const d = await device(mac);
    const webhookSecret = newWebhookSecret();
    await store.putDevice({ ...d, webhookSecret });
    await deps.deliveries?.kick(mac);
    log({ msg: 'webhook secret rotated', requestId: requestIdOf(c), mac });
    return c.json({ mac, webhookSecret }, 201);
  });
  admin.get('/audit', async (c) => {
    const limit = Math.min(1000, Math.max(1, Number(c.req.query('limit') ?? 100) || 100));
    const mac = c.req.query('mac');
    const tenant = c.req.query('tenant');
    const entries = await store.listAudit({ limit, ...(mac ? { mac: normalizeMac(mac) ?? mac } : {}), ...(tenant ? { tenant } : {}) });
    return c.json(entries.map((e) => ({ ...e, at: iso(e.at) })));
  });

  const deliveries = () => {
    if (!deps.deliveries) throw new ApiError('NOT_FOUND', 'event delivery is not enabled on this edge');
    return deps.deliveries;
  };
  const noPushUrl = (e: unknown) => {
    if (e instanceof RangeError) throw new ApiError('CONFLICT', e.message);
    throw e;
  };
  admin.post('/devices/:mac/test-event', async (c) => {
    const mac = macOf(c);
    await device(mac);
    return c.json(await deliveries().sendTest(mac).catch(noPushUrl));
  });
  admin.post('/devices/:mac/replay', async (c) => {
    const mac = macOf(c);
    await device(mac);
    const { from } = await jsonBody(c, replayBody);
    const first = await deliveries().replayFrom(mac, from).catch(noPushUrl);
    return c.json({ status: 'success', from: first });
  });
  admin.get('/devices/:mac/dead-letters', async (c) => {
    const mac = macOf(c);
    await device(mac);
    return c.json((await store.listDeadLetters(mac)).map((d) => ({ ...d, at: iso(d.at) })));
  });
  admin.post('/devices/:mac/dead-letters/:seq/redeliver', async (c) => {
    const mac = macOf(c);
    await device(mac);
    const seq = Number(c.req.param('seq'));
    if (!Number.isInteger(seq) || seq < 0) throw new ApiError('BAD_PARAMETER', 'seq: expected a sequence number', 'seq');
    return c.json(await deliveries().redeliver(mac, seq).catch(noPushUrl));
  });
  return admin;
}
