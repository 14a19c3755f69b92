import type { Hono } from 'hono';
import { z } from 'zod';
import { DOCS_PAGE } from './docs-page.ts';
import type { OpenApiDocument } from './openapi.ts';
import { serve } from './route.ts';

const SERVICE = { tags: ['service'] } as const;
const text = (type: string, description: string) => ({ description, content: { [type]: z.string() } });
const record = z.record(z.string(), z.unknown());
const openApi = z.object({
  openapi: z.literal('3.1.0'),
  info: z.object({ title: z.string(), version: z.string(), description: z.string() }),
  tags: z.array(z.object({ name: z.string(), description: z.string() })),
  paths: z.record(z.string(), record),
  components: z.object({ schemas: record, securitySchemes: record }),
});

/**
 * `GET /openapi.json` and `GET /docs`, on the agent and the edge: open, they hold no secret. The
 * document is built once, on first use, from the app's routes as they are then.
 */
export function serveReference(app: Hono, document: () => OpenApiDocument): void {
  let built: OpenApiDocument | undefined;
  serve(
    app,
    { ...SERVICE, method: 'get', path: '/openapi.json', operationId: 'openapi', summary: 'This document', responses: { 200: openApi } },
    () => ({ status: 200, body: (built ??= document()) }),
  );
  serve(app, { ...SERVICE, method: 'get', path: '/docs', operationId: 'docs', summary: 'This document rendered as a page', responses: { 200: text('text/html', 'the page') } }, (c) =>
    c.html(DOCS_PAGE),
  );
}

/** A page or a text answer, for the routes that answer no JSON. */
export const textResponse = text;
