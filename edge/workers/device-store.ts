import type { DeviceRecord, EdgeStore, TenantKeyRecord, TenantRecord } from '../core/store.ts';
import { callObject, REGISTRY_NAME } from './object-call.ts';
import type { Env } from './platform.ts';

/**
 * A device object's store: its own SQLite holds the device, its event queue, audit trail, and a copy
 * of its tenant's key hashes, so a good request never leaves the object. The registry is asked only
 * for what the device cannot know: a tenant by id (admin PUT), and a key it does not hold (whose
 * key is it: 403 for another tenant's, 401 for none). Device changes are written to the registry
 * first, so its listing never shows a device the device's own object does not have.
 */
export function deviceStore(local: EdgeStore, env: Env): EdgeStore {
  const registry = <T>(method: string, path: string, body?: unknown) => callObject<T>(env.REGISTRY, REGISTRY_NAME, method, path, body);

  async function replaceKeys(oldTenant: string | undefined, tenant: string | undefined): Promise<void> {
    if (oldTenant) await syncTenantKeys(local, oldTenant, []);
    if (tenant) await syncTenantKeys(local, tenant, (await registry<TenantKeyRecord[]>('GET', `/internal/tenants/${encodeURIComponent(tenant)}/keys`)) ?? []);
  }

  return {
    ...local,
    getTenant: (id) => registry<TenantRecord>('GET', `/internal/tenants/${encodeURIComponent(id)}`),
    async findTenantKey(hash) {
      return (await local.findTenantKey(hash)) ?? registry<TenantKeyRecord>('GET', `/internal/keys/${hash}`);
    },
    async putDevice(d: DeviceRecord) {
      const before = await local.getDevice(d.mac);
      await registry('PUT', `/internal/devices/${d.mac}`, d);
      await local.putDevice(d);
      if (before?.tenant !== d.tenant) await replaceKeys(before?.tenant, d.tenant);
    },
    async deleteDevice(mac) {
      const before = await local.getDevice(mac);
      await registry('DELETE', `/internal/devices/${mac}`);
      await replaceKeys(before?.tenant, undefined);
      return local.deleteDevice(mac);
    },
  };
}

/** What the registry sends a device object when its tenant's keys change. */
export async function syncTenantKeys(local: EdgeStore, tenant: string, keys: readonly TenantKeyRecord[]): Promise<void> {
  for (const k of await local.listTenantKeys(tenant)) await local.removeTenantKey(tenant, k.id);
  for (const k of keys) await local.addTenantKey(k);
}
