import { z } from 'zod';
import { operationNames, operations, type Operation, type OperationName } from './operations.ts';
import { errorBody, responses } from './responses.ts';

/**
 * OpenAPI 3.1 pieces generated from the zod schemas the routes validate with, so the document cannot
 * drift from what a route accepts. zod 4's own `z.toJSONSchema` is enough: OpenAPI 3.1 schemas are
 * JSON Schema 2020-12, which is what it emits, and the routes stay plain Hono (no second router).
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
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }>; headers?: Record<string, { schema: JsonSchema; description?: string }> }>;
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

/** What a route accepts, after its own trimming and lower-casing (zod's output side). */
export function requestSchema(schema: z.ZodType): JsonSchema {
  const s = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
  delete s.$schema;
  // Unknown parameters are dropped, not refused: the output side's `false` would say otherwise.
  delete s.additionalProperties;
  return s;
}

/** What a route answers. */
export function responseSchema(schema: z.ZodType): JsonSchema {
  const s = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
  delete s.$schema;
  return s;
}

export const ERROR_REF = { $ref: '#/components/schemas/Error' };
export const errorSchemas = { Error: responseSchema(errorBody) };

/** `{status:"error", message}` under the given statuses. */
export function errorResponses(statuses: Record<number, string>): OperationObject['responses'] {
  return Object.fromEntries(
    Object.entries(statuses).map(([status, description]) => [status, { description, content: { 'application/json': { schema: ERROR_REF } } }]),
  );
}

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

export interface DeviceApiOptions {
  /** `/coocenter-api` on the agent, `/devices/{mac}/coocenter-api` on the edge. */
  prefix: string;
  /** Parameters of the prefix itself (the edge's `{mac}`). */
  pathParameters: Parameter[];
  security: Record<string, string[]>[];
  /** Error statuses every route of this API may answer, beyond the per-route ones added here. */
  errors: Record<number, string>;
}

export const IDEMPOTENCY_HEADER: Parameter = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'A retry with the same key within 10 minutes gets the first answer and does not act twice.',
  schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
};

