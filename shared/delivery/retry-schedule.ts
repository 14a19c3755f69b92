const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Waits after the 1st, 2nd, ... failed attempt (the first attempt is immediate), as Svix and Standard
 * Webhooks schedule them. After the last step it keeps retrying every 10 h: an event is never dropped
 * because the receiver was down for long.
 */
export const RETRY_STEPS_MS: readonly number[] = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];

/** ±10 %, so many devices whose receiver came back together do not retry in lockstep. */
const JITTER = 0.1;

/** Milliseconds to wait after `failedAttempts` (>= 1) failed attempts of the same event. */
export function retryDelayMs(failedAttempts: number, random: () => number = Math.random): number {
  const step = RETRY_STEPS_MS[Math.min(Math.max(failedAttempts, 1), RETRY_STEPS_MS.length) - 1]!;
  return Math.round(step * (1 - JITTER + 2 * JITTER * random()));
}
