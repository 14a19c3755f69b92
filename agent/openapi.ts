import type { Hono } from 'hono';
import { openApiDocument, TOOLBAR_TAG, WEBKEY_SCHEME, type OpenApiDocument } from '../shared/api/openapi.ts';

/** /openapi.json of the agent's LAN API on BINDPORT: the routes `app` serves, as their specs describe them. */
export function agentOpenApi(app: Hono, version: string): OpenApiDocument {
  return openApiDocument(app, {
    info: {
      title: 'coocenter-api (agent on the PBX)',
      version,
      description:
        'The documented coocenter-api served by the agent on its BINDPORT. When WEBKEY is set in api.conf every request carries Authorization: md5(WEBKEY + date); when it is empty, no Authorization is needed.',
    },
    tags: [
      { name: 'coocenter-api', description: 'The 14 operations of the document and the recordings.' },
      TOOLBAR_TAG,
      { name: 'service', description: 'Health and this reference.' },
    ],
    securitySchemes: { webkey: WEBKEY_SCHEME },
  });
}
