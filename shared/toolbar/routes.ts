import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { onApiError } from '../api/error-answer.ts';
import { textResponse } from '../api/reference.ts';
import { serve, type Security } from '../api/route.ts';
import { ApiError } from '../errors.ts';
import { readRequestParams } from '../http/request-params.ts';
import type { ToolbarFeed } from './feed.ts';
import { TOOLBAR_PAGE } from './page.ts';
import { issueToolbarToken, TokenAnswer, TokenRequest, verifyToolbarToken, type ToolbarKey } from './token.ts';

export interface ToolbarRoutesOptions {
  /** The addressed device's MAC (the agent's own, or the edge's `:mac`). */
  mac(c: Context): string;
  /** The device's token signing key. */
  key(c: Context): ToolbarKey | Promise<ToolbarKey>;
  /** The addressed device's feed; the edge throws NOT_FOUND for a device it does not know. */
  feed(c: Context): ToolbarFeed | Promise<ToolbarFeed>;
  now(): number;
  /** Where tokens are issued, relative to where these routes are mounted. */
  tokenPath: string;
  /** Who may ask for a token (WEBKEY on the agent, the device's tenant on the edge); throws 401/403. */
  authorizeIssue(c: Context): Promise<void> | void;
  log(entry: Record<string, unknown>): void;
  /** The request's id as the app logs it, quoted in a 500. */
  requestIdOf?(c: Context): string;
  /** For /openapi.json: who may issue tokens and what else the routes may answer (the edge: unknown device). */
  docs: { tokenSecurity: Security; tokenErrors: Record<number, string>; streamErrors: Record<number, string> };
}

const TOOLBAR = { tags: ['toolbar'] } as const;

/**
 * The toolbar's routes, mounted by the agent at `/` and by the edge at `/devices/:mac`: the page
 * (`GET /toolbar`), its Server-Sent Events (`GET /toolbar/stream`) and token issuing. EventSource
 * cannot send headers, so the stream takes the token in `?token=` (request logs record paths only).
 */
export function createToolbarRoutes(opts: ToolbarRoutesOptions): Hono {
  const app = new Hono();
  app.onError(onApiError({ log: opts.log, ...(opts.requestIdOf ? { requestIdOf: opts.requestIdOf } : {}) }));

  const page = { ...TOOLBAR, method: 'get', path: '/toolbar', operationId: 'toolbarPage', summary: 'The agent toolbar (docs/toolbar.md); signs in with a toolbar token in the URL fragment', responses: { 200: textResponse('text/html', 'the page') } } as const;
  serve(app, page, (c) =>
    c.html(TOOLBAR_PAGE, 200, {
      'Cache-Control': 'no-cache',
      'X-Frame-Options': 'SAMEORIGIN',
      // The screen pop opens the CRM: it must not learn the toolbar's address.
      'Referrer-Policy': 'no-referrer',
    }),
  );

  const stream = {
    ...TOOLBAR,
    method: 'get',
    path: '/toolbar/stream',
    operationId: 'toolbarStream',
    summary: "Server-Sent Events of one extension's calls, pauses, queue log in/out and wrap-up (token in ?token=)",
    query: z.object({ token: z.string().optional().meta({ description: 'the toolbar token (EventSource cannot send headers); without one, 401' }) }),
    responses: { 200: textResponse('text/event-stream', 'the event stream') },
    errors: { 401: 'toolbar token missing, expired or for another device', ...opts.docs.streamErrors },
  } as const;
  serve(app, stream, async (c, input) => {
    const claims = await verifyToolbarToken(await opts.key(c), input.query().token ?? '', opts.mac(c), opts.now());
    const feed = await opts.feed(c);
    const body = feed.stream(claims.ext, c.req.header('last-event-id'), c.req.raw.signal);
    return new Response(body, {
      headers: {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        // nginx in front of an edge would otherwise buffer the stream.
        'X-Accel-Buffering': 'no',
      },
    });
  });

  const token = {
    ...TOOLBAR,
    method: 'post',
    path: opts.tokenPath,
    operationId: 'toolbarToken',
    summary: 'A toolbar token for one extension of this device (supervisor: may listen in); ttl in seconds, at most a day',
    // Read as the device API reads parameters, and JSON may say `"supervisor": true`: see tokenParams.
    body: { schema: TokenRequest, encoding: 'params' },
    responses: { 200: TokenAnswer },
    errors: { 400: 'the body is not JSON or a field is invalid; the message names it', ...opts.docs.tokenErrors },
    security: opts.docs.tokenSecurity,
  } as const;
  serve(app, token, async (c) => {
    await opts.authorizeIssue(c);
    const params = await tokenParams(c.req.raw);
    // TokenRequest, the body's schema, checks these.
    const answer = await issueToolbarToken(await opts.key(c), opts.mac(c), params, opts.now());
    opts.log({ msg: 'toolbar token issued', extension: answer.extension, supervisor: answer.supervisor, expiresAt: answer.expiresAt });
    return { status: 200, body: answer, headers: { 'Cache-Control': 'no-store' } };
  });
  return app;
}

/** A form, a query or JSON; JSON may say `"supervisor": true` and `"extension": 801` as a CRM would. */
async function tokenParams(req: Request): Promise<Record<string, unknown>> {
  const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') return readRequestParams(req);
  let json: unknown;
  try {
    json = await req.json();
  } catch {
    throw new ApiError('BAD_PARAMETER', 'the request body is not valid JSON', 'body');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ApiError('BAD_PARAMETER', 'the JSON body must be an object of parameters', 'body');
  return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, typeof v === 'number' ? String(v) : v]));
}
