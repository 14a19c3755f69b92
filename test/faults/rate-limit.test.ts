import { afterEach, describe, expect, it } from 'vitest';
import { createLanApp } from '../../agent/lan-app.ts';
import { parseConfig } from '../../agent/config.ts';
import { admin, call, provision, startEdge, tempDataDir } from '../support/edge-harness.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { RecordingDevice, serveApp } from '../support/rest-harness.ts';
import { recordInjected } from './injected.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const A = '68:69:2e:03:8b:3e';
const B = '68:69:2e:03:8b:3f';
const limit = { perSecond: 2, burst: 3 };

async function edgeWithTwoTenants() {
  const clock = new ManualClock();
  const data = tempDataDir();
  cleanups.push(() => data.remove());
  const edge = await startEdge(data.dir, { clock, rateLimits: { perKey: limit, perDevice: { perSecond: 2, burst: 5 } } });
  cleanups.push(() => edge.close());
  const a = await provision(edge, A);
  const b = await provision(edge, B);
  const queueInfo = (mac: string, key: string) => call(`${edge.url}/devices/${mac}/coocenter-api/queues/queue-info`, { headers: { authorization: `Bearer ${key}` } });
  return { clock, edge, a, b, queueInfo };
}

describe('edge rate limits', () => {
  it('a flood on one key gets 429 with Retry-After; another tenant is not slowed; the key passes again after Retry-After', async () => {
    const { clock, a, b, queueInfo } = await edgeWithTwoTenants();
    // Offline devices answer 503 once past auth and the limits: 503 means "not limited".
    const flood = await Promise.all(Array.from({ length: 10 }, () => queueInfo(A, a.tenantKey)));
    const limited = flood.filter((r) => r.status === 429);
    expect(flood.filter((r) => r.status === 503)).toHaveLength(3);
    expect(limited).toHaveLength(7);
    const retryAfter = Number(limited[0]!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(limited[0]!.body.message).toMatch(/too many requests .* retry after \d+ s/);
    expect((await queueInfo(B, b.tenantKey)).status).toBe(503);
    clock.advance(retryAfter * 1000);
    expect((await queueInfo(A, a.tenantKey)).status).toBe(503);
    recordInjected('rate-limit', row('edge: 10 requests at once on one key (limit 2/s, burst 3)', 10, flood.length - limited.length - 3, limited.length));
  });

  it('a device is limited across all keys that reach it, and bad keys are refused before the device bucket', async () => {
    const { clock, edge, a, queueInfo } = await edgeWithTwoTenants();
    const second = (await admin(edge, 'POST', `/admin/tenants/${a.tenantId}/keys`)).body.key as string;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await queueInfo(A, a.tenantKey)).status, (await queueInfo(A, second)).status);
    // Two keys, 3 each (within each key's burst), 6 on one device whose burst is 5.
    expect(statuses.filter((s) => s === 503)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    clock.advance(10_000);
    // Wrong keys: 401 each, and they do not use up the device's tokens.
    for (let i = 0; i < 5; i++) expect((await queueInfo(A, `cok_wrong${i}`)).status).toBe(401);
    expect((await queueInfo(A, a.tenantKey)).status).toBe(503);
    recordInjected('rate-limit', row('edge: 6 requests by 2 keys on one device (burst 5)', 6, 0, statuses.filter((s) => s === 429).length));
  });
});

describe('agent LAN rate limits', () => {
  it('past the box limit the LAN API answers 429 with Retry-After and the device is not called', async () => {
    const clock = new ManualClock();
    const device = new RecordingDevice();
    const app = createLanApp({
      config: parseConfig('[general]\n[ami]\nusername=u\nsecret=s\n'),
      device,
      now: () => clock.now(),
      log: () => {},
      rateLimits: { perKey: { perSecond: 100, burst: 100 }, perBox: limit },
    });
    const served = await serveApp(app);
    cleanups.push(() => served.close());
    const url = `http://127.0.0.1:${served.port}/coocenter-api/queues/queue-info`;
    const res = await Promise.all(Array.from({ length: 8 }, () => fetch(url)));
    expect(res.map((r) => r.status).sort()).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
    expect(device.calls).toHaveLength(3);
    const limited = res.find((r) => r.status === 429)!;
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    clock.advance(1000);
    expect((await fetch(url)).status).toBe(200);
    recordInjected('rate-limit', row('agent LAN: 8 requests at once (limit 2/s, burst 3)', 8, device.calls.length - 4, res.filter((r) => r.status === 429).length));
  });
});

/** `limited`: the 429s the flood drew, the evidence that it went past the limit. */
function row(fault: string, commands: number, badThrough: number, limited: number) {
  return { fault: `flood, ${fault}`, injected: limited, injectedWhat: '429s answered', generated: 0, delivered: 0, duplicated: 0, lost: 0, droppedCounted: 0, outOfOrder: 0, commands, commandsAnsweredInTime: commands, badThrough, recoverySec: null };
}
