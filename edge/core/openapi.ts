import {
  deviceApiPaths,
  errorResponses,
  errorSchemas,
  plainGet,
  recordingSignPath,
  requestSchema,
  toolbarPaths,
  WEBKEY_SCHEME,
  type JsonSchema,
  type OpenApiDocument,
  type OperationObject,
  type Parameter,
  type PathItem,
} from '../../shared/api/openapi.ts';
import { amiState } from '../../shared/tunnel/frames.ts';
import { deviceBody, replayBody, tenantBody } from './admin-schemas.ts';

const str = { type: 'string' };
const strOrNull = { type: ['string', 'null'] };
const int = { type: 'integer' };
const bool = { type: 'boolean' };
const obj = (properties: Record<string, JsonSchema>, required = Object.keys(properties)): JsonSchema => ({ type: 'object', properties, required });
const list = (items: JsonSchema): JsonSchema => ({ type: 'array', items });
const ok = obj({ status: { const: 'success' } });

const MAC: Parameter = {
  name: 'mac',
  in: 'path',
  required: true,
  description: '68:69:2e:03:8b:3e, 68-69-2E-03-8B-3E or 68692e038b3e',
  schema: { type: 'string' },
};
const param = (name: string, description: string): Parameter => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });

const publicDevice = {
  mac: str,
  tenant: str,
  url: strOrNull,
  allowUnauthenticated: bool,
  allowWebkey: bool,
  types: { type: ['array', 'null'], items: str },
  createdAt: str,
};
const deviceListItem = obj({ ...publicDevice, online: bool });

const deviceStatus = obj({
  mac: str,
  tenant: str,
  online: bool,
  since: strOrNull,
  lastDisconnect: { anyOf: [{ type: 'null' }, obj({ at: str, code: int, reason: str })] },
  agentVersion: strOrNull,
  agentRuntime: { type: ['string', 'null'], description: "the agent's Node and build, e.g. `node v26.12.1 (single executable) linux-x64`" },
  asteriskVersion: strOrNull,
  asteriskSupport: {
    description: 'what works on that Asterisk (supported: 13.8 to 22); detail says what is missing and what to do',
    anyOf: [{ type: 'null' }, obj({ version: str, support: { enum: ['supported', 'limited', 'unsupported', 'untested', 'unknown'] }, detail: str })],
  },
  timeZone: strOrNull,
  driver: { enum: ['sip', 'pjsip', null] },
  ami: { enum: [...amiState.options, null], description: 'the AMI link as the agent last reported it' },
  eventsWaitingOnBox: { type: ['integer', 'null'] },
  eventsDroppedOnBox: { type: ['integer', 'null'] },
  eventsWaitingOnEdge: int,
  deadLetters: int,
  gaps: list(
    obj(
      {
        from: int,
        to: { type: ['integer', 'null'] },
        backfill: {
          description: "what the agent recovered of the gap from the box's own records (queue_log, CDRs); absent before it ran",
          ...obj({ state: { enum: ['running', 'filled', 'partial', 'skipped', 'none', 'failed'] }, cdr: int, ccCdr: int, detail: str }),
        },
      },
      ['from', 'to'],
    ),
  ),
  replacements: int,
  conflicts: int,
  lastConflictAt: strOrNull,
  delivery: {
    anyOf: [
      { type: 'null' },
      obj({
        url: strOrNull,
        state: str,
        stopped: { type: ['string', 'null'], description: 'why delivery stopped (410 Gone, a redirect) and what to fix' },
        lastDeliveredAt: strOrNull,
        lastError: { anyOf: [{ type: 'null' }, { type: 'object' }] },
        attempts: { ...int, description: 'failed attempts of the event at the head of the queue' },
        nextAttemptAt: { ...strOrNull, description: 'when the head is tried again, while waiting' },
      }),
    ],
  },
});

const ADMIN_ERRORS: Record<number, string> = { 401: 'Authorization is not Bearer <admin key>, or the admin API is disabled' };
const json = (schema: JsonSchema) => ({ 'application/json': { schema } });

function route(
  operationId: string,
  summary: string,
  tag: string,
  o: { parameters?: Parameter[]; body?: JsonSchema; status?: number; response: JsonSchema; errors?: Record<number, string>; security?: Record<string, string[]>[] },
): OperationObject {
  const errors: Record<number, string> = { ...(tag === 'admin' ? ADMIN_ERRORS : {}), ...(o.errors ?? {}) };
  if (o.body) errors[400] = 'the body is not JSON or a field is invalid; the message names it';
  return {
    operationId,
    summary,
    tags: [tag],
    ...(o.parameters ? { parameters: o.parameters } : {}),
    ...(o.body ? { requestBody: { required: true, content: json(o.body) } } : {}),
    responses: { [o.status ?? 200]: { description: 'success', content: json(o.response) }, ...errorResponses(errors) },
    security: o.security ?? (tag === 'admin' ? [{ admin: [] }] : [{ tenantKey: [] }]),
  };
}

