/**
 * Simulated time. Phone delays, Wait() and ring timeouts are written in simulated milliseconds; with
 * timeScale 0.02 a 1.5 s ring takes 30 real ms. `now()` runs fast by the same factor, so the durations
 * that events report (HoldTime, TalkTime, Cdr Duration, RingTime) come out in simulated seconds.
 */
export interface SimTimer {
  cancel(): void;
}

export interface SimClock {
  /** Simulated epoch milliseconds. */
  now(): number;
  /** Runs fn after simMs of simulated time. */
  after(simMs: number, fn: () => void): SimTimer;
}

export interface RealTime {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const NODE_TIME: RealTime = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export function scaledClock(timeScale: number, real: RealTime = NODE_TIME): SimClock {
  if (!(timeScale > 0)) throw new RangeError(`timeScale must be > 0, got ${timeScale}`);
  const realStart = real.now();
  return {
    now: () => realStart + (real.now() - realStart) / timeScale,
    after(simMs, fn) {
      const handle = real.setTimeout(fn, Math.max(0, simMs * timeScale));
      return { cancel: () => real.clearTimeout(handle) };
    },
  };
}
