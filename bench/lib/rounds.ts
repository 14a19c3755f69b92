/** One piece of work to time, e.g. one parser over the whole corpus. */
export interface Contender {
  name: string;
  /** Untimed set-up before each run (a fresh spool folder), so runs do not inherit each other's state. */
  prepare?(): unknown;
  run(): unknown;
}

export interface RoundsOptions {
  /** Untimed runs first, so the JIT has compiled the hot paths before anything counts. */
  warmup: number;
  rounds: number;
}

export interface Timing {
  /** Milliseconds per run. */
  median: number;
  min: number;
  max: number;
}

/**
 * Times contenders side by side: each runs once per round, and the order rotates between rounds, so a
 * burst of load from a neighbour on a shared machine hits every contender alike instead of one.
 */
export async function timeRounds(contenders: readonly Contender[], options: RoundsOptions): Promise<Map<string, Timing>> {
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const total = options.warmup + options.rounds;
  for (let round = 0; round < total; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[(round + i) % contenders.length]!;
      await c.prepare?.();
      const start = performance.now();
      await c.run();
      const ms = performance.now() - start;
      if (round >= options.warmup) samples.get(c.name)!.push(ms);
    }
  }
  const out = new Map<string, Timing>();
  for (const [name, list] of samples) {
    list.sort((a, b) => a - b);
    out.set(name, { median: median(list), min: list[0]!, max: list[list.length - 1]! });
  }
  return out;
}

function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
