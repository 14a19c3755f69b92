import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { ADMIN_KEY } from '../support/edge-harness.ts';
import { freePort } from '../support/free-port.ts';
import { startNginx, type Nginx } from '../support/nginx.ts';
import type { Postgres } from '../support/postgres.ts';
import { until } from '../support/wait.ts';
import type { EdgeRuntime, FaultEdge } from './edges.ts';

const BIN = fileURLToPath(new URL('../../bin/coocenter-edge.js', import.meta.url));
/** What each edge's output keeps for a failure message (the last so many characters). */
const LOG_KEEP = 400_000;

/** Every edge process any cluster started: a test process that dies without its cleanup takes them along. */
const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of started) p.kill('SIGKILL');
});

/** One `coocenter-edge` process of the cluster, with what it printed. */
export interface EdgeProcess {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** Its exit: code and signal, or null while it runs. */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  /** What it printed on stdout and stderr, the last LOG_KEEP characters. */
  output(): string;
}

/** The cluster behind the stack's edge: the faults a row injects into it, and what it can tell. */
export interface ClusterFaultEdge extends FaultEdge {
  readonly instances: readonly EdgeProcess[];
  /** The URL of the instance the store names as `mac`'s home, or null if none (or the store is down). */
  homeOf(mac: string): Promise<string | null>;
  /** SIGKILL to the instance that is `mac`'s home now; resolves with it once it is gone. */
  killHome(mac: string): Promise<EdgeProcess>;
  /**
   * PostgreSQL stopped (fast shutdown), `downMs` down, started again on the same datadir; resolves
   * with how long the stop and the start took (ms).
   */
  restartStore(downMs: number): Promise<{ stopMs: number; startMs: number }>;
  /** Every instance's output, for a failure message. */
  logs(): string;
}

export interface ClusterOptions {
  /** The file's PostgreSQL (one per file; each row gets a database of its own). */
  pg: () => Postgres;
  instances: number;
  /** `--lease` in seconds: how long a dead home keeps its devices. */
  leaseSec: number;
}

function spawnEdge(databaseUrl: string, port: number, leaseSec: number): Promise<EdgeProcess & { child: ChildProcess }> {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [BIN, '--store', databaseUrl, '--port', String(port), '--host', '127.0.0.1', '--lease', String(leaseSec), '--advertise-url', url], {
    env: { ...process.env, COOCENTER_ADMIN_KEY: ADMIN_KEY, COOCENTER_DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-LOG_KEEP);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exit: EdgeProcess['exit'] = null;
  child.once('exit', (code, signal) => {
    exit = { code, signal };
    started.delete(child);
  });
  const edge = {
    port,
    url,
    pid: child.pid!,
    child,
    get exit() {
      return exit;
    },
    output: () => out,
  };
  return until(
    () => {
      if (exit) throw new Error(`edge on :${port} exited (${exit.code ?? exit.signal}) before listening:\n${out}`);
      return out.includes('edge listening on');
    },
    `the edge on :${port} listening`,
    30_000,
  ).then(
    () => edge,
    (e: unknown) => {
      child.kill('SIGKILL');
      throw new Error(`${(e as Error).message}\n${out}`);
    },
  );
}

async function stopEdge(p: EdgeProcess & { child: ChildProcess }): Promise<void> {
  if (p.exit) return;
  const gone = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

/**
 * `instances` edge processes (`bin/coocenter-edge.js --store postgres://...`, so a SIGKILL is a real
 * one) on one fresh database of the file's PostgreSQL, behind Debian's nginx with the shipped
 * deploy/nginx-edge.conf hashing on the MAC, so a device's tunnel and its API calls go to one instance.
 * The processes run on real time: no scenario clock, rate limits and command timeout their defaults.
 */
export function clusterEdge(o: ClusterOptions): EdgeRuntime & { readonly current: ClusterFaultEdge } {
  let current: ClusterFaultEdge | null = null;
  return {
    suffix: ` (${o.instances} edges on PostgreSQL)`,
    scenarioClock: false,
    /** The cluster started last (still there once closed, for its output on a failed row). */
    get current(): ClusterFaultEdge {
      if (!current) throw new Error('no cluster started');
      return current;
    },
    async start() {
      const pg = o.pg();
      const databaseUrl = await pg.createDatabase();
      const ports = await Promise.all(Array.from({ length: o.instances }, () => freePort()));
      const settled = await Promise.allSettled(ports.map((p) => spawnEdge(databaseUrl, p, o.leaseSec)));
      const edges = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) {
        await Promise.all(edges.map(stopEdge));
        throw (failed as PromiseRejectedResult).reason;
      }
      let lb: Nginx;
      try {
        lb = await startNginx({ upstreams: ports, balance: 'mac' });
      } catch (e) {
        await Promise.all(edges.map(stopEdge));
        throw e;
      }
      // The row's own database, over TCP as the edges' role: reconnects after a store restart.
      const sql = postgres(databaseUrl, { max: 1, connect_timeout: 2, onnotice: () => {} });
      const logs = () => edges.map((e) => `--- edge :${e.port} (pid ${e.pid}, ${e.exit ? `exited ${e.exit.code ?? e.exit.signal}` : 'running'})\n${e.output()}`).join('\n');
      const cluster: ClusterFaultEdge = {
        url: lb.url,
        port: lb.port,
        instances: edges,
        async homeOf(mac) {
          const rows = await sql<{ url: string }[]>`SELECT i.url FROM cluster_homes h JOIN cluster_instances i ON i.id = h.instance WHERE h.mac = ${mac}`.catch(() => []);
          return rows[0]?.url ?? null;
        },
        async killHome(mac) {
          const url = await until(() => cluster.homeOf(mac), `a home for ${mac} in the store`, 10_000);
          const home = edges.find((e) => e.url.replace(/\/$/, '') === url.replace(/\/$/, ''));
          if (!home) throw new Error(`the store names ${url} as ${mac}'s home, none of ${edges.map((e) => e.url).join(', ')}`);
          const gone = new Promise((r) => home.child.once('exit', r));
          home.child.kill('SIGKILL');
          await gone;
          return home;
        },
        async restartStore(downMs) {
          const t0 = Date.now();
          await pg.stop();
          const stopMs = Date.now() - t0;
          await new Promise((r) => setTimeout(r, downMs));
          const t1 = Date.now();
          await pg.start();
          return { stopMs, startMs: Date.now() - t1 };
        },
        logs,
        async restart(downMs) {
          // The whole cluster: every instance stopped, then started again on its port and the same database.
          await Promise.all(edges.map(stopEdge));
          await new Promise((r) => setTimeout(r, downMs));
          const again = await Promise.all(ports.map((p) => spawnEdge(databaseUrl, p, o.leaseSec)));
          edges.splice(0, edges.length, ...again);
        },
        async close() {
          await Promise.all(edges.map(stopEdge));
          await lb.close();
          await sql.end({ timeout: 1 });
        },
      };
      current = cluster;
      return cluster;
    },
  };
}
