import type { AuditEntry, EdgeStore } from '../core/store.ts';
import { callObject } from './object-call.ts';
import type { Env } from './platform.ts';

/**
 * The registry's store: tenants, keys and the device directory in its own SQLite. A key change is
 * pushed to every device object of that tenant (they authorize without asking the registry), and
 * the audit trail, kept by each device object, is gathered from them when asked for.
 */
export function registryStore(local: EdgeStore, env: Env): EdgeStore {
  const device = <T>(mac: string, method: string, path: string, body?: unknown) => callObject<T>(env.DEVICES, mac, method, path, body);

  async function pushKeys(tenant: string): Promise<void> {
    const keys = await local.listTenantKeys(tenant);
    const devices = await local.listDevices(tenant);
    await Promise.all(devices.map((d) => device(d.mac, 'PUT', `/internal/tenant-keys/${encodeURIComponent(tenant)}`, keys)));
  }

  return {
    ...local,
    async addTenantKey(k) {
      await local.addTenantKey(k);
      await pushKeys(k.tenant);
    },
    async removeTenantKey(tenant, keyId) {
      const removed = await local.removeTenantKey(tenant, keyId);
      if (removed) await pushKeys(tenant);
      return removed;
    },
    async listAudit({ mac, tenant, limit }) {
      const macs = mac !== undefined ? [mac] : (await local.listDevices(tenant)).map((d) => d.mac);
      const query = `/internal/audit?limit=${limit}${tenant !== undefined ? `&tenant=${encodeURIComponent(tenant)}` : ''}`;
      const lists = await Promise.all(macs.map(async (m) => (await device<AuditEntry[]>(m, 'GET', query)) ?? []));
      return lists.flat().sort((a, b) => b.at - a.at).slice(0, limit);
    },
  };
}
