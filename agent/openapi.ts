import { deviceApiPaths, errorSchemas, plainGet, recordingSignPath, toolbarPaths, WEBKEY_SCHEME, type OpenApiDocument } from '../shared/api/openapi.ts';

/** /openapi.json of the agent's LAN API on BINDPORT: the documented paths, guarded by WEBKEY when set. */
export function agentOpenApi(version: string): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: {
      title: 'coocenter-api (agent on the PBX)',
      version,
      description:
        'The documented coocenter-api served by the agent on its BINDPORT. When WEBKEY is set in api.conf every request carries Authorization: md5(WEBKEY + date); when it is empty, no Authorization is needed.',
    },
    tags: [
      { name: 'coocenter-api', description: 'The 14 operations of the document and the recordings.' },
      { name: 'toolbar', description: "The call-center agent's toolbar: page, live stream, scoped tokens." },
      { name: 'service', description: 'Health and this reference.' },
    ],
    paths: {
      ...deviceApiPaths({
        prefix: '/coocenter-api',
        pathParameters: [],
        security: [{ webkey: [] }, {}],
        errors: {
          401: 'Authorization missing or not a valid WEBKEY digest',
          502: 'Asterisk refused the action or AMI is not connected',
          504: 'Asterisk did not answer in time',
        },
      }),
      ...recordingSignPath({
        path: '/coocenter-api/recordings/sign',
        pathParameters: [],
        security: [{ webkey: [] }, {}],
        errors: { 401: 'Authorization missing or not a valid WEBKEY digest' },
      }),
      ...toolbarPaths({
        prefix: '',
        pathParameters: [],
        tokenPath: '/coocenter-api/toolbar/token',
        tokenSecurity: [{ webkey: [] }, {}],
        tokenErrors: { 401: 'Authorization missing or not a valid WEBKEY digest' },
      }),
      '/healthz': plainGet('healthz', 'The agent is up', 'service', {
        type: 'application/json',
        schema: { type: 'object', properties: { status: { const: 'ok' } }, required: ['status'] },
      }),
      '/openapi.json': plainGet('openapi', 'This document', 'service', { type: 'application/json', schema: { type: 'object' } }),
      '/docs': plainGet('docs', 'This document rendered as a page', 'service', { type: 'text/html', schema: { type: 'string' } }),
    },
    components: { schemas: errorSchemas, securitySchemes: { webkey: WEBKEY_SCHEME } },
  };
}
