/** One webhook POST as delivery sends it. */
export interface WebhookRequest {
  method: 'POST';
  headers?: Record<string, string>;
  body: string;
  signal?: AbortSignal;
  /** A redirected POST becomes a GET: delivery never follows one (attempt-outcome.ts). */
  redirect?: 'manual';
}

/** What delivery reads of the answer: the status and two headers. */
export interface WebhookAnswer {
  status: number;
  statusText: string;
  headers: { get(name: string): string | null };
  /** Cancelled unread when there is one. */
  body?: { cancel(): Promise<unknown> } | null;
}

/**
 * How webhooks go out. `fetch` is one (Workers, tests); shared/node/http-post.ts is the Node one,
 * which builds none of fetch's WHATWG objects.
 */
export type WebhookFetch = (url: string, init: WebhookRequest) => Promise<WebhookAnswer>;
