import type { Benchmark } from './lib/benchmark.ts';
import type { Child } from './lib/child.ts';
import { RELAY_RATE, measureRelay, reportRelay } from './lib/relay-latency.ts';
import { spawnNode } from './lib/child.ts';
import { BENCH_MAC, amiSession, provisionDevice, spawnAgent, spawnEdge, spawnSim, tempDir, waitOnline, writeAgentConfig } from './lib/stack.ts';

/** The simulator, an agent tunnelled to `edgeUrl`, and a direct AMI session: what a relay bench needs. */
export async function relayStack(edgeUrl: string, dir: string, stop: (() => Promise<void> | void)[]) {
  const sim = await spawnSim();
  stop.push(() => sim.stop());
  const { tenant, token } = await provisionDevice(edgeUrl, BENCH_MAC);
  const agent: Child = await spawnAgent(writeAgentConfig({ dir, amiPort: sim.port, tunnel: { edge: edgeUrl.replace(/^http/, 'ws'), token } }));
  stop.push(() => agent.stop());
  await waitOnline(edgeUrl, BENCH_MAC, tenant.key);
  const direct = await amiSession(sim.port);
  stop.push(() => direct.close());
  return { tenantKey: tenant.key, direct, simPort: sim.port };
}

/** The bare relay of the same processes (bench/lib/bare-relay-child.ts) to the simulator at `simPort`; returns its URL. */
export async function bareRelay(simPort: number, stop: (() => Promise<void> | void)[]): Promise<string> {
  const edge = await spawnNode(['bin/run-ts.js', 'bench/lib/bare-relay-child.ts', 'edge'], { ready: /bare edge listening on (\S+)/ });
  stop.push(() => edge.stop());
  const url = edge.ready[1]!;
  const agent = await spawnNode(['bin/run-ts.js', 'bench/lib/bare-relay-child.ts', 'agent', url.replace(/^http/, 'ws'), String(simPort)], { ready: /bare agent ready/ });
  stop.push(() => agent.stop());
  return url;
}

export const relayBenchmark: Benchmark = {
  name: 'relay',
  description: 'a relayed current-calls (REST -> Node edge -> tunnel -> agent -> AMI -> back) beside the same AMI action sent directly',
  async run(results) {
    const tmp = tempDir('relay');
    const stop: (() => Promise<void> | void)[] = [];
    try {
      const edge = await spawnEdge(`${tmp.dir}/edge`, true);
      stop.push(() => edge.stop());
      const { tenantKey, direct, simPort } = await relayStack(edge.url, `${tmp.dir}/agent`, stop);
      const floorUrl = await bareRelay(simPort, stop);
      const figures = await measureRelay({ edgeUrl: edge.url, mac: BENCH_MAC, tenantKey, direct, rate: RELAY_RATE, floorUrl });
      reportRelay(results, 'relay (Node edge)', figures, { p50: 0.5, p99: 2 });
    } finally {
      for (const s of stop.reverse()) await s();
      tmp.remove();
    }
  },
};
