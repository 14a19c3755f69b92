import { join } from 'node:path';
import type { Benchmark } from './lib/benchmark.ts';
import type { Child } from './lib/child.ts';
import { busiestShares, formatShares, readProfile } from './lib/cpu-profile.ts';
import { openLoop } from './lib/open-loop.ts';
import { RELAY_RATE, measureRelay, relayedVia, reportRelay } from './lib/relay-latency.ts';
import type { Results } from './lib/results.ts';
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

interface LoopStats {
  loopP99: number;
  loopMax: number;
  stallsOver10ms: number;
  gcCount: number;
  gcMs: number;
  gcMax: number;
  majorGcCount: number;
  majorGcMax: number;
}

/** How late the edge child's event loop ran, and GC's share, since the last call (bench/lib/edge-child.ts). */
function loopStats(edge: Child): Promise<LoopStats> {
  const got = new Promise<LoopStats>((resolve) => {
    edge.onLine((line) => {
      if (line.startsWith('loop ')) resolve(JSON.parse(line.slice(5)) as LoopStats);
    });
  });
  edge.proc.kill('SIGUSR2');
  return got;
}

const PROFILED_MS = 4000;

/**
 * Where the edge's own part of a relay goes: a second edge, profiled (the measured one is not, so
 * the profiler costs its figures nothing), relaying alone at the same rate.
 */
async function explainRelay(results: Results, dir: string, cpuUsPerRequest: number): Promise<void> {
  const profDir = join(dir, 'prof');
  const stop: (() => Promise<void> | void)[] = [];
  try {
    const edge = await spawnEdge(join(dir, 'profiled-edge'), true, undefined, profDir);
    stop.push(() => edge.stop());
    const { tenantKey } = await relayStack(edge.url, join(dir, 'profiled-agent'), stop);
    await openLoop(RELAY_RATE, PROFILED_MS, relayedVia({ edgeUrl: edge.url, mac: BENCH_MAC, tenantKey }));
  } finally {
    for (const s of stop.reverse()) await s();
  }
  // The edge relaying 1,000/s is busy about half of each quarter-second.
  const { windowMs, shares } = busiestShares(readProfile(profDir), 0.9);
  results.note(
    `relay (Node edge): the edge's own part, ${cpuUsPerRequest.toFixed(0)} us of CPU per relayed request in the measured run, profiled over its busiest ${(windowMs / 1000).toFixed(1)} s ` +
      `of a second run at ${RELAY_RATE}/s (bench/lib/cpu-profile.ts): ${formatShares(shares)} (bench/README.md, "Where the Node edge's time goes")`,
  );
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
      await loopStats(edge);
      const cpuBefore = edge.cpuMs();
      const figures = await measureRelay({ edgeUrl: edge.url, mac: BENCH_MAC, tenantKey, direct, rate: RELAY_RATE, floorUrl });
      // The edge only heartbeats while the direct and bare-relay slices run.
      const cpuUsPerRequest = ((edge.cpuMs() - cpuBefore) * 1000) / figures.relayed.length;
      const loop = await loopStats(edge);
      reportRelay(results, 'relay (Node edge)', figures, { p50: 0.5, p99: 2 });
      results.note(
        `relay (Node edge): over the whole run the edge's event loop was late by more than 10 ms about ${loop.stallsOver10ms} times (p99 ${loop.loopP99.toFixed(1)} ms, ` +
          `max ${loop.loopMax.toFixed(1)} ms); GC held it ${loop.gcCount} times, ${loop.gcMs.toFixed(0)} ms in all, the longest ${loop.gcMax.toFixed(1)} ms ` +
          `(${loop.majorGcCount} full collections, the longest ${loop.majorGcMax.toFixed(1)} ms): ` +
          'a stall longer than any GC is the edge waiting for a core',
      );
      for (const s of stop.splice(0).reverse()) await s();
      await explainRelay(results, tmp.dir, cpuUsPerRequest);
    } finally {
      for (const s of stop.reverse()) await s();
      tmp.remove();
    }
  },
};
