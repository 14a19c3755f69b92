import type { Context } from 'hono';
import type { Credentials, Principal } from '../../../shared/api/authenticate.ts';
import type { Security } from '../../../shared/api/route.ts';
import type { Clock } from '../../../shared/clock.ts';
import type { EdgeAuth } from '../auth.ts';
import type { Cluster } from '../cluster.ts';
import type { EdgeDeliveries } from '../deliveries.ts';
import type { Hub } from '../hub.ts';
import type { Metrics } from '../metrics.ts';
import type { DeviceRecord, EdgeStore } from '../store.ts';
import type { ToolbarFeeds } from '../toolbar-feeds.ts';

/** What the edge's route modules share: its state, and how a request is named and authenticated. */
export interface EdgeContext {
  store: EdgeStore;
  hub: Hub;
  clock: Clock;
  log(entry: Record<string, unknown>): void;
  deliveries: EdgeDeliveries | undefined;
  /** Which instance serves and delivers each device (one edge alone: this one, always). */
  cluster: Cluster;
  auth: EdgeAuth;
  metrics: Metrics;
  feeds: ToolbarFeeds;
  /** The `:mac` of the route, normalised; 404 when it is not a MAC. */
  macOf(c: Context): string;
  /** The id the request log gives the request. */
  requestIdOf(c: Context): string;
  /** The device by MAC, or ApiError NOT_FOUND. */
  device(mac: string): Promise<DeviceRecord>;
  /** The caller of a device route, through the one authenticator (shared/api/authenticate.ts). */
  forDevice(c: Context, credentials?: Credentials): Promise<{ principal: Principal; device: DeviceRecord }>;
  /** The same, for what only the tenant key that owns the device (or the admin key) may do. */
  forOwner(c: Context, what: string): Promise<{ principal: Principal; device: DeviceRecord }>;
}

export const TOO_MANY = { 429: 'too many requests; Retry-After says when to come back' } as const;
/** Who may sign links and issue toolbar tokens for a device. */
export const OWNER: Security = [{ tenantKey: [] }, { admin: [] }];
export const ownerErrors = (what: string) => ({
  401: 'Authorization missing or invalid',
  403: `only the tenant key that owns this device (or the admin key) may ${what}`,
  404: 'no such device',
  ...TOO_MANY,
});
