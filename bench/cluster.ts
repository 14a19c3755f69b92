import postgres from 'postgres';
import type { Benchmark } from './lib/benchmark.ts';
import { spawnReceiver } from './lib/receiver-process.ts';
import { percentile } from './lib/open-loop.ts';
import { measureRelay, reportRelay } from './lib/relay-latency.ts';
import type { Results } from './lib/results.ts';
import { BENCH_MAC, spawnEdge, tempDir, waitOnline } from './lib/stack.ts';
import { DEVICES, eventsPerSecond, fetchFloor, measureEdgeEvents, reportEdgeEvents } from './edge-events.ts';
import { relayStack } from './relay.ts';
import { startNginx } from '../test/support/nginx.ts';
import { startPostgres } from '../test/support/postgres.ts';

const INSTANCES = 3;
/** As deploy/nginx-edge.conf ships: a device's tunnel and API calls go to one instance, its home. */
const BALANCE = 'mac';
/**
 * The relay bench's 1,000/s to one device saturates an edge on PostgreSQL on these two cores (seconds
 * at p50, sockets reset): each request waits on three round trips to the database, four when
 * forwarded. 200/s, as the workers bench, every side sustains; the SQLite edge is run at it too.
 */
const RATE = 200;

/** The forwarded relay's rows: beside the direct action, as the relay bench's, and beside the home's. */
function reportForwarded(results: Results, label: string, forwarded: number[], home: number[]): void {
  for (const p of [50, 99]) {
    const f = percentile(forwarded, p);
    const h = percentile(home, p);
    results.add({ name: `${label}: p${p} beside the request sent to the home`, value: f, unit: 'ms', baseline: h, lowerIsBetter: true });
    results.add({ name: `${label}: forwarding adds at p${p}`, value: f - h, unit: 'ms', lowerIsBetter: true });
  }
}

/** How many devices each instance is home to, from the cluster's table. */
async function homesPerInstance(databaseUrl: string): Promise<number[]> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM cluster_homes GROUP BY instance ORDER BY n DESC`;
    return rows.map((r) => r.n);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * Issue 18: several Node edges on one PostgreSQL. The relay to a device's home and to another
 * instance (which forwards it there over HTTP), and events/s through three instances behind nginx
 * against one, each beside its floor and the single SQLite edge in the same run.
 */
export const clusterBenchmark: Benchmark = {
  name: 'cluster',
  description: 'relayed current-calls to a cluster member that forwards it to the home, and events/s through 3 Node edges on one PostgreSQL against 1, beside SQLite and the floors',
  async run(results) {
    const tmp = tempDir('cluster');
    const stop: (() => Promise<void> | void)[] = [];
    try {
      const pg = await startPostgres();
      stop.push(() => pg.close());
      results.note(`cluster: PostgreSQL ${pg.version} of the bench's own on 127.0.0.1 (defaults: fsync on, synchronous_commit on), started in ${pg.startedInMs} ms`);

      // Relay: two instances on one database, the agent's tunnel on the first (its home); the
      // SQLite edge with an agent of its own; all sides interleaved with the direct action.
      {
        const inner: (() => Promise<void> | void)[] = [];
        try {
          const db = await pg.createDatabase();
          const home = await spawnEdge(`${tmp.dir}/relay-home`, true, db);
          inner.push(() => home.stop());
          const other = await spawnEdge(`${tmp.dir}/relay-other`, true, db);
          inner.push(() => other.stop());
          const sqlite = await spawnEdge(`${tmp.dir}/relay-sqlite`, true);
          inner.push(() => sqlite.stop());
          const { tenantKey, direct } = await relayStack(home.url, `${tmp.dir}/agent-pg`, inner);
          await waitOnline(other.url, BENCH_MAC, tenantKey);
          const lite = await relayStack(sqlite.url, `${tmp.dir}/agent-sqlite`, inner);
          const figures = await measureRelay({
            edgeUrl: home.url,
            mac: BENCH_MAC,
            tenantKey,
            direct,
            rate: RATE,
            routes: {
              forwarded: { edgeUrl: other.url, mac: BENCH_MAC, tenantKey },
              sqlite: { edgeUrl: sqlite.url, mac: BENCH_MAC, tenantKey: lite.tenantKey },
            },
          });
          const forwarded = figures.routes!.forwarded!;
          reportRelay(results, `cluster relay at ${RATE}/s (PostgreSQL, sent to the home)`, figures);
          reportRelay(results, `cluster relay at ${RATE}/s (PostgreSQL, sent to another instance, forwarded)`, { ...figures, relayed: forwarded });
          reportForwarded(results, `cluster relay at ${RATE}/s forwarded`, forwarded, figures.relayed);
          reportRelay(results, `cluster relay at ${RATE}/s (SQLite, one edge)`, { ...figures, relayed: figures.routes!.sqlite! });
        } finally {
          for (const s of inner.reverse()) await s();
        }
      }

      // Events: the same 100 devices and receiver, through one SQLite edge, one PostgreSQL
      // instance, and three instances behind nginx, each on a fresh database.
      const receiver = await spawnReceiver();
      stop.push(() => receiver.stop());
      const floor = await fetchFloor(receiver);
      {
        const edge = await spawnEdge(`${tmp.dir}/events-sqlite`);
        try {
          reportEdgeEvents(results, 'cluster events (SQLite, one edge)', await measureEdgeEvents(edge.url, receiver, tmp.dir), floor);
        } finally {
          await edge.stop();
        }
      }
      {
        const edge = await spawnEdge(`${tmp.dir}/events-pg1`, false, await pg.createDatabase());
        try {
          reportEdgeEvents(results, 'cluster events (PostgreSQL, one instance)', await measureEdgeEvents(edge.url, receiver, tmp.dir), floor);
        } finally {
          await edge.stop();
        }
      }
      {
        const db = await pg.createDatabase();
        const edges: Awaited<ReturnType<typeof spawnEdge>>[] = [];
        try {
          for (let i = 0; i < INSTANCES; i++) edges.push(await spawnEdge(`${tmp.dir}/events-pg3-${i}`, false, db));
          const lb = await startNginx({ upstreams: edges.map((e) => Number(new URL(e.url).port)), balance: BALANCE });
          try {
            const run = await measureEdgeEvents(lb.url, receiver, tmp.dir);
            reportEdgeEvents(results, `cluster events (PostgreSQL, ${INSTANCES} instances behind nginx)`, run, floor);
            const homes = await homesPerInstance(db);
            results.note(`cluster events: nginx balances on the device's MAC (deploy/nginx-edge.conf as shipped); the ${DEVICES} devices' homes per instance: ${homes.join(' / ')}`);
          } finally {
            await lb.close();
          }
        } finally {
          for (const e of edges) await e.stop();
        }
      }
      results.add({ name: 'cluster events: 100 POST loops, no edge (floor)', value: eventsPerSecond(floor), unit: 'events/s' });
      results.note(
        'cluster relay: one agent tunnelled to the home instance; "forwarded" is the same request sent to the other instance on the same database, which forwards it to the home over HTTP; ' +
          'the SQLite edge has an agent and simulator of its own; all four sides interleaved in the same slices; "forwarding adds" = forwarded pXX - home pXX',
      );
      results.note('cluster events: one run each, same receiver and floor; instances run the edge bin (default rate limits, lease 6 s), each in a child of its own');
    } finally {
      for (const s of stop.reverse()) await s();
      tmp.remove();
    }
  },
};
