import type { Hub } from './hub.ts';

/**
 * How the edge instances that share one store divide the devices. Each device has one home: the
 * instance that holds its tunnel and delivers its webhooks. Any instance answers for any device by
 * forwarding to the home. One edge on its own (SQLite, Workers' object per device) is home of all:
 * `soloCluster`. Several Node edges on PostgreSQL: edge/core/cluster-member.ts.
 */
export interface Cluster {
  /**
   * The answer of mac's home when that is another instance; null: serve the request here. Only
   * device-scoped requests ask (`/devices/{mac}/...`, `/admin/devices/{mac}...`).
   */
  forward(mac: string, request: Request): Promise<Response | null>;
  /**
   * A tunnel for mac was authorized here: becomes its home (the old home closes its tunnel and stops
   * delivering first), so when the agent is welcomed its requests already come here.
   */
  claim(mac: string): Promise<void>;
  /** A tunnel for mac was welcomed here. */
  attached(mac: string): void;
  /** mac's last tunnel here closed. */
  detached(mac: string): void;
  /** Events of mac were committed here. */
  committed(mac: string): void;
  /** Whether this instance delivers mac's webhooks. */
  delivers(mac: string): boolean;
  /** Of these devices, the ones with a live tunnel on any instance. */
  online(macs: readonly string[]): Promise<Set<string>>;
  /** Closes mac's tunnel wherever it is held (device deleted, token rotated). */
  revoke(mac: string, reason: string): Promise<void>;
  /**
   * The internal routes instances call on each other (`/internal/cluster/...`); null when there are
   * none (one instance).
   */
  internal(request: Request, path: string): Promise<Response | null>;
}

/** One instance, home of every device. */
export function soloCluster(hub: Hub): Cluster {
  return {
    forward: async () => null,
    claim: async () => {},
    attached() {},
    detached() {},
    committed() {},
    delivers: () => true,
    async online(macs) {
      return new Set(macs.filter((m) => hub.info(m).online));
    },
    async revoke(mac, reason) {
      hub.revoke(mac, reason);
    },
    internal: async () => null,
  };
}
