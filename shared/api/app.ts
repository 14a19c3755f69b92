import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import type { Device } from '../device.ts';
import { ApiError } from '../errors.ts';
import { contentRange, parseRange } from '../http/range.ts';
import { RateLimitedError } from '../http/rate-limit.ts';
import { monitorRelPath } from '../http/monitor-path.ts';
import { readRequestParams } from '../http/request-params.ts';
import type { IdempotencyStore, StoredAnswer } from '../idempotency.ts';
import { operationNames, operations, type Operation, type OperationName, type OperationParams } from './operations.ts';

/** What a route is about to do, for `authorize`: an operation, or fetching a recording. */
export type ApiAction = OperationName | 'monitor';

export interface ApiRoutesOptions {
  /** The device addressed; the edge throws NOT_FOUND or DEVICE_OFFLINE. Called after auth and validation. */
  resolveDevice(c: Context): Promise<Device>;
  /** Throws ApiError UNAUTHORIZED or FORBIDDEN. Called first, before anything is read. */
  authorize(c: Context, action: ApiAction, target?: { relPath: string }): Promise<void> | void;
  idempotency: IdempotencyStore;
  /** Scopes Idempotency-Keys per device (the edge passes the MAC). Default: one device. */
  deviceId?(c: Context): string;
  /** Origins a browser CRM may call from; no CORS headers at all for the others. */
  allowOrigin?(origin: string, c: Context): boolean | Promise<boolean>;
  /** Structured log sink, one object per entry. */
  log(entry: Record<string, unknown>): void;
  newRequestId?(): string;
}

/** Idempotency-Key: an opaque token; printable ASCII keeps it safe to log and to pass down the tunnel. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * The documented coocenter-api, once, for the agent (mounted at `/coocenter-api`) and the edge
 * (`/devices/:mac/coocenter-api`). Web APIs only, so it runs on Node and on Workers.
 * Order per request: CORS, authorize, read and validate parameters, resolve the device, run.
 */
