import type { Results } from './results.ts';

/** A benchmark file exports one of these; bench/run.ts runs it by name. */
export interface Benchmark {
  name: string;
  description: string;
  run(results: Results): Promise<void>;
}
