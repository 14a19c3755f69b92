import { matchesWebkeyDigest } from '../../shared/auth/webkey-digest.ts';
import type { Principal } from '../../shared/api/authenticate.ts';
import { ApiError } from '../../shared/errors.ts';
import type { Hub } from './hub.ts';
import { cachedSha256Hex } from './secrets.ts';
import type { DeviceRecord, EdgeStore } from './store.ts';

export interface EdgeAuthOptions {
  store: EdgeStore;
  hub: Hub;
  /** COOCENTER_ADMIN_KEY; without one the admin API answers 401 to everyone. */
  adminKey: string | undefined;
}

const bearer = (authorization: string | undefined): string | undefined => {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return m?.[1];
};

/**
 * The edge's three kinds of caller: the operator (admin key), a tenant (its keys reach its own
 * devices only), and the device's own WEBKEY digests or open access where the operator allowed them.
 * A tenant key gets 403 for a device it does not own whether or not that device exists, so a key
 * cannot be used to find out which MACs other tenants have (docs/api.md "Another tenant's device").
 */
export function createEdgeAuth(opts: EdgeAuthOptions) {
  const { store, hub } = opts;
  const sha256Hex = cachedSha256Hex();
  const adminHash = opts.adminKey ? sha256Hex(opts.adminKey) : null;

  async function isAdmin(authorization: string | undefined): Promise<boolean> {
    const token = bearer(authorization);
    if (!token || !adminHash) return false;
    return (await sha256Hex(token)) === (await adminHash);
  }

  return {
    isAdmin,

    async requireAdmin(authorization: string | undefined): Promise<void> {
      if (!adminHash) throw new ApiError('UNAUTHORIZED', 'the admin API is disabled: start the edge with COOCENTER_ADMIN_KEY set');
      if (!(await isAdmin(authorization))) throw new ApiError('UNAUTHORIZED', 'Authorization: expected Bearer <admin key>');
    },

    /** Whose devices a listing shows: all for the admin key, a tenant's own for its key; else 401. */
    async forListing(authorization: string | undefined): Promise<{ kind: 'admin' } | { kind: 'tenant'; tenant: string }> {
      if (await isAdmin(authorization)) return { kind: 'admin' };
      const token = bearer(authorization);
      const key = token ? await store.findTenantKey(await sha256Hex(token)) : undefined;
      if (!key) throw new ApiError('UNAUTHORIZED', 'Authorization: expected Bearer <tenant key> or Bearer <admin key>');
      return { kind: 'tenant', tenant: key.tenant };
    },

    /**
     * Who a key, a WEBKEY digest or no Authorization is for a device route; throws 401, 403 or 404.
     * The edge's part of the one authenticator (shared/api/authenticate.ts), which counts the limits.
     */
    async forDevice(authorization: string | undefined, mac: string): Promise<{ principal: Principal; device: DeviceRecord }> {
      const token = bearer(authorization);
      if (token) {
        if (await isAdmin(authorization)) {
          const device = await store.getDevice(mac);
          if (!device) throw new ApiError('NOT_FOUND', `no device ${mac} on this edge`);
          return { principal: { kind: 'admin' }, device };
        }
        const key = await store.findTenantKey(await sha256Hex(token));
        if (key) {
          const device = await store.getDevice(mac);
          if (!device || device.tenant !== key.tenant) throw new ApiError('FORBIDDEN', `this key does not give access to device ${mac}`);
          return { principal: { kind: 'tenant', tenant: key.tenant, keyId: key.id }, device };
        }
      }
      const device = await store.getDevice(mac);
      if (authorization !== undefined && authorization.trim() !== '') {
        // A WEBKEY digest, bare as the document sends it or as a Bearer token.
        const digests = device?.allowWebkey ? (hub.info(mac).facts?.webkeyDigests ?? []) : [];
        if (device && (matchesWebkeyDigest(authorization, digests) || matchesWebkeyDigest(token, digests))) {
          return { principal: { kind: 'webkey' }, device };
        }
        throw new ApiError('UNAUTHORIZED', 'Authorization: not a valid key for this device');
      }
      if (device?.allowUnauthenticated) return { principal: { kind: 'open' }, device };
      throw new ApiError('UNAUTHORIZED', 'Authorization: required (Bearer <tenant key>, or the device WEBKEY digest where allowed)');
    },

    /** The tunnel upgrade: the token must be the one issued for this very MAC. */
    async forTunnel(authorization: string | undefined, mac: string | undefined): Promise<DeviceRecord> {
      const token = bearer(authorization);
      if (!token) throw new ApiError('UNAUTHORIZED', 'Authorization: expected Bearer <device token>');
      if (!mac) throw new ApiError('BAD_PARAMETER', 'X-Device-Mac: required', 'X-Device-Mac');
      const device = await store.getDevice(mac);
      if (!device || device.tokenHash !== (await sha256Hex(token))) {
        throw new ApiError('UNAUTHORIZED', `device token refused for ${mac}`);
      }
      return device;
    },
  };
}

export type EdgeAuth = ReturnType<typeof createEdgeAuth>;
