import type { Context, Handler, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { jsonBody, validParams } from '../http/json-body.ts';
import { readRequestParams } from '../http/request-params.ts';

/**
 * Every route is described where it is registered: its parameters, body and answers as zod schemas,
 * its errors and who may call it. The handler is typed by those schemas, and `/openapi.json` is
 * generated from them and from nothing else (shared/api/openapi.ts walks the app's routes).
 * A newcomer looking for a route's response shape finds it in the `responses` of its spec.
 */
export type Security = readonly Readonly<Record<string, readonly string[]>>[];

/** An answer that is not JSON (a page, a stream, a file), or no body at all (`101`). */
export interface RawResponse {
  description: string;
  content?: Record<string, z.ZodType>;
}

/** A JSON answer is its zod schema; anything else says what it is. */
export type ResponseSpec = z.ZodType | RawResponse;

export interface HeaderSpec {
  name: string;
  description?: string;
  required: boolean;
  schema: z.ZodType;
}

export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Hono's spelling (`/devices/:mac`), relative to where the routes are mounted. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: readonly string[];
  /**
   * Path parameters this route itself declares; a mount point's (the edge's `{mac}`) is described by
   * the document. A trailing `*` is the parameter named by `wildcard`.
   */
  params?: z.ZodObject;
  wildcard?: string;
  query?: z.ZodObject;
  headers?: readonly HeaderSpec[];
  /**
   * The request body. `json`: a JSON document. `params`: the device API's parameters, form-urlencoded,
   * multipart, JSON or in the query string (shared/http/request-params.ts).
   */
  body?: { schema: z.ZodType; encoding: 'json' | 'params' };
  responses: Readonly<Record<number, ResponseSpec>>;
  /** Error statuses and when they happen; each answers `{status:"error", message}`. */
  errors?: Readonly<Record<number, string>>;
  security?: Security;
}

type Out<T> = T extends z.ZodType ? z.output<T> : Record<string, never>;

/** The request's parts, parsed by the spec's schemas when the handler asks (so it authorizes first). */
export interface RouteInput<S extends RouteSpec> {
  params(): Out<S['params']>;
  query(): Out<S['query']>;
  body(): Promise<S['body'] extends { schema: infer B } ? Out<B> : never>;
}

type JsonReply<R> = {
  [K in keyof R]: K extends number ? (R[K] extends z.ZodType ? { status: K; body: z.input<R[K]>; headers?: Record<string, string> } : never) : never;
}[keyof R];
type RawStatus<R> = { [K in keyof R]: R[K] extends z.ZodType ? never : K }[keyof R];

/** What a handler returns: one of its JSON answers, typed by its schema, or a Response where the spec has a raw one. */
export type Reply<S extends RouteSpec> = JsonReply<S['responses']> | ([RawStatus<S['responses']>] extends [never] ? never : Response);

export type RouteHandler<S extends RouteSpec> = (c: Context, input: RouteInput<S>) => Reply<S> | Promise<Reply<S>>;

const specs = new WeakMap<object, RouteSpec>();

/** The handler of a spec, carrying it for the document. */
export function route<const S extends RouteSpec>(spec: S, handler: NoInfer<RouteHandler<S>>): Handler {
  const h: Handler = async (c) => {
    const reply = await handler(c, inputOf(c, spec));
    if (reply instanceof Response) return reply;
    const { status, body, headers } = reply as { status: number; body: unknown; headers?: Record<string, string> };
    return c.json(body as object, status as ContentfulStatusCode, headers);
  };
  specs.set(h, spec);
  return h;
}

/** Registers `spec` on `app` at its method and path. */
export function serve<const S extends RouteSpec>(app: Hono, spec: S, handler: NoInfer<RouteHandler<S>>): void {
  app.on(spec.method.toUpperCase(), spec.path, route(spec, handler));
}

/**
 * The spec a routed handler carries. Hono wraps the handlers of a sub-app that has its own error
 * handler, and keeps the original under `__COMPOSED_HANDLER` (hono/utils/constants).
 */
export function specOf(handler: unknown): RouteSpec | undefined {
  let h = handler as { __COMPOSED_HANDLER?: unknown } | undefined;
  while (h) {
    const spec = specs.get(h);
    if (spec) return spec;
    h = h.__COMPOSED_HANDLER as typeof h;
  }
  return undefined;
}

function inputOf<S extends RouteSpec>(c: Context, spec: S): RouteInput<S> {
  return {
    params: () => (spec.params ? validParams(spec.params, c.req.param() as Record<string, string>) : {}) as Out<S['params']>,
    query: () => (spec.query ? validParams(spec.query, c.req.query()) : {}) as Out<S['query']>,
    body: async () => {
      const body = spec.body;
      if (!body) throw new Error(`${spec.operationId} declares no body`);
      const parsed = body.encoding === 'json' ? await jsonBody(c, body.schema) : validParams(body.schema, await readRequestParams(c.req.raw));
      return parsed as Awaited<ReturnType<RouteInput<S>['body']>>;
    },
  };
}
