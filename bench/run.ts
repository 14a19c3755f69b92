import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { BenchError } from './lib/bench-error.ts';
import type { Benchmark } from './lib/benchmark.ts';
import { Results } from './lib/results.ts';
import { agentRssBenchmark } from './agent-rss.ts';
import { clusterBenchmark } from './cluster.ts';
import { deliveryBenchmark } from './delivery.ts';
import { edgeEventsBenchmark } from './edge-events.ts';
import { eventsBenchmark } from './events.ts';
import { faultsRealBenchmark } from './faults-real.ts';
import { parserBenchmark } from './parser.ts';
import { relayBenchmark } from './relay.ts';
import { tunnelsBenchmark } from './tunnels.ts';
import { workersBenchmark } from './workers.ts';

const BENCHMARKS: readonly Benchmark[] = [parserBenchmark, eventsBenchmark, deliveryBenchmark, agentRssBenchmark, relayBenchmark, tunnelsBenchmark, edgeEventsBenchmark, faultsRealBenchmark, workersBenchmark, clusterBenchmark];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((n) => !BENCHMARKS.some((b) => b.name === n));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const selected = wanted.length > 0 ? BENCHMARKS.filter((b) => wanted.includes(b.name)) : BENCHMARKS;

const results = new Results();
console.log(`node ${process.version} on ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores`);
// A benchmark that fails (a child that died, an answer that was not the relay's) costs its own
// figures, not those of the others: a full run takes a quarter of an hour.
const failed: string[] = [];
for (const b of selected) {
  console.log(`running ${b.name}: ${b.description}`);
  try {
    await b.run(results);
  } catch (err) {
    console.error(`${b.name} failed: ${err instanceof BenchError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    results.note(`${b.name}: failed, so its figures are missing: ${err instanceof Error ? err.message : String(err)}`);
    failed.push(b.name);
  }
}
console.log('\n' + results.table());
const out = fileURLToPath(new URL('./results.json', import.meta.url));
results.write(out);
console.log(`\nwrote ${out}`);
if (failed.length > 0) {
  console.error(`bench failed: ${failed.join(', ')}`);
  process.exit(1);
}
