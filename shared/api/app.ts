import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import { z } from 'zod';
import type { Device } from '../device.ts';
import { ApiError } from '../errors.ts';
import { contentRange, parseRange } from '../http/range.ts';
import { monitorRelPath } from '../http/monitor-path.ts';
import { scopedDevice } from '../toolbar/scope.ts';
import type { Credentials, Principal } from './authenticate.ts';
import { onApiError } from './error-answer.ts';
import type { IdempotencyStore, StoredAnswer } from '../idempotency.ts';
import { operationNames, operations, type Operation, type OperationName, type OperationParams } from './operations.ts';
import { responses } from './responses.ts';
import { serve, type Reply, type RouteSpec, type Security } from './route.ts';

export interface ApiRoutesOptions {
  /**
   * Who is calling (the side's authenticator, shared/api/authenticate.ts); throws 401, 403, 404 or
   * 429. Called first, before anything is read. A signed link is offered only to the monitor route.
   */
  authenticate(c: Context, credentials: Credentials): Promise<Principal>;
  /**
   * The device addressed, for this caller; the edge throws NOT_FOUND or DEVICE_OFFLINE. Called after
   * authentication and validation. A toolbar token's caller gets it scoped to its extension here.
   */
  resolveDevice(c: Context, principal: Principal): Promise<Device>;
  idempotency: IdempotencyStore;
  /** Scopes Idempotency-Keys per device (the edge passes the MAC). Default: one device. */
  deviceId?(c: Context): string;
  /** Origins a browser CRM may call from; no CORS headers at all for the others. */
  allowOrigin?(origin: string, c: Context): boolean | Promise<boolean>;
  /** Structured log sink, one object per entry. */
  log(entry: Record<string, unknown>): void;
  /** The request's id as the app logs it, quoted in a 500. Default: one of its own. */
  requestIdOf?(c: Context): string;
  /** For /openapi.json: who may call, and the errors every route of this API may answer. Default: none said. */
  docs?: { security: Security; errors: Record<number, string> };
}

/** Idempotency-Key: an opaque token; printable ASCII keeps it safe to log and to pass down the tunnel. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * The documented coocenter-api, once, for the agent (mounted at `/coocenter-api`) and the edge
 * (`/devices/:mac/coocenter-api`). Web APIs only, so it runs on Node and on Workers.
 * Order per request: CORS, authenticate, read and validate parameters, resolve the device, run.
 */
