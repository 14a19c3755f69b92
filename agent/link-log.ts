import type { Log } from './log.ts';

/**
 * Logs a connection's ups and downs once per change, not once per retry: an agent that cannot reach
 * Asterisk for an hour writes two lines (down, with why; up again, after how long), plus one more
 * whenever the reason it is down changes (refused, then wrong secret).
 */
export function linkLogger(log: Log, what: string, now: () => number) {
  let up: boolean | null = null;
  let downSince = 0;
  let lastReason: string | undefined;
  return (isUp: boolean, reason?: string, detail: Record<string, unknown> = {}) => {
    if (isUp) {
      if (up === true) return;
      log({ msg: `${what} up`, ...(up === false ? { downForMs: now() - downSince } : {}), ...detail });
      up = true;
      lastReason = undefined;
      return;
    }
    if (up === false && reason === lastReason) return;
    if (up !== false) downSince = now();
    log({ level: up === null ? 'info' : 'warn', msg: `${what} down; retrying until it is back`, ...(reason ? { reason } : {}), ...detail });
    up = false;
    lastReason = reason;
  };
}
