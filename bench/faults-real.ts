import { callStream, drained, rowOf, startStack } from '../test/faults/stack.ts';
import { until } from '../test/support/wait.ts';
import { BenchError } from './lib/bench-error.ts';
import type { Benchmark } from './lib/benchmark.ts';
import type { Results } from './lib/results.ts';

const FAULT_MS = 120_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The tunnel black-holed for 2 minutes under a steady stream of calls, through the Node edge, on a
 * given time scale; returns the faults suite's row (recovery in seconds on the scenario's clock).
 */
async function blackHole(scale: number) {
  const stack = await startStack({ scale, via: 'edge' });
  try {
    await until(() => stack.agent.tunnel?.status === 'online', 'the tunnel online');
    const calls = callStream(stack);
    await sleep(600);
    stack.proxy.blackHole();
    await until(() => stack.agent.tunnel?.status !== 'online', 'the agent to notice the silence', FAULT_MS * scale);
    await sleep(FAULT_MS * scale);
    stack.proxy.heal();
    const healedAt = Date.now();
    await sleep(400);
    await calls.stop();
    await drained(stack, 120_000);
    return rowOf(stack, 'tunnel cut: black hole, 2 min', { sent: 0, ok: 0 }, Date.now() - healedAt);
  } finally {
    await stack.close();
  }
}

/** The slow one: the long fault the faults suite runs at 1/20 speed, once in real time. */
export const faultsRealBenchmark: Benchmark = {
  name: 'faults-real',
  description: 'tunnel black hole for 2 real minutes under calls (about 2.5 min); baseline: the same fault at time scale 0.05',
  async run(results: Results) {
    const scaled = await blackHole(0.05);
    const real = await blackHole(1);
    if (scaled.lost > 0 || real.lost > 0) throw new BenchError(`events lost: ${real.lost} in real time, ${scaled.lost} scaled`);
    results.add({ name: 'faults-real: black hole 2 min, recovery', value: real.recoverySec ?? 0, unit: 's', baseline: scaled.recoverySec ?? 0, lowerIsBetter: true });
    results.add({ name: 'faults-real: black hole 2 min, events lost', value: real.lost, unit: `events of ${real.generated} (lower is better)` });
    results.note(`faults-real: ${real.delivered}/${real.generated} delivered, ${real.duplicated} duplicated, ${real.outOfOrder} out of order in real time; the scaled run's recovery (${scaled.recoverySec} s on its clock) is the baseline`);
  },
};