export function createApiRoutes(opts: ApiRoutesOptions): Hono {
  const app = new Hono();
  const deviceId = opts.deviceId ?? (() => 'local');
  const newRequestId = opts.newRequestId ?? (() => crypto.randomUUID());

  const corsHeaders = cors({
    origin: (origin) => origin,
    allowMethods: ['GET', 'HEAD', 'POST', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'Range'],
    exposeHeaders: ['Content-Length', 'Content-Range', 'Accept-Ranges'],
    maxAge: 600,
  });
  app.use('*', async function corsForAllowedOrigins(c, next) {
    const origin = c.req.header('origin');
    if (origin && opts.allowOrigin && (await opts.allowOrigin(origin, c))) return corsHeaders(c, next);
    await next();
  });

  app.onError((err, c) => {
    if (err instanceof RateLimitedError) c.header('Retry-After', String(err.retryAfterSec));
    if (err instanceof ApiError) return c.json(err.toBody(), err.status as ContentfulStatusCode);
    const requestId = newRequestId();
    opts.log({
      level: 'error',
      msg: 'unexpected error in an API route',
      requestId,
      method: c.req.method,
      route: c.req.routePath,
      error: err instanceof Error ? err.message : String(err),
      stack: err instanceof Error ? err.stack : undefined,
    });
    return c.json({ status: 'error', message: `internal error; quote request id ${requestId} when reporting it` }, 500);
  });

  for (const name of operationNames) {
    const op: Operation = operations[name];
    app.on(op.method, op.path, async (c) => {
      await opts.authorize(c, name);
      // The schema of `name` produced these, so they are that operation's parameters.
      const params = validate(op.params, await readRequestParams(c.req.raw)) as OperationParams<typeof name>;
      const key = c.req.header('idempotency-key');
      const device = await opts.resolveDevice(c);
      // Reads stop when the client goes away; a command that acts on calls runs to its end, since
      // half of one (QueueStatus done, QueueAdd not) helps nobody.
      if (!op.actsOnCalls) return c.json((await device.run(name, params, { signal: c.req.raw.signal })) as object, 200);
      if (key === undefined) return c.json((await device.run(name, params)) as object, 200);
      if (!IDEMPOTENCY_KEY.test(key)) {
        throw new ApiError('BAD_PARAMETER', 'Idempotency-Key: must be 1 to 255 printable ASCII characters', 'Idempotency-Key');
      }
      // Repeats wait on this run too.
      const answer = await opts.idempotency.once(`${deviceId(c)}\n${name}`, key, fingerprint(params), () =>
        answerOf(() => device.run(name, params, { idempotencyKey: key })),
      );
      return c.json(answer.body as object, answer.status as ContentfulStatusCode);
    });
  }

  app.get('/monitor/*', async (c) => {
    // The path is checked before authorize (a signed link signs the checked path), but a bad one is
    // only reported after it, so an unauthorised caller learns nothing from the answer.
    let relPath: string | undefined;
    let badPath: unknown;
    try {
      relPath = monitorRelPath(rawWildcard(c));
    } catch (e) {
      badPath = e;
    }
    await opts.authorize(c, 'monitor', relPath === undefined ? undefined : { relPath });
    if (relPath === undefined) throw badPath;
    const device = await opts.resolveDevice(c);
    const rangeHeader = c.req.header('range');
    const file = await device.openRecording(relPath, rangeHeader, { signal: c.req.raw.signal });
    const headers = new Headers({ 'Content-Type': file.contentType, 'Accept-Ranges': 'bytes' });
    if (parseRange(rangeHeader, file.size).kind === 'unsatisfiable') {
      await file.body.cancel();
      headers.set('Content-Range', `bytes */${file.size}`);
      headers.set('Content-Type', 'application/json');
      const message = `Range: not satisfiable, the file has ${file.size} bytes`;
      return new Response(JSON.stringify({ status: 'error', message }), { status: 416, headers });
    }
    const length = file.range ? file.range.end - file.range.start + 1 : file.size;
    headers.set('Content-Length', String(length));
    if (file.range) headers.set('Content-Range', contentRange(file.range, file.size));
    const status = file.range ? 206 : 200;
    // Hono answers HEAD by running GET and dropping the body; release the file instead.
    if (c.req.method === 'HEAD') {
      await file.body.cancel();
      return new Response(null, { status, headers });
    }
    return new Response(file.body, { status, headers });
  });

  app.all('*', (c) => {
    throw new ApiError('NOT_FOUND', `${c.req.method} ${c.req.path} is not an operation of this API`);
  });
  return app;
}

function validate<T>(schema: z.ZodType<T>, raw: Record<string, string>): T {
  const result = schema.safeParse(raw, {
    error: (issue) => (issue.input === undefined ? 'is required' : undefined),
  });
  if (result.success) return result.data;
  const issues = result.error.issues;
  const field = String(issues[0]?.path[0] ?? 'body');
  throw new ApiError('BAD_PARAMETER', issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), field);
}

/** Same parameters, same fingerprint, whatever order the client sent them in. */
function fingerprint(params: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.keys(params).sort().map((k) => [k, params[k]]));
}

/** A device's answer as HTTP would send it; unexpected errors propagate to onError (and are not cached). */
async function answerOf(run: () => Promise<unknown>): Promise<StoredAnswer> {
  try {
    return { status: 200, body: await run() };
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, body: err.toBody() };
    throw err;
  }
}

/**
 * The still percent-encoded rest of the path after `/monitor/`. Read from the request URL as a
 * string: `new URL()` and the router's decoding would resolve or decode what we must check.
 * The wildcard sits after as many segments as the route pattern has before `*`, wherever the app is mounted.
 */
function rawWildcard(c: Context): string {
  const url = c.req.url;
  const start = url.indexOf('/', url.indexOf('//') + 2);
  const path = start === -1 ? '/' : url.slice(start).split(/[?#]/, 1)[0]!;
  const before = c.req.routePath.split('/').length - 1;
  return path.split('/').slice(before).join('/');
}
