import { afterEach, describe, expect, it } from 'vitest';
import { admin, call, provision, startEdge, tempDataDir } from '../support/edge-harness.ts';

const MAC = '02:00:00:00:0a:01';

describe('edge: a revoked tenant key', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('is refused on the very next request, however often it was just used', async () => {
    const data = tempDataDir();
    cleanups.push(() => data.remove());
    const edge = await startEdge(data.dir);
    cleanups.push(() => edge.close());
    const secrets = await provision(edge, MAC);
    const rotated = (await admin(edge, 'POST', `/admin/tenants/${secrets.tenantId}/keys`)).body as { keyId: string; key: string };
    const queueInfo = (key: string) => call(`${edge.url}/devices/${MAC}/coocenter-api/queues/queue-info`, { headers: { authorization: `Bearer ${key}` } });
    // Accepted (the device is offline, so 503 rather than 200) again and again...
    for (let i = 0; i < 3; i++) expect((await queueInfo(rotated.key)).status).toBe(503);
    expect((await admin(edge, 'DELETE', `/admin/tenants/${secrets.tenantId}/keys/${rotated.keyId}`)).status).toBe(200);
    // ...then refused, while the tenant's other key still works.
    expect((await queueInfo(rotated.key)).status).toBe(401);
    expect((await queueInfo(secrets.tenantKey)).status).toBe(503);
  });
});
