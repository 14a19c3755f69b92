/**
 * What one POST's result means for the queue. Pure, so the rules of the contract (SPEC "Delivery")
 * are tested on their own.
 */
export type AttemptOutcome =
  | { kind: 'delivered'; status: number }
  /** Receiver down, overloaded or slow: the whole queue waits, in order. */
  | { kind: 'retry'; status?: number; message: string; retryAfterMs?: number }
  /** The receiver refuses this event; three in a row set it aside. */
  | { kind: 'rejected'; status: number; message: string }
  /** 410 Gone: nobody is there any more, stop until the URL changes. */
  | { kind: 'gone'; status: 410; message: string };

export function classifyResponse(status: number, statusText: string, retryAfterMs: number | null): AttemptOutcome {
  const message = `receiver answered ${status}${statusText ? ` ${statusText}` : ''}`;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status === 410) return { kind: 'gone', status, message };
  if ((status === 429 || status === 503) && retryAfterMs !== null) return { kind: 'retry', status, message, retryAfterMs };
  // 408 and 429 are the receiver's load, not the event's fault; 3xx is not followed (a redirected POST
  // turns into a GET), so it waits for someone to fix the URL like a 5xx does.
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { kind: 'rejected', status, message };
  return { kind: 'retry', status, message };
}
