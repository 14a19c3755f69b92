/**
 * Sends at a fixed rate whatever the answers do (an open loop, as independent CRM users do), so a
 * slow answer cannot hide the queueing it causes. Returns each request's latency in ms, sorted.
 */
export async function openLoop(ratePerSecond: number, durationMs: number, send: () => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  let sent = 0;
  let failed: unknown = null;
  while (performance.now() - start < durationMs) {
    const due = Math.floor(((performance.now() - start) * ratePerSecond) / 1000);
    for (; sent < due; sent++) {
      const at = performance.now();
      const p = send().then(
        () => void latencies.push(performance.now() - at),
        (e: unknown) => void (failed ??= e),
      );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    // setTimeout(1) is the finest wait that leaves the core to the answers; due catches up on lateness.
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
  if (failed) throw failed;
  return latencies.sort((a, b) => a - b);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
