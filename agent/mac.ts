import { networkInterfaces } from 'node:os';

/**
 * The box's first non-loopback NIC, the identity the original box used when api.conf names none.
 * Names compare by code unit: localeCompare would map ICU's collation data into the agent for life.
 */
export function firstNicMac(): string | undefined {
  for (const [, addrs] of Object.entries(networkInterfaces()).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const a of addrs ?? []) if (!a.internal && a.mac && a.mac !== '00:00:00:00:00:00') return a.mac.toLowerCase();
  }
  return undefined;
}