const NO_DEVICE = { 404: 'no such device on this edge' };

function adminPaths(): Record<string, PathItem> {
  const tenant = param('id', 'tenant id (ten_...)');
  const issued = obj({ keyId: str, key: str });
  return {
    '/admin/tenants': {
      post: route('createTenant', 'Create a tenant and its first key (shown once)', 'admin', {
        body: requestSchema(tenantBody),
        status: 201,
        response: obj({ id: str, name: str, keyId: str, key: str }),
      }),
      get: route('listTenants', 'All tenants', 'admin', { response: list(obj({ id: str, name: str, createdAt: int })) }),
    },
    '/admin/tenants/{id}/keys': {
      post: route('issueTenantKey', 'Issue another key for a tenant (rotation: issue, move clients, revoke the old)', 'admin', {
        parameters: [tenant],
        status: 201,
        response: issued,
        errors: { 404: 'no such tenant' },
      }),
      get: route('listTenantKeys', "A tenant's key ids (never the keys)", 'admin', { parameters: [tenant], response: list(obj({ keyId: str, createdAt: strOrNull })) }),
    },
    '/admin/tenants/{id}/keys/{keyId}': {
      delete: route('revokeTenantKey', 'Revoke one tenant key', 'admin', { parameters: [tenant, param('keyId', 'key id (key_...)')], response: ok, errors: { 404: 'no such key' } }),
    },
    '/admin/devices': {
      get: route('listAllDevices', 'Every device, optionally of one tenant, with online', 'admin', {
        parameters: [{ name: 'tenant', in: 'query', required: false, schema: str }],
        response: list(deviceListItem),
      }),
    },
    '/admin/devices/{mac}': {
      put: route('putDevice', 'Register a device (201 with its tunnel token and webhook secret, shown once) or change its settings (200)', 'admin', {
        parameters: [MAC],
        body: requestSchema(deviceBody),
        status: 201,
        response: obj({ ...publicDevice, token: str, webhookSecret: str }),
        errors: { 404: 'the MAC is not a MAC address' },
      }),
      delete: route('deleteDevice', 'Remove a device; its tunnel is closed', 'admin', { parameters: [MAC], response: ok, errors: NO_DEVICE }),
    },
    '/admin/devices/{mac}/token': {
      post: route('rotateDeviceToken', 'New tunnel token (the old one stops working, the tunnel is closed)', 'admin', {
        parameters: [MAC],
        status: 201,
        response: obj({ mac: str, token: str }),
        errors: NO_DEVICE,
      }),
    },
    '/admin/devices/{mac}/webhook-secret': {
      post: route('rotateWebhookSecret', 'New webhook signing secret (whsec_...)', 'admin', {
        parameters: [MAC],
        status: 201,
        response: obj({ mac: str, webhookSecret: str }),
        errors: NO_DEVICE,
      }),
    },
    '/admin/audit': {
      get: route('listAudit', 'Commands that acted on calls: who, which key, which device, what, when, result', 'admin', {
        parameters: [
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          { name: 'mac', in: 'query', required: false, schema: str },
          { name: 'tenant', in: 'query', required: false, schema: str },
        ],
        response: list(obj({ at: str, actor: str, keyId: strOrNull, mac: str, tenant: str, action: str, params: { type: 'object' }, status: int, requestId: str })),
      }),
    },
    '/admin/devices/{mac}/test-event': {
      post: route('sendTestEvent', 'Send a signed test event to the device URL now', 'admin', {
        parameters: [MAC],
        response: { type: 'object' },
        errors: { ...NO_DEVICE, 409: 'the device has no event URL' },
      }),
    },
    '/admin/devices/{mac}/replay': {
      post: route('replayEvents', 'Deliver again from a sequence number (kept 7 days after delivery)', 'admin', {
        parameters: [MAC],
        body: requestSchema(replayBody),
        response: obj({ status: { const: 'success' }, from: int }),
        errors: { ...NO_DEVICE, 409: 'the device has no event URL' },
      }),
    },
    '/admin/devices/{mac}/dead-letters': {
      get: route('listDeadLetters', 'Events the receiver refused three times with a 4xx', 'admin', { parameters: [MAC], response: list({ type: 'object' }), errors: NO_DEVICE }),
    },
    '/admin/devices/{mac}/dead-letters/{seq}/redeliver': {
      post: route('redeliverDeadLetter', 'Try one dead letter again', 'admin', {
        parameters: [MAC, { name: 'seq', in: 'path', required: true, schema: { type: 'integer', minimum: 0 } }],
        response: { type: 'object' },
        errors: { ...NO_DEVICE, 400: 'seq is not a sequence number', 409: 'the device has no event URL' },
      }),
    },
  };
}

