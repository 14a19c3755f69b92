import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../edge/core/secrets.ts';
import { openSqliteStore } from '../edge/node/sqlite-store.ts';
import { benchMac } from './lib/bench-mac.ts';
import type { Benchmark } from './lib/benchmark.ts';
import { BenchError } from './lib/bench-error.ts';
import { spawnNode, type Child } from './lib/child.ts';
import { spawnEdge, tempDir } from './lib/stack.ts';

const TUNNELS = 10_000;
/** The edge's default heartbeat, which agents follow. */
const HEARTBEAT_MS = 10_000;
/** Two heartbeats of every tunnel. */
const CPU_WINDOW_MS = 20_000;
const SETTLE_MS = 2_000;
const TARGET_RATIO = 1.5;
const TOKEN = 'bench-device-token';
const MIB = 1024 * 1024;

interface Held {
  rss: number;
  cpuMs: number;
}

/** Opens TUNNELS clients from a child process against `server`, then measures the server. */
async function hold(server: Child, wsUrl: string): Promise<Held> {
  const clients = await spawnNode(['bin/run-ts.js', 'bench/lib/tunnel-clients-child.ts', wsUrl, String(TUNNELS), TOKEN, String(HEARTBEAT_MS)], {
    ready: /^open (\d+) failed (\d+)/,
    timeoutMs: 120_000,
  });
  try {
    if (Number(clients.ready[1]) !== TUNNELS) throw new BenchError(`only ${clients.ready[1]} of ${TUNNELS} tunnels opened at ${wsUrl}`);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const cpu0 = server.cpuMs();
    await new Promise((r) => setTimeout(r, CPU_WINDOW_MS));
    return { rss: server.rss(), cpuMs: server.cpuMs() - cpu0 };
  } finally {
    await clients.stop();
  }
}

export const tunnelsBenchmark: Benchmark = {
  name: 'tunnels',
  description: '10,000 agent tunnels (hello, heartbeats) held by one Node edge process, beside a bare ws server',
  async run(results) {
    const tmp = tempDir('tunnels');
    try {
      // Devices go straight into the edge's SQLite file: 10,000 admin calls would time the admin API.
      const dataDir = join(tmp.dir, 'edge');
      mkdirSync(dataDir, { recursive: true });
      const store = openSqliteStore(join(dataDir, 'edge.sqlite'));
      const now = Date.now();
      await store.createTenant({ id: 'tbench', name: 'bench tunnels', createdAt: now });
      const tokenHash = await sha256Hex(TOKEN);
      for (let i = 0; i < TUNNELS; i++) {
        await store.putDevice({ mac: benchMac(i), tenant: 'tbench', tokenHash, url: null, allowUnauthenticated: false, allowWebkey: false, webhookSecret: 'whsec_YmVuY2g=', types: null, createdAt: now });
      }
      store.close();

      const edge = await spawnEdge(dataDir);
      let edgeHeld: Held;
      try {
        edgeHeld = await hold(edge, `${edge.url.replace(/^http/, 'ws')}/agent/tunnel`);
      } finally {
        await edge.stop();
      }
      // Another loopback address, so the first run's TIME_WAIT ports do not limit the second.
      const bare = await spawnNode(['bin/run-ts.js', 'bench/lib/bare-ws-child.ts', '127.0.0.2'], { ready: /ws listening on (\d+)/ });
      let bareHeld: Held;
      try {
        bareHeld = await hold(bare, `ws://127.0.0.2:${bare.ready[1]}/agent/tunnel`);
      } finally {
        await bare.stop();
      }
      const rss = results.add({ name: `tunnels: edge RSS, ${TUNNELS.toLocaleString('en-US')} tunnels`, value: edgeHeld.rss / MIB, unit: 'MiB', baseline: bareHeld.rss / MIB, lowerIsBetter: true });
      results.add({ name: 'tunnels: bare ws server RSS (floor)', value: bareHeld.rss / MIB, unit: 'MiB', lowerIsBetter: true });
      const cpu = results.add({ name: 'tunnels: edge heartbeat CPU', value: (edgeHeld.cpuMs / CPU_WINDOW_MS) * 100, unit: '% of a core', baseline: (bareHeld.cpuMs / CPU_WINDOW_MS) * 100, lowerIsBetter: true });
      results.add({ name: 'tunnels: bare ws server CPU (floor)', value: (bareHeld.cpuMs / CPU_WINDOW_MS) * 100, unit: '% of a core', lowerIsBetter: true });
      results.note(`tunnels: clients in one child process, a heartbeat every ${HEARTBEAT_MS / 1000} s each; RSS ${SETTLE_MS / 1000} s after all opened, CPU over the next ${CPU_WINDOW_MS / 1000} s; ratio = floor / edge (target: edge at most ${TARGET_RATIO}x the floor)`);
      for (const f of [rss, cpu]) if ((f.ratio ?? 0) < 1 / TARGET_RATIO) results.note(`${f.name}: over ${TARGET_RATIO}x the bare ws floor`);
    } finally {
      tmp.remove();
    }
  },
};
