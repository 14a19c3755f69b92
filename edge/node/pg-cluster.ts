import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { systemClock } from '../../shared/clock.ts';
import type { RateLimit } from '../../shared/http/rate-limit.ts';
import { ClusterMember } from '../core/cluster-member.ts';
import type { Hub } from '../core/hub.ts';
import { createPgHomes } from './pg-homes.ts';
import { createPgKeyLimit } from './pg-key-limit.ts';

/** How long an edge may go unheard before its devices move to another (ms). */
export const DEFAULT_LEASE_MS = 6000;

export interface PgClusterOptions {
  sql: postgres.Sql;
  hub: Hub;
  log(entry: Record<string, unknown>): void;
  leaseMs?: number;
  perKey: RateLimit;
}

/** One Node edge joining the others on its PostgreSQL: its membership, and the per-key limit they share. */
export function createPgCluster(o: PgClusterOptions): { member: ClusterMember; keyLimit: (name: string) => Promise<void>; self: { id: string; url: string } } {
  const leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
  // The URL is known once the server listens (--advertise-url, or its own address): set before start.
  const self = { id: randomUUID(), url: '' };
  const member = new ClusterMember({
    self,
    homes: createPgHomes(o.sql, leaseMs, o.log),
    hub: o.hub,
    timers: systemClock,
    fetch: (input, init) => fetch(input, init),
    leaseMs,
    log: o.log,
  });
  return { member, keyLimit: createPgKeyLimit(o.sql, o.perKey), self };
}
