/**
 * What one POST's result means for the queue. Pure, so the rules of the delivery contract
 * (docs/api.md "Delivery", docs/webhooks.md) are tested on their own.
 */
export type AttemptOutcome =
  | { kind: 'delivered'; status: number }
  /**
   * Receiver down, overloaded or slow: the whole queue waits, in order. `fault` says whether the
   * receiver answered an error (5xx), took too long, or could not be reached at all.
   */
  | { kind: 'retry'; status?: number; message: string; retryAfterMs?: number; fault: 'status' | 'timeout' | 'unreachable' }
  /** The receiver refuses this event; three in a row set it aside. */
  | { kind: 'rejected'; status: number; message: string }
  /**
   * Delivery to this URL cannot work until someone changes it: 410 Gone (nobody there any more) or
   * a 3xx redirect (never followed: a redirected POST becomes a GET). Stop until the URL changes.
   */
  | { kind: 'stop'; status: number; message: string };

export function classifyResponse(status: number, statusText: string, retryAfterMs: number | null, location: string | null = null): AttemptOutcome {
  const message = `receiver answered ${status}${statusText ? ` ${statusText}` : ''}`;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status === 410) return { kind: 'stop', status, message: `${message}: nobody takes events at this URL any more; set a new one` };
  if (status >= 300 && status < 400) {
    const to = location ? `, redirecting to ${redactUrl(location)}` : ' without a Location';
    return { kind: 'stop', status, message: `${message}${to}: webhooks do not follow redirects (a redirected POST becomes a GET); set the URL to where it points` };
  }
  if ((status === 429 || status === 503) && retryAfterMs !== null) return { kind: 'retry', status, message, retryAfterMs, fault: 'status' };
  // 408 and 429 are the receiver's load, not the event's fault.
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { kind: 'rejected', status, message };
  return { kind: 'retry', status, message, fault: 'status' };
}

/** Receiver URLs may carry a token in the query or userinfo; logs and status get the origin and path only. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.origin + u.pathname;
  } catch {
    return '(invalid url)';
  }
}
