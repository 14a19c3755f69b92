/**
 * Time as everything that waits sees it: delivery retries, reconnect backoff, heartbeats, wrap-up.
 * All of it goes through `setTimer`, so tests can run hours of retry schedule in seconds.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Runs fn after ms; the returned function cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    // A pending retry must not keep a process alive on its own (Node; Workers have no unref).
    (t as { unref?: () => void }).unref?.();
    return () => clearTimeout(t);
  },
};

/**
 * A clock whose time runs `1 / scale` times as fast as real time: with scale 0.0001 a 10 h retry
 * delay takes 3.6 real seconds, and `now()` has moved 10 h as well.
 */
export function scaledClock(scale: number, real: Clock = systemClock): Clock {
  if (!(scale > 0)) throw new RangeError(`scale must be > 0, got ${scale}`);
  const start = real.now();
  const now = () => start + (real.now() - start) / scale;
  return {
    now,
    setTimer(ms, fn) {
      // Real timers may fire a millisecond early against the wall clock (Node arms them on its loop's
      // cached time), which at a small scale is many scaled seconds: re-arm until the time has come.
      const due = now() + ms;
      let cancel = () => {};
      const arm = (wait: number) => {
        cancel = real.setTimer(Math.max(wait * scale, 1), () => {
          const left = due - now();
          if (left > 0) arm(left);
          else fn();
        });
      };
      arm(ms);
      return () => cancel();
    },
  };
}
