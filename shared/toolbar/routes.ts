import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError } from '../errors.ts';
import { readRequestParams } from '../http/request-params.ts';
import type { ToolbarFeed } from './feed.ts';
import { TOOLBAR_PAGE } from './page.ts';
import { issueToolbarToken, verifyToolbarToken, type ToolbarKey } from './token.ts';

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
}

/**
 * The toolbar's routes, mounted by the agent at `/` and by the edge at `/devices/:mac`: the page
 * (`GET /toolbar`), its Server-Sent Events (`GET /toolbar/stream`) and token issuing. EventSource
 * cannot send headers, so the stream takes the token in `?token=` (request logs record paths only).
 */
export function createToolbarRoutes(opts: ToolbarRoutesOptions): Hono {
  const app = new Hono();
  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(err.toBody(), err.status as ContentfulStatusCode);
    opts.log({ level: 'error', msg: 'unexpected error in a toolbar route', path: c.req.path, error: err instanceof Error ? err.message : String(err) });
    return c.json({ status: 'error', message: 'internal error' }, 500);
  });

  app.get('/toolbar', (c) =>
    c.html(TOOLBAR_PAGE, 200, {
      'Cache-Control': 'no-cache',
      'X-Frame-Options': 'SAMEORIGIN',
      // The screen pop opens the CRM: it must not learn the toolbar's address.
      'Referrer-Policy': 'no-referrer',
    }),
  );

  app.get('/toolbar/stream', async (c) => {
    const claims = await verifyToolbarToken(await opts.key(c), c.req.query('token') ?? '', opts.mac(c), opts.now());
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

  app.post(opts.tokenPath, async (c) => {
    await opts.authorizeIssue(c);
    const params = await tokenParams(c.req.raw);
    const answer = await issueToolbarToken(await opts.key(c), opts.mac(c), params, opts.now());
    opts.log({ msg: 'toolbar token issued', extension: answer.extension, supervisor: answer.supervisor, expiresAt: answer.expiresAt });
    return c.json(answer, 200, { 'Cache-Control': 'no-store' });
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
