import { afterEach, describe, expect, it } from 'vitest';
import { admin, call, MemoryOutbox, provision, ScriptedDevice, startAgent, startEdge, tempDataDir } from '../support/edge-harness.ts';
import { postgresForFile } from '../support/postgres-for-file.ts';
import { until } from '../support/wait.ts';

const MAC = '68:69:2e:03:8b:3e';
const pg = postgresForFile();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Two edges on one fresh database, addressed directly (no load balancer): the test picks the instance. */
async function pair() {
  const databaseUrl = await pg().createDatabase();
  const data = tempDataDir();
  const [a, b] = await Promise.all([startEdge(data.dir, { databaseUrl }), startEdge(data.dir, { databaseUrl })]);
  cleanups.push(async () => {
    await Promise.all([a!.close(), b!.close()]);
    data.remove();
  });
  return [a!, b!] as const;
}

describe('several edges on one PostgreSQL', () => {
  it('answers for a device from the edge that does not hold its tunnel, and shows it online there', async () => {
    const [a, b] = await pair();
    const secrets = await provision(a, MAC);
    const device = new ScriptedDevice();
    const agent = startAgent(a, { mac: MAC, token: secrets.token, device, outbox: new MemoryOutbox() });
    cleanups.push(() => agent.client.close());
    await agent.waitFor('online');
    const r = await call(`${b.url}/devices/${MAC}/coocenter-api/queues/queue-info`, { headers: { authorization: `Bearer ${secrets.tenantKey}` } });
    expect(r.status).toBe(200);
    expect(device.calls.map((c) => c.op)).toEqual(['queue-info']);
    // Marked online in the store as the tunnel is welcomed: a moment later on other edges.
    await until(async () => (await admin(b, 'GET', '/admin/devices')).body[0]?.online === true, 'b lists the device online');
    // The hop was made once, by b, and the request was served (and logged with its status) on a.
    expect(a.logs.some((l) => l.msg === 'request' && l.path === `/devices/${MAC}/coocenter-api/queues/queue-info` && l.status === 200)).toBe(true);
  });

  it('refuses internal routes and forged hop headers from anyone but another edge', async () => {
    const [a, b] = await pair();
    const secrets = await provision(a, MAC);
    const agent = startAgent(a, { mac: MAC, token: secrets.token, device: new ScriptedDevice(), outbox: new MemoryOutbox() });
    cleanups.push(() => agent.client.close());
    await agent.waitFor('online');
    const handover = await call(`${a.url}/internal/cluster/handover/${MAC}`, { method: 'POST', headers: { 'x-coocenter-cluster': 'guess' }, json: { to: 'me' } });
    expect(handover).toMatchObject({ status: 403, body: { status: 'error', message: expect.stringMatching(/only other instances/) } });
    const forged = await call(`${b.url}/devices/${MAC}/coocenter-api/queues/queue-info`, { headers: { authorization: `Bearer ${secrets.tenantKey}`, 'x-coocenter-cluster': 'guess' } });
    expect(forged.status).toBe(403);
    // The device's tunnel was not moved by any of it.
    expect(agent.statuses.at(-1)?.status).toBe('online');
  });

  it('moves the device to the edge its agent reconnects to, which then serves and delivers for it', async () => {
    const [a, b] = await pair();
    const got: string[] = [];
    const { createServer } = await import('node:http');
    // A slow receiver: the first webhook is still waiting for its answer when the device moves.
    const hook = createServer((req, res) => {
      got.push(String(req.headers['webhook-id']));
      req.resume();
      req.on('end', () => setTimeout(() => res.end('ok'), 300));
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => hook.close(() => r())));
    const secrets = await provision(a, MAC, { url: `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook` });
    const outbox = new MemoryOutbox();
    const first = startAgent(a, { mac: MAC, token: secrets.token, device: new ScriptedDevice(), outbox });
    outbox.append('cdr', { n: 0 });
    await until(() => got.length === 1, 'the first event on its way from a');
    const second = startAgent(b, { mac: MAC, token: secrets.token, device: new ScriptedDevice(), outbox });
    cleanups.push(() => second.client.close());
    await second.waitFor('online');
    await until(() => first.statuses.some((s) => /REPLACED/.test(s.reason ?? '')), 'a closed the old tunnel');
    // The first agent may have redialled and taken the device back meanwhile (a cloned token's
    // ping-pong): once it is closed, the second one holds it.
    first.client.close();
    outbox.append('cdr', { n: 1 });
    await until(() => got.length >= 2, 'the second event delivered, now by b');
    // a let its webhook get its answer before handing over: b started after it, nothing twice.
    expect(got, JSON.stringify([...a.logs, ...b.logs].filter((l) => l.msg !== 'request').map((l) => [l.msg, l.mac, l.seq, l.error, l.to]))).toEqual([...new Set(got)]);
    expect(got).toHaveLength(2);
    // The home now holds the second agent's tunnel; asked through a, the status counts the
    // replacement(s) handed over with the device (the first agent may have redialled once more
    // before the test closed it).
    const status = await until(async () => {
      const r = await call(`${a.url}/devices/${MAC}/status`, { headers: { authorization: `Bearer ${secrets.tenantKey}` } });
      return r.body.online === true ? r : undefined;
    }, 'the second agent online through a');
    expect(status.body.replacements).toBeGreaterThanOrEqual(1);
  });
});
