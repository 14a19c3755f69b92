import { randomBytes } from 'node:crypto';
import type postgres from 'postgres';
import { z } from 'zod';
import type { ClusterMessage, HomeStore, Instance } from '../core/home-store.ts';

const CHANNEL = 'coocenter_cluster';

const message = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('revoke'), mac: z.string(), reason: z.string() }),
  z.object({ kind: z.literal('nudge'), mac: z.string() }),
]);

/**
 * The cluster's homes and heartbeats in PostgreSQL (tables of pg-migrations/002_cluster.sql), its
 * messages by NOTIFY. Liveness is judged by the database's clock: `seen_at` within the lease.
 */
export function createPgHomes(sql: postgres.Sql, leaseMs: number, log: (entry: Record<string, unknown>) => void): HomeStore {
  // The lease as an interval, in every query that judges liveness.
  const lease = `${Math.round(leaseMs)} milliseconds`;
  return {
    async heartbeat(self: Instance) {
      await sql`INSERT INTO cluster_instances (id, url, seen_at) VALUES (${self.id}, ${self.url}, now())
                ON CONFLICT (id) DO UPDATE SET seen_at = now(), url = excluded.url`;
      const rows = await sql<{ mac: string }[]>`SELECT mac FROM cluster_homes WHERE instance = ${self.id}`;
      return rows.map((r) => r.mac);
    },
    async home(mac) {
      const [r] = await sql<Instance[]>`SELECT i.id, i.url FROM cluster_homes h JOIN cluster_instances i ON i.id = h.instance
                                        WHERE h.mac = ${mac} AND i.seen_at > now() - ${lease}::interval`;
      return r ? { id: r.id, url: r.url } : null;
    },
    async take(mac, instance, from, online) {
      // ON CONFLICT re-checks the WHERE on the locked row: two instances taking at once, one wins.
      // Only a provisioned device gets a home: requests for made-up MACs leave no rows.
      const rows = await sql`INSERT INTO cluster_homes (mac, instance, online, since)
        SELECT ${mac}, ${instance}, ${online}, now() WHERE EXISTS (SELECT 1 FROM devices WHERE mac = ${mac})
        ON CONFLICT (mac) DO UPDATE SET instance = excluded.instance, online = excluded.online, since = now()
        WHERE cluster_homes.instance = ${instance} OR cluster_homes.instance = ${from ?? ''}
           OR NOT EXISTS (SELECT 1 FROM cluster_instances i WHERE i.id = cluster_homes.instance AND i.seen_at > now() - ${lease}::interval)
        RETURNING mac`;
      return rows.length === 1;
    },
    async setOnline(mac, instance, online) {
      await sql`UPDATE cluster_homes SET online = ${online} WHERE mac = ${mac} AND instance = ${instance}`;
    },
    async online(macs) {
      if (macs.length === 0) return new Set();
      const rows = await sql<{ mac: string }[]>`SELECT h.mac FROM cluster_homes h JOIN cluster_instances i ON i.id = h.instance
        WHERE h.mac = ANY(${sql.array([...macs])}) AND h.online AND i.seen_at > now() - ${lease}::interval`;
      return new Set(rows.map((r) => r.mac));
    },
    async claimOrphans(instance, n) {
      const rows = await sql<{ mac: string }[]>`
        WITH orphans AS (
          SELECT d.mac FROM devices d
          WHERE EXISTS (SELECT 1 FROM events e WHERE e.mac = d.mac AND e.state = 'waiting'
                          AND e.pos > coalesce((SELECT x.pos FROM delivered x WHERE x.mac = d.mac), 0))
            AND NOT EXISTS (SELECT 1 FROM cluster_homes h JOIN cluster_instances i ON i.id = h.instance
                            WHERE h.mac = d.mac AND i.seen_at > now() - ${lease}::interval)
          LIMIT ${n})
        INSERT INTO cluster_homes (mac, instance, online, since) SELECT mac, ${instance}, false, now() FROM orphans
        ON CONFLICT (mac) DO UPDATE SET instance = excluded.instance, online = false, since = now()
        WHERE NOT EXISTS (SELECT 1 FROM cluster_instances i WHERE i.id = cluster_homes.instance AND i.seen_at > now() - ${lease}::interval)
        RETURNING mac`;
      return rows.map((r) => r.mac);
    },
    async leave(instance) {
      await sql`DELETE FROM cluster_instances WHERE id = ${instance}`;
    },
    async broadcast(m: ClusterMessage) {
      await sql.notify(CHANNEL, JSON.stringify(m));
    },
    async listen(listener) {
      const { unlisten } = await sql.listen(CHANNEL, (payload) => {
        let parsed: ClusterMessage;
        try {
          parsed = message.parse(JSON.parse(payload));
        } catch {
          return log({ level: 'warn', msg: 'cluster: ignored a message that is not ours', payload: payload.slice(0, 200) });
        }
        listener(parsed);
      });
      return unlisten;
    },
    async secret() {
      await sql`INSERT INTO cluster_secret (id, secret) VALUES (1, ${randomBytes(32).toString('base64url')}) ON CONFLICT (id) DO NOTHING`;
      const [r] = await sql<{ secret: string }[]>`SELECT secret FROM cluster_secret WHERE id = 1`;
      if (!r) throw new Error('cluster_secret: no row after insert');
      return r.secret;
    },
  };
}
