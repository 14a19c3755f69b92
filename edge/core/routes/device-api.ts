import type { Context, Hono } from 'hono';
import { createApiRoutes } from '../../../shared/api/app.ts';
import { actorOf, type Principal } from '../../../shared/api/authenticate.ts';
import { operations } from '../../../shared/api/operations.ts';
import type { Device } from '../../../shared/device.ts';
import { ApiError } from '../../../shared/errors.ts';
import type { IdempotencyStore } from '../../../shared/idempotency.ts';
import { iso } from '../schemas.ts';
import type { DeviceRecord } from '../store.ts';
import { TunnelDevice } from '../tunnel-device.ts';
import { TOO_MANY, type EdgeContext } from './context.ts';

interface Caller {
  principal: Principal;
  device: DeviceRecord;
  requestId: string;
}

/**
 * The documented API per device at `/devices/{mac}/coocenter-api` (shared/api/app.ts), relayed down
 * the device's tunnel; every command that acts on calls is written to the audit log.
 */
export function serveDeviceApi(app: Hono, e: EdgeContext, o: { idempotency: IdempotencyStore; commandTimeoutMs: number; allowOrigin(origin: string): boolean }): void {
  const { hub, clock } = e;
  const callers = new WeakMap<Request, Caller>();
  const api = createApiRoutes({
    async authenticate(c, credentials) {
      const caller = await e.forDevice(c, credentials);
      callers.set(c.req.raw, { ...caller, requestId: e.requestIdOf(c) });
      return caller.principal;
    },
    async resolveDevice(c: Context) {
      const mac = e.macOf(c);
      const session = hub.session(mac);
      if (!session) {
        const last = hub.info(mac).lastDisconnect;
        throw new ApiError('DEVICE_OFFLINE', `device ${mac} is offline: its agent is not connected to this edge${last ? ` (since ${iso(last.at)})` : ''}`);
      }
      const caller = callers.get(c.req.raw);
      if (!caller) throw new Error('resolveDevice before authenticate');
      return audited(e, new TunnelDevice(session, { clock, timeoutMs: o.commandTimeoutMs }), mac, caller);
    },
    deviceId: (c) => e.macOf(c),
    idempotency: o.idempotency,
    allowOrigin: o.allowOrigin,
    log: e.log,
    requestIdOf: e.requestIdOf,
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
}

/** Wraps a device so every command that acts on calls lands in the audit log with its result. */
function audited(e: EdgeContext, inner: Device, mac: string, caller: Caller): Device {
  return {
    async run(op, params, options) {
      let status = 200;
      try {
        return await inner.run(op, params, options);
      } catch (err) {
        status = err instanceof ApiError ? err.status : 500;
        throw err;
      } finally {
        e.metrics.inc('coocenter_edge_commands_total', { result: status === 200 ? 'ok' : String(status) });
        if (operations[op].actsOnCalls) {
          const p = caller.principal;
          await e.store
            .appendAudit({
              at: e.clock.now(),
              actor: actorOf(p),
              keyId: p.kind === 'tenant' ? p.keyId : null,
              mac,
              tenant: caller.device.tenant,
              action: op,
              params: { ...(params as Record<string, string>) },
              status,
              requestId: caller.requestId,
            })
            .catch((err: unknown) => e.log({ level: 'error', msg: 'audit write failed', mac, action: op, error: String(err) }));
        }
      }
    },
    openRecording: (relPath, range, options) => inner.openRecording(relPath, range, options),
  };
}
