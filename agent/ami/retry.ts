/** Milliseconds to wait before reconnect attempt `attempt` (1-based), or null to stop. */
export type RetryStrategy = (attempt: number) => number | null;

/**
 * Capped exponential backoff with jitter: 0.5 s, 1 s, 2 s ... up to 30 s, each drawn from the upper
 * half of its window so a fleet of agents restarted together does not reconnect in lockstep.
 * It never gives up: a PBX agent that stops retrying AMI is a silent outage.
 */
export function defaultRetryStrategy(random: () => number = Math.random, capMs = 30_000, baseMs = 500): RetryStrategy {
  return (attempt) => {
    const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt - 1, 16));
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  };
}
