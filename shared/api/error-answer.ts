import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError } from '../errors.ts';
import { RateLimitedError } from '../http/rate-limit.ts';

export interface ErrorAnswer {
  status: number;
  body: { status: 'error'; message: string };
  headers: Record<string, string>;
}

export interface ErrorContext {
  log(entry: Record<string, unknown>): void;
  /** Quoted in a 500, so the operator finds the log line. */
  requestId: string;
  /** What the log line says about where it happened (method, path, ...). */
  where?: Record<string, unknown>;
}

/**
 * The one place an error becomes what a caller reads, on the agent and both edges: an ApiError's
 * status and words (with `Retry-After` on 429); anything else is our bug, logged with its stack and
 * answered 500 with a request id to quote (docs/api.md "Errors").
 */
export function errorAnswer(err: unknown, o: ErrorContext): ErrorAnswer {
  if (err instanceof ApiError) {
    return { status: err.status, body: err.toBody(), headers: err instanceof RateLimitedError ? { 'Retry-After': String(err.retryAfterSec) } : {} };
  }
  o.log({
    level: 'error',
    msg: 'unexpected error',
    requestId: o.requestId,
    ...o.where,
    error: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error ? err.stack : undefined,
  });
  return { status: 500, body: { status: 'error', message: `internal error; quote request id ${o.requestId} when reporting it` }, headers: {} };
}

/** The same, as a Response, where there is no Hono context (a refused tunnel upgrade). */
export function errorResponse(err: unknown, o: ErrorContext): Response {
  const a = errorAnswer(err, o);
  return Response.json(a.body, { status: a.status, headers: a.headers });
}

/**
 * Hono's `onError` for an app: the headers the request already got (CORS, request id) are kept.
 * `requestIdOf` names the request as the app's log does; without it a 500 gets an id of its own.
 */
export function onApiError(o: { log: ErrorContext['log']; requestIdOf?(c: Context): string }) {
  return (err: Error, c: Context): Response => {
    const requestId = o.requestIdOf?.(c) ?? crypto.randomUUID();
    const a = errorAnswer(err, { log: o.log, requestId, where: { method: c.req.method, path: c.req.path } });
    return c.json(a.body, a.status as ContentfulStatusCode, a.headers);
  };
}
