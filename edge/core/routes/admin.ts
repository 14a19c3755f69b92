import { Hono } from 'hono';
import { normalizeMac } from '../../../shared/auth/mac.ts';
import { ApiError } from '../../../shared/errors.ts';
import { serve, type RouteSpec } from '../../../shared/api/route.ts';
import {
  attemptOutcome,
  auditEntries,
  auditQuery,
  createdDevice,
  createdTenant,
  deadLetters,
  deviceBody,
  deviceList,
  issuedKey,
  iso,
  publicDevice,
  replayAnswer,
  replayBody,
  rotatedSecret,
  rotatedToken,
  seqParam,
  success,
  tenantAnswer,
  tenantBody,
  tenantKeys,
  tenantParam,
  testEventOutcome,
  toPublicDevice,
} from '../schemas.ts';
import { z } from 'zod';
import { newId, newSecret, newWebhookSecret, sha256Hex } from '../secrets.ts';
import type { DeviceRecord } from '../store.ts';
import type { EdgeContext } from './context.ts';

const ADMIN = { tags: ['admin'], security: [{ admin: [] }] } as const;
const ADMIN_401 = { 401: 'Authorization is not Bearer <admin key>, or the admin API is disabled', 429: 'too many requests; Retry-After says when to come back' } as const;
const NO_DEVICE = { ...ADMIN_401, 404: 'no such device on this edge' } as const;
const NO_URL = { ...NO_DEVICE, 409: 'the device has no event URL' } as const;

const spec = <const S extends Omit<RouteSpec, 'tags' | 'security'>>(s: S) => ({ ...ADMIN, ...s }) satisfies RouteSpec;

