import type { Benchmark } from './lib/benchmark.ts';
import type { Child } from './lib/child.ts';
import { RELAY_RATE, measureRelay, reportRelay } from './lib/relay-latency.ts';
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
  return { tenantKey: tenant.key, direct };
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
      const { tenantKey, direct } = await relayStack(edge.url, `${tmp.dir}/agent`, stop);
      const figures = await measureRelay({ edgeUrl: edge.url, mac: BENCH_MAC, tenantKey, direct, rate: RELAY_RATE });
      reportRelay(results, 'relay (Node edge)', figures, { p50: 0.5, p99: 2 });
    } finally {
      for (const s of stop.reverse()) await s();
      tmp.remove();
    }
  },
};
