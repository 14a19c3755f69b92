import type { Hono } from 'hono';
import { openApiDocument, TOOLBAR_TAG, WEBKEY_SCHEME, type OpenApiDocument } from '../../shared/api/openapi.ts';
import { macParam } from './schemas.ts';

/** /openapi.json of the edge: every route `app` serves, the device API per MAC included, as their specs describe them. */
export function edgeOpenApi(app: Hono, version: string): OpenApiDocument {
  return openApiDocument(app, {
    info: {
      title: 'coocenter edge',
      version,
      description:
        'The coocenter-api of many PBXs, one per device MAC under /devices/{mac}/coocenter-api, relayed down the tunnel each agent keeps open; the admin API; status, health and metrics.',
    },
    tags: [
      { name: 'coocenter-api', description: 'The documented operations, per device. Authorization: Bearer <tenant key>, or the device WEBKEY digest where its operator allowed it.' },
      { name: 'devices', description: 'What a tenant (or the operator) sees of its devices.' },
      TOOLBAR_TAG,
      { name: 'admin', description: 'Tenants, keys and devices. Authorization: Bearer <admin key> (COOCENTER_ADMIN_KEY).' },
      { name: 'service', description: 'Health, metrics, the tunnel endpoint, this reference and the status page.' },
    ],
    securitySchemes: {
      tenantKey: { type: 'http', scheme: 'bearer', description: 'a tenant key (cok_...) from POST /admin/tenants' },
      admin: { type: 'http', scheme: 'bearer', description: 'COOCENTER_ADMIN_KEY' },
      deviceToken: { type: 'http', scheme: 'bearer', description: 'the device token from PUT /admin/devices/{mac}' },
      webkey: WEBKEY_SCHEME,
    },
    pathParams: { mac: macParam },
  });
}
