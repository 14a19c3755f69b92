import type { Hono } from 'hono';
import { z } from 'zod';
import { errorBody } from './responses.ts';
import { specOf, type RouteSpec } from './route.ts';

/**
 * `/openapi.json`, generated from the specs the app's routes carry (shared/api/route.ts) and from
 * nothing else. zod 4's own `z.toJSONSchema` is enough: OpenAPI 3.1 schemas are JSON Schema 2020-12,
 * which is what it emits, and the routes stay plain Hono (no second router, no other dependency).
 */
export type JsonSchema = Record<string, unknown>;
export type Parameter = { name: string; in: 'path' | 'query' | 'header'; required?: boolean; description?: string; schema: JsonSchema };
export type OperationObject = {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: Parameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
  security?: Record<string, string[]>[];
};
export type PathItem = Partial<Record<'get' | 'post' | 'put' | 'delete', OperationObject>>;

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, PathItem>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, JsonSchema> };
}

export interface DocumentOptions {
  info: OpenApiDocument['info'];
  tags: OpenApiDocument['tags'];
  securitySchemes: Record<string, JsonSchema>;
  /** Path parameters of the points routes are mounted at (the edge's `{mac}`). */
  pathParams?: Record<string, z.ZodType>;
}

export const WEBKEY_SCHEME: JsonSchema = {
  type: 'apiKey',
  in: 'header',
  name: 'Authorization',
  description: "md5(WEBKEY + 'YYYY-MM-DD') in hex; the box's yesterday, today and tomorrow are accepted.",
};

/** The toolbar's routes (shared/toolbar/routes.ts), the same on the agent and the edge. */
export const TOOLBAR_TAG = { name: 'toolbar', description: "The call-center agent's toolbar: page, live stream, scoped tokens." };

const BAD_JSON_BODY = 'the body is not JSON or a field is invalid; the message names it';

/** The OpenAPI document of every described route `app` serves; undescribed routes are left out (a test holds them equal). */
export function openApiDocument(app: Hono, o: DocumentOptions): OpenApiDocument {
  const schemas = new JsonSchemas();
  const errorRef = schemas.of(errorBody, 'output');
  const paths: Record<string, PathItem> = {};
  for (const r of app.routes) {
    if (r.method === 'ALL') continue;
    const spec = specOf(r.handler);
    if (!spec) continue;
    const path = openApiPath(r.path, spec);
    (paths[path] ??= {})[r.method.toLowerCase() as keyof PathItem] = operationOf(spec, path, o, schemas, errorRef);
  }
  return { openapi: '3.1.0', info: o.info, tags: o.tags, paths, components: { schemas: schemas.components, securitySchemes: o.securitySchemes } };
}

/** `/devices/:mac/monitor/*` as OpenAPI spells it: `/devices/{mac}/monitor/{filePath}`. */
export function openApiPath(honoPath: string, spec: RouteSpec): string {
  const path = honoPath.replace(/:([A-Za-z]+)/g, '{$1}');
  if (!path.endsWith('/*')) return path;
  if (!spec.wildcard) throw new Error(`${spec.operationId}: ${honoPath} ends in * but names no wildcard parameter`);
  return `${path.slice(0, -1)}{${spec.wildcard}}`;
}

function operationOf(spec: RouteSpec, path: string, o: DocumentOptions, schemas: JsonSchemas, errorRef: JsonSchema): OperationObject {
  const parameters: Parameter[] = [];
  for (const [, name] of path.matchAll(/\{([A-Za-z]+)\}/g)) {
    const schema = (spec.params?.shape[name!] as z.ZodType | undefined) ?? o.pathParams?.[name!];
    if (!schema) throw new Error(`${spec.operationId}: no schema for the path parameter ${name} of ${path}`);
    parameters.push(parameter(name!, 'path', true, schemas.of(schema, 'output')));
  }
  const body = spec.body;
  const bodySchema = body && schemas.request(body.schema);
  if (spec.query) parameters.push(...queryParameters(schemas.request(spec.query)));
  if (body?.encoding === 'params' && spec.method === 'get') parameters.push(...queryParameters(bodySchema!));
  for (const h of spec.headers ?? []) parameters.push(parameter(h.name, 'header', h.required, schemas.of(h.schema, 'output'), h.description));

  let requestBody: OperationObject['requestBody'];
  if (body && spec.method !== 'get') {
    const types = body.encoding === 'json' ? ['application/json'] : ['application/x-www-form-urlencoded', 'application/json'];
    requestBody = { required: true, content: Object.fromEntries(types.map((t) => [t, { schema: bodySchema! }])) };
  }
  const errors: Record<number, string> = { ...spec.errors };
  if (body?.encoding === 'json') errors[400] ??= BAD_JSON_BODY;
  const responses: OperationObject['responses'] = {};
  for (const [status, r] of Object.entries(spec.responses)) {
    if (r instanceof z.ZodType) responses[status] = { description: 'success', content: { 'application/json': { schema: schemas.of(r, 'output') } } };
    else {
      const content = r.content && Object.fromEntries(Object.entries(r.content).map(([type, s]) => [type, { schema: schemas.of(s, 'output') }]));
      responses[status] = { description: r.description, ...(content ? { content } : {}) };
    }
  }
  for (const [status, description] of Object.entries(errors)) responses[status] = { description, content: { 'application/json': { schema: errorRef } } };
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [...spec.tags],
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses,
    ...(spec.security ? { security: spec.security.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, [...v]]))) } : {}),
  };
}

function parameter(name: string, where: Parameter['in'], required: boolean, schema: JsonSchema, description?: string): Parameter {
  const { description: fromSchema, ...rest } = schema;
  const text = description ?? (fromSchema as string | undefined);
  return { name, in: where, required, ...(text ? { description: text } : {}), schema: rest };
}

function queryParameters(schema: JsonSchema): Parameter[] {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => parameter(name, 'query', required.has(name), s));
}

/**
 * zod schemas as JSON Schema, for one document: a schema with an `id` (`.meta({ id })`) becomes a
 * component every use refers to, so `Error` is written once.
 */
class JsonSchemas {
  readonly components: Record<string, JsonSchema> = {};

  of(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const s = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
    const { $schema: _draft, $defs, ...rest } = s;
    for (const [id, def] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      const text = JSON.stringify(relink(def));
      const known = this.components[id];
      if (known && JSON.stringify(known) !== text) throw new Error(`two different schemas are both called ${id}`);
      this.components[id] = JSON.parse(text) as JsonSchema;
    }
    return relink(rest);
  }

  /**
   * What a route accepts: each field as it is checked after its own trimming and lower-casing (zod's
   * output side), required where the client must send it (the input side: a default is not required).
   */
  request(schema: z.ZodType): JsonSchema {
    const s = this.of(schema, 'output');
    // Unknown parameters are dropped, not refused: the output side's `false` would say otherwise.
    delete s.additionalProperties;
    const required = (z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema).required;
    if (required) s.required = required;
    else delete s.required;
    return s;
  }
}

const relink = (s: JsonSchema): JsonSchema => JSON.parse(JSON.stringify(s).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema;