export function createApiRoutes(opts: ApiRoutesOptions): Hono {
  const app = new Hono();
  const deviceId = opts.deviceId ?? (() => 'local');
  const docs = opts.docs ?? { security: [], errors: {} };

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

  app.onError(onApiError({ log: opts.log, ...(opts.requestIdOf ? { requestIdOf: opts.requestIdOf } : {}) }));
  const credentials = (c: Context): Credentials => ({ authorization: c.req.header('authorization') });
  const deviceFor = async (c: Context, principal: Principal): Promise<Device> => {
    const device = await opts.resolveDevice(c, principal);
    return principal.kind === 'toolbar' ? scopedDevice(device, principal) : device;
  };

  for (const name of operationNames) {
    const op: Operation = operations[name];
    serve(app, operationSpec(name, docs), async (c, input): Promise<Reply<OperationSpec>> => {
      const principal = await opts.authenticate(c, credentials(c));
      // The schema of `name` produced these, so they are that operation's parameters.
      const params = (await input.body()) as OperationParams<typeof name>;
      const key = c.req.header('idempotency-key');
      const device = await deviceFor(c, principal);
      // Reads stop when the client goes away; a command that acts on calls runs to its end, since
      // half of one (QueueStatus done, QueueAdd not) helps nobody.
      if (!op.actsOnCalls) return { status: 200, body: await device.run(name, params, { signal: c.req.raw.signal }) };
      if (key === undefined) return { status: 200, body: await device.run(name, params) };
      if (!IDEMPOTENCY_KEY.test(key)) {
        throw new ApiError('BAD_PARAMETER', 'Idempotency-Key: must be 1 to 255 printable ASCII characters', 'Idempotency-Key');
      }
      // Repeats wait on this run too.
      const answer = await opts.idempotency.once(`${deviceId(c)}\n${name}`, key, fingerprint(params), () =>
        answerOf(() => device.run(name, params, { idempotencyKey: key })),
      );
      // What this route answered the first time: its success body, or an error body with its status.
      return answer as Reply<OperationSpec>;
    });
  }

  const monitor = {
    method: 'get',
    path: '/monitor/*',
    wildcard: 'filePath',
    params: z.object({ filePath: z.string().meta({ description: 'relative path; may contain /. No `..`, no `%` after decoding, no control characters.' }) }),
    operationId: 'monitor',
    summary: 'A recording, by its path below the recordings folder (cc_cdr.filePath); Range is answered with 206',
    tags: ['coocenter-api'],
    headers: [{ name: 'Range', required: false, description: 'bytes=start-end', schema: z.string() }],
    responses: {
      200: { description: 'the whole file', content: { 'audio/*': BINARY } },
      206: { description: 'the requested range, with Content-Range', content: { 'audio/*': BINARY } },
    },
    errors: { ...docs.errors, 400: 'the file path leaves the recordings folder or is malformed', 404: 'no such file', 416: 'Range is beyond the end of the file' },
    security: docs.security,
  } as const satisfies RouteSpec;
  serve(app, monitor, async (c) => {
    // The path is checked before authentication (a signed link signs the checked path), but a bad one
    // is only reported after it, so an unauthorised caller learns nothing from the answer.
    let relPath: string | undefined;
    let badPath: unknown;
    try {
      relPath = monitorRelPath(rawWildcard(c));
    } catch (e) {
      badPath = e;
    }
    const sig = c.req.query('sig');
    // A signed link signs the checked path: with a bad path there is nothing it could prove.
    const link = sig !== undefined && relPath !== undefined ? { relPath, exp: c.req.query('exp'), sig } : undefined;
    const principal = await opts.authenticate(c, { ...credentials(c), ...(link ? { link } : {}) });
    if (relPath === undefined) throw badPath;
    const device = await deviceFor(c, principal);
    const rangeHeader = c.req.header('range');
    const file = await device.openRecording(relPath, rangeHeader, { signal: c.req.raw.signal });
    if (parseRange(rangeHeader, file.size).kind === 'unsatisfiable') {
      await file.body.cancel();
      c.header('Accept-Ranges', 'bytes');
      c.header('Content-Range', `bytes */${file.size}`);
      throw new ApiError('RANGE_NOT_SATISFIABLE', `Range: not satisfiable, the file has ${file.size} bytes`);
    }
    const headers = new Headers({ 'Content-Type': file.contentType, 'Accept-Ranges': 'bytes' });
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

const BINARY = z.string().meta({ contentMediaType: 'application/octet-stream' });

const SUMMARIES: Record<OperationName, string> = {
  'current-calls': 'Live channels, one row per channel',
  'extension-status': 'Registration state of every SIP/PJSIP peer',
  'extension-hints-status': 'Hint state of every extension (a bare array, as the document has it)',
  'queue-info': 'Members of every queue with paused and penalty',
  'agent-pause': 'Pause (state=on) or unpause (state=off) a member in a queue',
  'agent-login': 'Add an extension to a queue (already a member: success, no change)',
  'agent-logout': 'Remove an extension from a queue (409 for a member queues.conf lists statically)',
  'click-number': 'Ring src, then dial dst with the caller ID of src (409 when src is unregistered or busy)',
  hangup: 'Hang up every live channel of the extension (409 when it has none)',
  transfer: 'Send the party src is talking to over to dst (409 when src is not in a bridged call)',
  'exten-spy': 'Ring src and let it listen to the call of dst (quiet ChanSpy)',
  'blacklist-index': 'Numbers on the blacklist',
  'blacklist-create': 'Add a number to the blacklist',
  'blacklist-delete': 'Remove a number from the blacklist',
};

export const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  required: false,
  description: 'A retry with the same key within 10 minutes gets the first answer and does not act twice.',
  schema: z.string().regex(IDEMPOTENCY_KEY),
};

/** The spec of one operation: its parameters and its success body, from the operation table. */
function operationSpec<N extends OperationName>(name: N, docs: NonNullable<ApiRoutesOptions['docs']>) {
  const op: Operation = operations[name];
  const hasParams = Object.keys(op.params.shape).length > 0;
  const errors: Record<number, string> = { ...docs.errors };
  if (hasParams) errors[400] = 'a parameter is missing or invalid; the message names it';
  if (op.method !== 'GET') errors[413] = 'the request body is larger than 16 KiB';
  if (op.actsOnCalls) errors[409] = 'nothing to act on (no such call, member or registration)';
  return {
    method: op.method.toLowerCase() as 'get' | 'post' | 'delete',
    path: op.path,
    operationId: name,
    summary: SUMMARIES[name],
    description:
      op.method === 'GET'
        ? 'Parameters, where any, may come in the query string.'
        : 'Parameters may come form-urlencoded, multipart, as JSON or in the query string; keys and values are trimmed, and a control character anywhere is refused.',
    tags: ['coocenter-api'],
    ...(op.actsOnCalls ? { headers: [IDEMPOTENCY_HEADER] } : {}),
    body: { schema: op.params, encoding: 'params' as const },
    responses: { 200: responses[name] as (typeof responses)[OperationName] },
    errors,
    security: docs.security,
  } satisfies RouteSpec;
}
type OperationSpec = ReturnType<typeof operationSpec>;

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
