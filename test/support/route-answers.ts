import type { Hono } from 'hono';
import { expect } from 'vitest';
import { z } from 'zod';
import { errorBody } from '../../shared/api/responses.ts';
import { specOf, type RouteSpec } from '../../shared/api/route.ts';

/** One answer a test received over HTTP. */
export interface Received {
  method: string;
  url: string;
  status: number;
  contentType: string | null;
  body: unknown;
}

interface Described {
  method: string;
  pattern: RegExp;
  spec: RouteSpec;
}

/** The routes of `app` with the specs they carry, as patterns over a request path. */
export function describedRoutes(app: Hono): Described[] {
  const out: Described[] = [];
  for (const r of app.routes) {
    if (r.method === 'ALL') continue;
    const spec = specOf(r.handler);
    if (!spec) throw new Error(`${r.method} ${r.path} is served with no spec`);
    const source = r.path
      .split('/')
      .map((seg) => (seg === '*' ? '.+' : seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    out.push({ method: r.method, pattern: new RegExp(`^${source}$`), spec });
  }
  return out;
}

/**
 * Holds each answer to its route's spec: the status is one the spec names, a JSON success body is
 * what its schema says to the letter (no field the schema leaves out: its JSON Schema forbids them),
 * and an error is `{status:"error", message}`. Returns how many answers were checked.
 */
export function expectAnswersMatchSpecs(routes: Described[], received: readonly Received[]): number {
  for (const r of received) {
    const what = `${r.method} ${r.url} -> ${r.status} ${JSON.stringify(r.body)?.slice(0, 300)}`;
    const path = new URL(r.url).pathname;
    const route = routes.find((d) => d.method === r.method && d.pattern.test(path));
    if (!route) {
      // Not a route of the app: the 404 the app answers for anything it does not serve.
      expect(r.status, what).toBe(404);
      expect(() => errorBody.parse(r.body), what).not.toThrow();
      continue;
    }
    const { spec } = route;
    const success = spec.responses[r.status];
    if (success === undefined) {
      expect(Object.keys(spec.errors ?? {}).concat(spec.body?.encoding === 'json' ? ['400'] : []), `${what}: a status ${spec.operationId} documents`).toContain(String(r.status));
      expect(errorBody.strict().safeParse(r.body).success, `${what}: an error body`).toBe(true);
      continue;
    }
    if (!(success instanceof z.ZodType)) continue;
    expect(r.contentType, what).toMatch(/^application\/json/);
    const parsed = success.safeParse(r.body);
    expect(parsed.error?.issues, `${what}: the ${spec.operationId} ${r.status} schema`).toBeUndefined();
    // zod drops what a schema does not name: equal after parsing means nothing was left out.
    expect(parsed.data, `${what}: every field is in the ${spec.operationId} ${r.status} schema`).toEqual(r.body);
  }
  return received.length;
}