const createTenant = spec({
  method: 'post',
  path: '/tenants',
  operationId: 'createTenant',
  summary: 'Create a tenant and its first key (shown once)',
  body: { schema: tenantBody, encoding: 'json' },
  responses: { 201: createdTenant },
  errors: ADMIN_401,
});
const listTenants = spec({ method: 'get', path: '/tenants', operationId: 'listTenants', summary: 'All tenants', responses: { 200: z.array(tenantAnswer) }, errors: ADMIN_401 });
const issueTenantKey = spec({
  method: 'post',
  path: '/tenants/:id/keys',
  operationId: 'issueTenantKey',
  summary: 'Issue another key for a tenant (rotation: issue, move clients, revoke the old)',
  params: tenantParam,
  responses: { 201: issuedKey },
  errors: { ...ADMIN_401, 404: 'no such tenant' },
});
const listTenantKeys = spec({
  method: 'get',
  path: '/tenants/:id/keys',
  operationId: 'listTenantKeys',
  summary: "A tenant's key ids (never the keys)",
  params: tenantParam,
  responses: { 200: tenantKeys },
  errors: ADMIN_401,
});
const revokeTenantKey = spec({
  method: 'delete',
  path: '/tenants/:id/keys/:keyId',
  operationId: 'revokeTenantKey',
  summary: 'Revoke one tenant key',
  params: tenantParam.extend({ keyId: z.string().meta({ description: 'key id (key_...)' }) }),
  responses: { 200: success },
  errors: { ...ADMIN_401, 404: 'no such key' },
});
const putDevice = spec({
  method: 'put',
  path: '/devices/:mac',
  operationId: 'putDevice',
  summary: 'Register a device (201 with its tunnel token and webhook secret, shown once) or change its settings (200)',
  body: { schema: deviceBody, encoding: 'json' },
  responses: { 201: createdDevice, 200: publicDevice },
  errors: { ...ADMIN_401, 404: 'the MAC is not a MAC address' },
});
const listAllDevices = spec({
  method: 'get',
  path: '/devices',
  operationId: 'listAllDevices',
  summary: 'Every device, optionally of one tenant, with online',
  query: z.object({ tenant: z.string().optional() }),
  responses: { 200: deviceList },
  errors: ADMIN_401,
});
const deleteDevice = spec({
  method: 'delete',
  path: '/devices/:mac',
  operationId: 'deleteDevice',
  summary: 'Remove a device; its tunnel is closed',
  responses: { 200: success },
  errors: NO_DEVICE,
});
const rotateDeviceToken = spec({
  method: 'post',
  path: '/devices/:mac/token',
  operationId: 'rotateDeviceToken',
  summary: 'New tunnel token (the old one stops working, the tunnel is closed)',
  responses: { 201: rotatedToken },
  errors: NO_DEVICE,
});
const rotateWebhookSecret = spec({
  method: 'post',
  path: '/devices/:mac/webhook-secret',
  operationId: 'rotateWebhookSecret',
  summary: 'New webhook signing secret (whsec_...)',
  responses: { 201: rotatedSecret },
  errors: NO_DEVICE,
});
const listAudit = spec({
  method: 'get',
  path: '/audit',
  operationId: 'listAudit',
  summary: 'Commands that acted on calls: who, which key, which device, what, when, result',
  query: auditQuery,
  responses: { 200: auditEntries },
  errors: ADMIN_401,
});
const sendTestEvent = spec({
  method: 'post',
  path: '/devices/:mac/test-event',
  operationId: 'sendTestEvent',
  summary: 'Send a signed test event to the device URL now; the answer says what the receiver said',
  responses: { 200: testEventOutcome },
  errors: NO_URL,
});
const replayEvents = spec({
  method: 'post',
  path: '/devices/:mac/replay',
  operationId: 'replayEvents',
  summary: 'Deliver again from a sequence number (kept 7 days after delivery)',
  body: { schema: replayBody, encoding: 'json' },
  responses: { 200: replayAnswer },
  errors: NO_URL,
});
const listDeadLetters = spec({
  method: 'get',
  path: '/devices/:mac/dead-letters',
  operationId: 'listDeadLetters',
  summary: 'Events the receiver refused three times with a 4xx',
  responses: { 200: deadLetters },
  errors: NO_DEVICE,
});
const redeliverDeadLetter = spec({
  method: 'post',
  path: '/devices/:mac/dead-letters/:seq/redeliver',
  operationId: 'redeliverDeadLetter',
  summary: 'Try one dead letter again; the answer says what the receiver said',
  params: seqParam,
  responses: { 200: attemptOutcome },
  errors: { ...NO_URL, 400: 'seq is not a sequence number', 404: 'no such device, or no dead letter with that seq' },
});

/**
 * The operator's API under `/admin` (admin key): tenants and their keys, devices and their secrets,
 * the audit log, and the delivery tools (test event, replay, dead letters).
 */
