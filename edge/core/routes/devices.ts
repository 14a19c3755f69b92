import type { Hono } from 'hono';
import { serve } from '../../../shared/api/route.ts';
import { assessAsteriskVersion } from '../../../shared/asterisk-version.ts';
import { ApiError } from '../../../shared/errors.ts';
import { deviceList, deviceStatus, iso, toPublicDevice } from '../schemas.ts';
import { TOO_MANY, type EdgeContext } from './context.ts';

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

/** `GET /devices`, what a key reaches. */
export function serveDeviceList(app: Hono, e: EdgeContext): void {
  serve(app, listDevices, async (c) => {
    const scope = await e.auth.forListing(c.req.header('authorization'));
    const list = await e.store.listDevices(scope.kind === 'tenant' ? scope.tenant : undefined);
    const online = await e.cluster.online(list.map((d) => d.mac));
    return { status: 200, body: list.map((d) => ({ ...toPublicDevice(d), online: online.has(d.mac) })) };
  });
}

/** `GET /devices/{mac}/status`: the tunnel, the box as its agent reports it, and delivery. */
export function serveDeviceStatus(app: Hono, e: EdgeContext): void {
  const { store, hub } = e;
  serve(app, deviceStatusRoute, async (c) => {
    const mac = e.macOf(c);
    const { principal, device: d } = await e.forDevice(c);
    if (principal.kind === 'open' || principal.kind === 'toolbar') throw new ApiError('UNAUTHORIZED', 'Authorization: status needs a tenant key or the device WEBKEY digest');
    const info = hub.info(mac);
    const f = info.facts;
    const [waiting, deadLetters, delivery] = await Promise.all([store.waitingCount(mac), store.deadLetterCount(mac), e.deliveries?.status(mac) ?? Promise.resolve(null)]);
    const body = {
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
    };
    return { status: 200, body };
  });
}