/** /openapi.json of the edge: every route it serves, the device API per MAC included. */
export function edgeOpenApi(version: string): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: {
      title: 'coocenter edge',
      version,
      description:
        'The coocenter-api of many PBXs, one per device MAC under /devices/{mac}/coocenter-api, relayed down the tunnel each agent keeps open; the admin API; status, health and metrics.',
    },
    tags: [
      { name: 'coocenter-api', description: 'The documented operations, per device. Authorization: Bearer <tenant key>, or the device WEBKEY digest where its operator allowed it.' },
      { name: 'devices', description: 'What a tenant (or the operator) sees of its devices.' },
      { name: 'admin', description: 'Tenants, keys and devices. Authorization: Bearer <admin key> (COOCENTER_ADMIN_KEY).' },
      { name: 'service', description: 'Health, metrics, the tunnel endpoint, this reference and the status page.' },
    ],
    paths: {
      ...deviceApiPaths({
        prefix: '/devices/{mac}/coocenter-api',
        pathParameters: [MAC],
        security: [{ tenantKey: [] }, { webkey: [] }],
        errors: {
          401: 'Authorization missing or not a valid key for this device',
          403: 'the key does not give access to this device',
          404: 'the MAC is not a MAC address or no such device',
          502: 'Asterisk refused the action or AMI is not connected',
          503: 'the device is offline: its agent is not connected',
          504: 'the device did not answer in time',
        },
      }),
      '/devices': {
        get: route('listDevices', 'The devices this key reaches (a tenant its own, the admin key all), with online', 'devices', {
          response: list(deviceListItem),
          errors: { 401: 'Authorization is not a tenant or admin key' },
          security: [{ tenantKey: [] }, { admin: [] }],
        }),
      },
      ...recordingSignPath({
        path: '/devices/{mac}/recordings/sign',
        pathParameters: [MAC],
        security: [{ tenantKey: [] }, { admin: [] }],
        errors: { 401: 'Authorization missing or invalid', 403: 'only the tenant key that owns this device (or the admin key) may sign recording links', 404: 'no such device' },
      }),
      '/devices/{mac}/status': {
        get: route('deviceStatus', 'Online since when, versions, AMI, events waiting on the box and the edge, dead letters, gaps, conflicts, delivery', 'devices', {
          parameters: [MAC],
          response: deviceStatus,
          errors: { 401: 'Authorization missing or invalid', 403: 'the key does not give access to this device', 404: 'no such device' },
          security: [{ tenantKey: [] }, { admin: [] }, { webkey: [] }],
        }),
      },
      ...toolbarPaths({
        prefix: '/devices/{mac}',
        pathParameters: [MAC],
        tokenPath: '/devices/{mac}/toolbar/token',
        tokenSecurity: [{ tenantKey: [] }, { admin: [] }],
        tokenErrors: { 401: 'Authorization missing or invalid', 403: 'only the tenant key that owns this device (or the admin key) may issue toolbar tokens', 404: 'no such device' },
      }),
      ...adminPaths(),
      '/agent/tunnel': {
        get: {
          operationId: 'agentTunnel',
          summary: 'The WebSocket the agent dials (Authorization: Bearer <device token>, X-Device-Mac)',
          tags: ['service'],
          parameters: [{ name: 'X-Device-Mac', in: 'header', required: true, schema: str }],
          responses: {
            101: { description: 'switching to the tunnel protocol' },
            ...errorResponses({ 400: 'not a WebSocket upgrade, or X-Device-Mac is not a MAC', 401: 'device token refused for this MAC' }),
          },
          security: [{ deviceToken: [] }],
        },
      },
      '/healthz': plainGet('healthz', 'The edge is up, and how many tunnels are open', 'service', {
        type: 'application/json',
        schema: obj({ status: { const: 'ok' }, tunnels: int }),
      }),
      '/metrics': plainGet('metrics', 'Prometheus text format', 'service', { type: 'text/plain', schema: str }),
      '/openapi.json': plainGet('openapi', 'This document', 'service', { type: 'application/json', schema: { type: 'object' } }),
      '/docs': plainGet('docs', 'This document rendered as a page', 'service', { type: 'text/html', schema: str }),
      '/ui': plainGet('statusPage', 'The operators\u2019 status page (asks for an admin or tenant key)', 'service', { type: 'text/html', schema: str }),
    },
    components: {
      schemas: errorSchemas,
      securitySchemes: {
        tenantKey: { type: 'http', scheme: 'bearer', description: 'a tenant key (cok_...) from POST /admin/tenants' },
        admin: { type: 'http', scheme: 'bearer', description: 'COOCENTER_ADMIN_KEY' },
        deviceToken: { type: 'http', scheme: 'bearer', description: 'the device token from PUT /admin/devices/{mac}' },
        webkey: WEBKEY_SCHEME,
      },
    },
  };
}