export function createAdminRoutes(deps: EdgeContext): Hono {
  const { auth, store, clock, log, macOf, requestIdOf, device } = deps;
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

  serve(admin, createTenant, async (c, input) => {
    const { name } = await input.body();
    const id = newId('ten_');
    await store.createTenant({ id, name, createdAt: clock.now() });
    const { keyId, key } = await issueKey(id);
    log({ msg: 'tenant created', requestId: requestIdOf(c), tenant: id, keyId });
    return { status: 201, body: { id, name, keyId, key } };
  });
  serve(admin, listTenants, async () => ({
    status: 200,
    body: (await store.listTenants()).map((t) => ({ id: t.id, name: t.name, createdAt: iso(t.createdAt) })),
  }));
  /** Rotation: issue a new key, move clients over, then revoke the old one. */
  serve(admin, issueTenantKey, async (c, input) => {
    const { id: tenant } = input.params();
    if (!(await store.getTenant(tenant))) throw new ApiError('NOT_FOUND', `no tenant ${tenant}`);
    const issued = await issueKey(tenant);
    log({ msg: 'tenant key issued', requestId: requestIdOf(c), tenant, keyId: issued.keyId });
    return { status: 201, body: issued };
  });
  serve(admin, listTenantKeys, async (_c, input) => ({
    status: 200,
    body: (await store.listTenantKeys(input.params().id)).map((k) => ({ keyId: k.id, createdAt: iso(k.createdAt) })),
  }));
  serve(admin, revokeTenantKey, async (c, input) => {
    const { id, keyId } = input.params();
    if (!(await store.removeTenantKey(id, keyId))) throw new ApiError('NOT_FOUND', `tenant ${id} has no key ${keyId}`);
    log({ msg: 'tenant key revoked', requestId: requestIdOf(c), tenant: id, keyId });
    return { status: 200, body: { status: 'success' } };
  });

  serve(admin, putDevice, async (c, input) => {
    const mac = macOf(c);
    const b = await input.body();
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
      return { status: 200, body: toPublicDevice(updated) };
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
    return { status: 201, body: { ...toPublicDevice(record), token, webhookSecret } };
  });
  serve(admin, listAllDevices, async (_c, input) => {
    const list = await store.listDevices(input.query().tenant);
    const online = await deps.cluster.online(list.map((d) => d.mac));
    return { status: 200, body: list.map((d) => ({ ...toPublicDevice(d), online: online.has(d.mac) })) };
  });
  serve(admin, deleteDevice, async (c) => {
    const mac = macOf(c);
    if (!(await store.deleteDevice(mac))) throw new ApiError('NOT_FOUND', `no device ${mac} on this edge`);
    await deps.cluster.revoke(mac, 'device deleted');
    deps.feeds.close(mac);
    await deps.deliveries?.remove(mac);
    log({ msg: 'device deleted', requestId: requestIdOf(c), mac });
    return { status: 200, body: { status: 'success' } };
  });
  serve(admin, rotateDeviceToken, async (c) => {
    const mac = macOf(c);
    const d = await device(mac);
    const token = newSecret('cdt_');
    await store.putDevice({ ...d, tokenHash: await sha256Hex(token) });
    await deps.cluster.revoke(mac, 'device token rotated');
    log({ msg: 'device token rotated', requestId: requestIdOf(c), mac });
    return { status: 201, body: { mac, token } };
  });
  serve(admin, rotateWebhookSecret, async (c) => {
    const mac = macOf(c);
    const d = await device(mac);
    const webhookSecret = newWebhookSecret();
    await store.putDevice({ ...d, webhookSecret });
    await deps.deliveries?.kick(mac);
    log({ msg: 'webhook secret rotated', requestId: requestIdOf(c), mac });
    return { status: 201, body: { mac, webhookSecret } };
  });
  serve(admin, listAudit, async (_c, input) => {
    const { limit = 100, mac, tenant } = input.query();
    const entries = await store.listAudit({ limit, ...(mac ? { mac: normalizeMac(mac) ?? mac } : {}), ...(tenant ? { tenant } : {}) });
    return { status: 200, body: entries.map((e) => ({ ...e, at: iso(e.at) })) };
  });

  const deliveries = () => {
    if (!deps.deliveries) throw new ApiError('NOT_FOUND', 'event delivery is not enabled on this edge');
    return deps.deliveries;
  };
  serve(admin, sendTestEvent, async (c) => {
    const mac = macOf(c);
    await device(mac);
    return { status: 200, body: await deliveries().sendTest(mac) };
  });
  serve(admin, replayEvents, async (c, input) => {
    const mac = macOf(c);
    await device(mac);
    const { from } = await input.body();
    const first = await deliveries().replayFrom(mac, from);
    return { status: 200, body: { status: 'success', from: first } };
  });
  serve(admin, listDeadLetters, async (c) => {
    const mac = macOf(c);
    await device(mac);
    return { status: 200, body: (await store.listDeadLetters(mac)).map((d) => ({ ...d, at: iso(d.at) })) };
  });
  serve(admin, redeliverDeadLetter, async (c, input) => {
    const mac = macOf(c);
    await device(mac);
    const { seq } = input.params();
    return { status: 200, body: await deliveries().redeliver(mac, seq) };
  });
  return admin;
}