/** The 14 operations and `/monitor/{filePath}`, as either the agent or the edge serves them. */
export function deviceApiPaths(o: DeviceApiOptions): Record<string, PathItem> {
  const paths: Record<string, PathItem> = {};
  for (const name of operationNames) {
    const op: Operation = operations[name];
    const params = requestSchema(op.params);
    const hasParams = Object.keys((params.properties as object | undefined) ?? {}).length > 0;
    const parameters = [...o.pathParameters, ...(op.actsOnCalls ? [IDEMPOTENCY_HEADER] : [])];
    if (op.method === 'GET' && hasParams) parameters.push(...queryParameters(params));
    const errors: Record<number, string> = { ...o.errors };
    if (hasParams) errors[400] = 'a parameter is missing or invalid; the message names it';
    if (op.method !== 'GET') errors[413] = 'the request body is larger than 16 KiB';
    if (op.actsOnCalls) errors[409] = 'nothing to act on (no such call, member or registration)';
    const operation: OperationObject = {
      operationId: name,
      summary: SUMMARIES[name],
      description:
        op.method === 'GET'
          ? 'Parameters, where any, may come in the query string.'
          : 'Parameters may come form-urlencoded, multipart, as JSON or in the query string; keys and values are trimmed, and a control character anywhere is refused.',
      tags: ['coocenter-api'],
      ...(parameters.length ? { parameters } : {}),
      ...(op.method !== 'GET' && hasParams
        ? { requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: params }, 'application/json': { schema: params } } } }
        : {}),
      responses: {
        200: { description: 'success', content: { 'application/json': { schema: responseSchema(responses[name]) } } },
        ...errorResponses(errors),
      },
      security: o.security,
    };
    (paths[o.prefix + op.path] ??= {})[op.method.toLowerCase() as 'get' | 'post' | 'delete'] = operation;
  }
  paths[`${o.prefix}/monitor/{filePath}`] = {
    get: {
      operationId: 'monitor',
      summary: 'A recording, by its path below the recordings folder (cc_cdr.filePath); Range is answered with 206',
      tags: ['coocenter-api'],
      parameters: [
        ...o.pathParameters,
        {
          name: 'filePath',
          in: 'path',
          required: true,
          description: 'relative path; may contain /. No `..`, no `%` after decoding, no control characters.',
          schema: { type: 'string' },
        },
        { name: 'Range', in: 'header', required: false, description: 'bytes=start-end', schema: { type: 'string' } },
      ],
      responses: {
        200: { description: 'the whole file', content: { 'audio/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } },
        206: { description: 'the requested range, with Content-Range', content: { 'audio/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } },
        ...errorResponses({ ...o.errors, 400: 'the file path leaves the recordings folder or is malformed', 404: 'no such file', 416: 'Range is beyond the end of the file' }),
      },
      security: o.security,
    },
  };
  return paths;
}

function queryParameters(schema: JsonSchema): Parameter[] {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => ({ name, in: 'query', required: required.has(name), schema: s }));
}

/** A JSON route with no parameters, for health and the documents themselves. */
export function plainGet(operationId: string, summary: string, tag: string, body: { type: string; schema: JsonSchema }): PathItem {
  return { get: { operationId, summary, tags: [tag], responses: { 200: { description: 'success', content: { [body.type]: { schema: body.schema } } } } } };
}

export const WEBKEY_SCHEME: JsonSchema = {
  type: 'apiKey',
  in: 'header',
  name: 'Authorization',
  description: "md5(WEBKEY + 'YYYY-MM-DD') in hex; the box's yesterday, today and tomorrow are accepted.",
};

export interface ToolbarPathOptions {
  /** Before `/toolbar`: '' on the agent, '/devices/{mac}' on the edge. */
  prefix: string;
  pathParameters: Parameter[];
  /** Where tokens are issued, and who may issue them. */
  tokenPath: string;
  tokenSecurity: Record<string, string[]>[];
  tokenErrors: Record<number, string>;
}

/** The agent toolbar's page, live stream and token route (docs/toolbar.md), for the agent and the edge. */
export function toolbarPaths(o: ToolbarPathOptions): Record<string, PathItem> {
  const str = { type: 'string' };
  const params = o.pathParameters;
  return {
    [`${o.prefix}/toolbar`]: {
      get: {
        operationId: 'toolbarPage',
        summary: 'The agent toolbar (docs/toolbar.md); signs in with a toolbar token in the URL fragment',
        tags: ['toolbar'],
        ...(params.length ? { parameters: params } : {}),
        responses: { 200: { description: 'success', content: { 'text/html': { schema: str } } } },
      },
    },
    [`${o.prefix}/toolbar/stream`]: {
      get: {
        operationId: 'toolbarStream',
        summary: "Server-Sent Events of one extension's calls, pauses, queue log in/out and wrap-up (token in ?token=)",
        tags: ['toolbar'],
        parameters: [...params, { name: 'token', in: 'query', required: true, schema: str }],
        responses: {
          200: { description: 'the event stream', content: { 'text/event-stream': { schema: str } } },
          ...errorResponses(params.length ? { 401: 'toolbar token missing, expired or for another device', 404: 'no such device' } : { 401: 'toolbar token missing, expired or for another device' }),
        },
      },
    },
    [o.tokenPath]: {
      post: {
        operationId: 'toolbarToken',
        summary: 'A toolbar token for one extension of this device (supervisor: may listen in); ttl in seconds, at most a day',
        tags: ['toolbar'],
        ...(params.length ? { parameters: params } : {}),
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { type: 'object', properties: { extension: str, supervisor: { type: 'boolean' }, ttl: { type: 'integer', minimum: 60, maximum: 86400 } }, required: ['extension'] },
            },
          },
        },
        responses: {
          200: {
            description: 'success',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { status: str, token: str, extension: str, supervisor: { type: 'boolean' }, expiresAt: str }, required: ['status', 'token', 'extension', 'supervisor', 'expiresAt'] },
              },
            },
          },
          ...errorResponses({ 400: 'the body is not JSON or a field is invalid; the message names it', ...o.tokenErrors }),
        },
        security: o.tokenSecurity,
      },
    },
  };
}


/** `POST .../recordings/sign`: a signed, expiring link to one recording, for an <audio> element. */
export function recordingSignPath(o: { path: string; pathParameters: Parameter[]; security: Record<string, string[]>[]; errors: Record<number, string> }): Record<string, PathItem> {
  const str = { type: 'string' };
  return {
    [o.path]: {
      post: {
        operationId: 'signRecording',
        summary: 'A link to one recording that carries its own proof (?exp=&sig=), for an <audio> element, which cannot send Authorization',
        tags: ['coocenter-api'],
        ...(o.pathParameters.length ? { parameters: o.pathParameters } : {}),
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { type: 'object', properties: { path: str, ttl: { type: 'integer', minimum: 1, maximum: 604800 } }, required: ['path'] },
            },
          },
        },
        responses: {
          200: {
            description: 'success',
            content: { 'application/json': { schema: { type: 'object', properties: { status: str, path: str, url: str, expiresAt: str }, required: ['status', 'path', 'url', 'expiresAt'] } } },
          },
          ...errorResponses({ 400: 'the body is not JSON, or path is not a file path below the recordings folder', ...o.errors }),
        },
        security: o.security,
      },
    },
  };
}
