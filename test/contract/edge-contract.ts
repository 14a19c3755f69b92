import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEdgeApp } from '../../edge/core/app.ts';
import { Hub } from '../../edge/core/hub.ts';
import { createMemoryStore } from '../../edge/core/memory-store.ts';
import { systemClock } from '../../shared/clock.ts';
import { admin, call, MemoryOutbox, provision, recordAnswers, ScriptedDevice, startAgent, until, type TestAgent } from '../support/edge-harness.ts';
import { describedRoutes, expectAnswersMatchSpecs } from '../support/route-answers.ts';
import { sampleAnswer } from '../support/sample-answers.ts';

/** One running edge, whatever the runtime, as the contract drives it. */
export interface ContractEdge {
  url: string;
  /** What the edge logged so far, where the runtime lets the test read it. */
  logs?: () => unknown[];
  /** Stops the edge, runs `whileDown`, and starts it again on the same URL and the same storage. */
  restart(whileDown?: () => void): Promise<void>;
  /**
   * Where the runtime counts keys in fixed periods (Workers), waits until the current one has room
   * for a rate-limit case, so a period rolling over mid-case does not let more through.
   */
  freshRateWindow?(): Promise<void>;
  /** Each instance's own URL, where a monitoring system scrapes /metrics (a cluster: several). Default: url. */
  instanceUrls?(): string[];
  close(): Promise<void>;
}

export interface ContractEdgeOptions {
  commandTimeoutMs?: number;
  /**
   * Limits low enough to reach in a test: this many device requests pass per key (across all its
   * devices) or per device, then 429 for the rest of the test. Unset: the runtime's defaults.
   */
  rateLimits?: { perKey?: number; perDevice?: number };
  /** How long delivered events stay replayable, in ms, instead of 7 days. */
  keepDeliveredMs?: number;
}

export type StartContractEdge = (opts: ContractEdgeOptions) => Promise<ContractEdge>;

const MAC = '68:69:2e:03:8b:3e';
const OTHER = '68:69:2e:03:8b:3f';

/**
 * The edge's promises to CRMs, operators and agents, checked against one runtime: the Node edge
 * (test/integration/edge-tunnel.test.ts) and the Workers edge in workerd (test/workers/).
 */
export function edgeContract(startContractEdge: StartContractEdge): void {
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

// What a failed case cannot say by itself (a timeout above all): the agents' status changes and
// the edges' log, on one timeline from the case's start.
const edges: ContractEdge[] = [];
const agents: TestAgent[] = [];
beforeEach((ctx) => {
  const start = Date.now();
  edges.length = 0;
  agents.length = 0;
  ctx.onTestFailed(() => {
    const lines = [
      ...agents.flatMap((a, i) => a.statuses.map((s) => ({ t: s.t, line: `agent ${i}: ${s.status}${s.reason ? ` (${s.reason})` : ''}` }))),
      ...edges.flatMap((e) => (e.logs?.() ?? []).map((l) => ({ t: Number((l as { t?: number }).t ?? start), line: JSON.stringify(l) }))),
    ].sort((a, b) => a.t - b.t);
    process.stderr.write(`\nthe case's timeline (ms from its start; the last 300 lines):\n${lines.slice(-300).map((l) => `${l.t - start} ${l.line}`).join('\n')}\n`);
  });
});

const startEdge: StartContractEdge = async (o) => {
  const edge = await startContractEdge(o);
  edges.push(edge);
  return edge;
};

// Every answer the cases below get is what the route's spec (and so /openapi.json) says it is:
// checked by the last case, so a run of some cases only (-t) skips it instead of failing.
const received = recordAnswers();

async function setup(settings: Record<string, unknown> = {}, edgeOptions: ContractEdgeOptions = {}) {
  const edge = await startEdge({ commandTimeoutMs: 1000, ...edgeOptions });
  cleanups.push(() => edge.close());
  const secrets = await provision(edge, MAC, settings);
  const device = new ScriptedDevice();
  const outbox = new MemoryOutbox();
  return { edge, secrets, device, outbox };
}

function agent(edge: { url: string }, o: Parameters<typeof startAgent>[1]): TestAgent {
  const a = startAgent(edge, o);
  agents.push(a);
  cleanups.push(() => a.client.close());
  return a;
}

/** A webhook receiver that records what it is sent and answers `status()` (200 by default). */
async function receiver(status: () => number = () => 200): Promise<{ url: string; got: { id: string; body: string; headers: Record<string, string> }[] }> {
  const got: { id: string; body: string; headers: Record<string, string> }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      got.push({ id: String(req.headers['webhook-id']), body, headers: req.headers as Record<string, string> });
      res.statusCode = status();
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

const api = (edge: { url: string }, path: string, key: string, init: RequestInit & { json?: unknown } = {}) =>
  call(`${edge.url}/devices/${MAC}/coocenter-api${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) } });

describe('edge: commands through the tunnel', () => {
  it('relays an operation and answers with the device body; any MAC spelling reaches the same device', async () => {
    const { edge, secrets, device, outbox } = await setup();
    const a = agent(edge, { mac: MAC, token: secrets.token, device, outbox });
    await a.waitFor('online');
    const r = await api(edge, '/extensions/current-calls', secrets.tenantKey, { method: 'POST' });
    expect(r.status).toBe(200);
    // The device's answer, as it gave it.
    expect(r.body).toEqual(sampleAnswer('current-calls', {}));
    const click = await call(`${edge.url}/devices/68-69-2E-03-8B-3E/coocenter-api/extensions/click-number`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secrets.tenantKey}` },
      json: { src: '801', dst: '13800138000' },
    });
    expect(click.status).toBe(200);
    expect(device.calls.at(-1)).toEqual({ op: 'click-number', params: { src: '801', dst: '13800138000' } });
    // A device error keeps its status and message across the tunnel.
    const hang = await api(edge, '/extensions/hangup', secrets.tenantKey, { method: 'POST', json: { extension: '805' } });
    expect(hang).toMatchObject({ status: 409, body: { status: 'error', message: 'extension 805 has no live call' } });
    // Every answer carries its own request id, the one an operator finds in the edge's log.
    const refused = await api(edge, '/extensions/current-calls', 'wrong-key', { method: 'POST' });
    const ids = [r, click, hang, refused].map((x) => x.headers.get('x-request-id'));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // Commands that act on calls are audited with who and which key, never the key itself.
    const audit = await admin(edge, 'GET', `/admin/audit?mac=${MAC}`);
    expect(audit.body.map((e: { action: string; status: number }) => [e.action, e.status])).toEqual([['hangup', 409], ['click-number', 200]]);
    expect(audit.body[0]).toMatchObject({ actor: `tenant:${secrets.tenantId}`, tenant: secrets.tenantId });
    expect(JSON.stringify(audit.body) + JSON.stringify(edge.logs?.() ?? [])).not.toContain(secrets.tenantKey);
  });

  it('a retried click-to-dial with the same Idempotency-Key rings once', async () => {
    const { edge, secrets, device, outbox } = await setup();
    await agent(edge, { mac: MAC, token: secrets.token, device, outbox }).waitFor('online');
    const send = () =>
      api(edge, '/extensions/click-number', secrets.tenantKey, { method: 'POST', headers: { 'idempotency-key': 'k1' }, json: { src: '801', dst: '802' } });
    const [first, second] = [await send(), await send()];
    expect(second).toMatchObject({ status: first.status, body: first.body });
    expect(device.calls.filter((c) => c.op === 'click-number')).toHaveLength(1);
  });

  it('answers 503 when the device is offline, and 504 in bounded time when it is slow', async () => {
    const { edge, secrets, device, outbox } = await setup();
    const offline = await api(edge, '/queues/queue-info', secrets.tenantKey);
    expect(offline.status).toBe(503);
    expect(offline.body.message).toMatch(/offline/);
    await agent(edge, { mac: MAC, token: secrets.token, device, outbox }).waitFor('online');
    device.hold['queue-info'] = new Promise(() => {});
    const started = Date.now();
    const slow = await api(edge, '/queues/queue-info', secrets.tenantKey);
    expect(slow.status).toBe(504);
    expect(slow.body.message).toMatch(/did not answer queue-info within 1 s/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a tunnel cut mid-command gives the caller a clear 503, not a hang', async () => {
    const { edge, secrets, device, outbox } = await setup({}, { commandTimeoutMs: 10_000 });
    const a = agent(edge, { mac: MAC, token: secrets.token, device, outbox });
    await a.waitFor('online');
    device.hold['extension-status'] = new Promise(() => {});
    const pending = api(edge, '/extensions/extension-status', secrets.tenantKey);
    await until(() => device.calls.some((c) => c.op === 'extension-status'), 'the command to reach the device');
    a.client.close();
    const r = await pending;
    expect(r.status).toBe(503);
    expect(r.body.message).toMatch(/tunnel closed before it answered/);
  });
});

describe('edge: device status', () => {
  it("says what works on the box's Asterisk, from the version its agent reports", async () => {
    const { edge, secrets, device, outbox } = await setup();
    const status = async () => (await call(`${edge.url}/devices/${MAC}/status`, { headers: { authorization: `Bearer ${secrets.tenantKey}` } })).body;
    expect((await status()).asteriskSupport).toBeNull();
    const old = agent(edge, { mac: MAC, token: secrets.token, device, outbox, asteriskVersion: '13.7.2' });
    await old.waitFor('online');
    expect(await status()).toMatchObject({
      asteriskVersion: '13.7.2',
      asteriskSupport: { version: '13.7.2', support: 'limited', detail: expect.stringContaining('no PausedReason') },
    });
    old.client.close();
    await agent(edge, { mac: MAC, token: secrets.token, device, outbox }).waitFor('online');
    await until(async () => (await status()).asteriskSupport?.support === 'supported', 'the new agent\'s version assessed');
  });
});

describe('edge: who may call', () => {
  it('refuses another tenant, a missing key, and WEBKEY digests unless the device allows them', async () => {
    const { edge, secrets, device, outbox } = await setup();
    const other = (await admin(edge, 'POST', '/admin/tenants', { name: 'other' })).body;
    const digest = 'a'.repeat(32);
    await agent(edge, { mac: MAC, token: secrets.token, device, outbox, webkeyDigests: [digest] }).waitFor('online');
    expect((await api(edge, '/queues/queue-info', other.key)).status).toBe(403);
    // Unknown device: the same 403, so a key cannot probe which MACs exist.
    const unknown = await call(`${edge.url}/devices/00:11:22:33:44:55/coocenter-api/queues/queue-info`, { headers: { authorization: `Bearer ${other.key}` } });
    expect(unknown.status).toBe(403);
    expect((await call(`${edge.url}/devices/${MAC}/coocenter-api/queues/queue-info`)).status).toBe(401);
    const byDigest = () => call(`${edge.url}/devices/${MAC}/coocenter-api/queues/queue-info`, { headers: { authorization: digest } });
    expect((await byDigest()).status).toBe(401);
    await admin(edge, 'PUT', `/admin/devices/${MAC}`, { tenant: secrets.tenantId, allowWebkey: true });
    expect((await byDigest()).status).toBe(200);
    expect(device.calls).toHaveLength(1);
    // Status is the tenant's to read; the admin API is not.
    expect((await call(`${edge.url}/devices/${MAC}/status`, { headers: { authorization: `Bearer ${secrets.tenantKey}` } })).body).toMatchObject({
      online: true,
      asteriskVersion: '20.20.1',
      ami: 'ready',
    });
    expect((await call(`${edge.url}/admin/devices`, { headers: { authorization: `Bearer ${secrets.tenantKey}` } })).status).toBe(401);
  });

  it('refuses a forged token, another MAC token and a rotated token; rotation closes the live tunnel', async () => {
    const { edge, secrets, device, outbox } = await setup();
    const otherMac = '68:69:2e:03:8b:3f';
    const other = await provision(edge, otherMac, {}, { id: secrets.tenantId, key: secrets.tenantKey });
    const forged = agent(edge, { mac: MAC, token: 'cdt_forged', device, outbox });
    const crossed = agent(edge, { mac: MAC, token: other.token, device, outbox });
    await until(() => forged.statuses.some((s) => /HTTP 401/.test(s.reason ?? '')), 'forged token refused');
    await until(() => crossed.statuses.some((s) => /HTTP 401/.test(s.reason ?? '')), 'other MAC token refused');
    forged.client.close();
    crossed.client.close();

    const good = agent(edge, { mac: MAC, token: secrets.token, device, outbox });
    await good.waitFor('online');
    const rotated = await admin(edge, 'POST', `/admin/devices/${MAC}/token`);
    expect(rotated.status).toBe(201);
    await until(() => good.statuses.some((s) => /REVOKED/.test(s.reason ?? '')), 'tunnel closed REVOKED');
    await until(() => good.statuses.some((s) => /HTTP 401/.test(s.reason ?? '')), 'old token refused on reconnect');
    good.client.close();
    const renewed = agent(edge, { mac: MAC, token: rotated.body.token, device, outbox });
    await renewed.waitFor('online');
  });

  it('a second agent with the same MAC replaces the first, and repeated replacements show as a conflict', async () => {
    const { edge, secrets, device, outbox } = await setup();
    const first = agent(edge, { mac: MAC, token: secrets.token, device, outbox });
    await first.waitFor('online');
    const second = agent(edge, { mac: MAC, token: secrets.token, device: new ScriptedDevice(), outbox });
    await second.waitFor('online');
    await until(() => first.statuses.some((s) => /REPLACED/.test(s.reason ?? '')), 'first agent told it was replaced');
    await api(edge, '/queues/queue-info', secrets.tenantKey);
    expect(device.calls).toHaveLength(0);
    // The first agent comes back (cloned token): a second replacement within the window is a conflict.
    await until(async () => (await call(`${edge.url}/devices/${MAC}/status`, { headers: { authorization: `Bearer ${secrets.tenantKey}` } })).body.conflicts >= 1, 'conflict counted', 10_000);
    // Summed over the instances, as a monitoring system adds up what it scrapes.
    const scraped = await Promise.all((edge.instanceUrls?.() ?? [edge.url]).map((u) => call(`${u}/metrics`)));
    const conflicts = scraped.map((m) => Number(/^coocenter_edge_tunnel_conflicts (\d+)$/m.exec(m.body)?.[1] ?? Number.NaN));
    expect(conflicts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
  });
});

describe('edge: events', () => {
  it('commits before acking, resends after a reconnect without duplicates, and delivers signed events in order', async () => {
    const hook = await receiver();
    const { edge, secrets, device, outbox } = await setup({ url: hook.url });
    for (let i = 0; i < 5; i++) outbox.append('hangup', { event: 'hangup', n: i });
    const a = agent(edge, { mac: MAC, token: secrets.token, device, outbox });
    await until(() => outbox.ackedUpTo === 4, 'first five acked');
    // The agent loses its acks (as after a crash between send and ack): it sends all again.
    a.client.close();
    const replay = new MemoryOutbox(outbox.epoch);
    for (const e of outbox.entries) replay.append(e.type, JSON.parse(e.body));
    for (let i = 5; i < 8; i++) replay.append('hangup', { event: 'hangup', n: i });
    agent(edge, { mac: MAC, token: secrets.token, device, outbox: replay });
    await until(() => replay.ackedUpTo === 7, 'all eight acked');
    await until(() => hook.got.length >= 8, 'eight deliveries');
    const ns = hook.got.map((g) => JSON.parse(g.body).n);
    expect(ns).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const wh = new Webhook(secrets.webhookSecret);
    for (const g of hook.got) expect(() => wh.verify(g.body, g.headers)).not.toThrow();
  });

  it('a dead letter that is not there answers 404; a device without a push URL 409', async () => {
    const hook = await receiver();
    const { edge, secrets, device, outbox } = await setup({ url: hook.url });
    await agent(edge, { mac: MAC, token: secrets.token, device, outbox }).waitFor('online');
    const missing = await admin(edge, 'POST', `/admin/devices/${MAC}/dead-letters/99/redeliver`);
    expect(missing).toMatchObject({ status: 404, body: { status: 'error', message: 'no dead letter with seq 99' } });
    await provision(edge, OTHER, {}, { id: secrets.tenantId, key: secrets.tenantKey });
    expect((await admin(edge, 'POST', `/admin/devices/${OTHER}/dead-letters/0/redeliver`)).status).toBe(409);
  });

  it('loses nothing when the edge restarts mid-stream on the same storage', async () => {
    const hook = await receiver();
    const edge = await startEdge({});
    cleanups.push(() => edge.close());
    const secrets = await provision(edge, MAC, { url: hook.url });
    const outbox = new MemoryOutbox();
    const device = new ScriptedDevice();
    for (let i = 0; i < 50; i++) outbox.append('cdr', { event: 'cdr', n: i });
    const a = agent(edge, { mac: MAC, token: secrets.token, device, outbox });
    await until(() => outbox.ackedUpTo >= 0, 'some events acked');
    await edge.restart(() => {
      for (let i = 50; i < 100; i++) outbox.append('cdr', { event: 'cdr', n: i });
    });
    await until(() => outbox.ackedUpTo === 99, 'all hundred acked after the restart', 10_000);
    await until(() => new Set(hook.got.map((g) => g.id)).size === 100, 'a hundred distinct deliveries', 10_000);
    const firstSeen = [...new Map(hook.got.map((g) => [g.id, JSON.parse(g.body).n as number])).values()];
    expect(firstSeen).toEqual(Array.from({ length: 100 }, (_, i) => i));
    a.client.close();
  });
});

describe('edge: recordings', () => {
  it('streams a 50 MB recording through the tunnel, whole and with Range', async () => {
    const { edge, secrets, device, outbox } = await setup();
    device.recordingSize = 50 * 1024 * 1024;
    await agent(edge, { mac: MAC, token: secrets.token, device, outbox }).waitFor('online');
    const res = await fetch(`${edge.url}/devices/${MAC}/coocenter-api/monitor/big.wav`, { headers: { authorization: `Bearer ${secrets.tenantKey}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(device.recordingSize));
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    let total = 0;
    let wrong = 0;
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (let i = 0; i < value.length; i += 4099) if (value[i] !== (total + i) % 251) wrong++;
      total += value.length;
    }
    expect(total).toBe(device.recordingSize);
    expect(wrong).toBe(0);

    const part = await fetch(`${edge.url}/devices/${MAC}/coocenter-api/monitor/big.wav`, {
      headers: { authorization: `Bearer ${secrets.tenantKey}`, range: 'bytes=1000-1999' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${device.recordingSize}`);
    const bytes = new Uint8Array(await part.arrayBuffer());
    expect(bytes.length).toBe(1000);
    expect(bytes[0]).toBe(1000 % 251);
    const missing = await api(edge, '/monitor/nope.wav', secrets.tenantKey);
    expect(missing.status).toBe(404);
  });
});

describe('edge: what a restart keeps', () => {
  it('a click-to-dial retried with its Idempotency-Key after an edge restart rings once', async () => {
    const { edge, secrets, device, outbox } = await setup();
    const a = agent(edge, { mac: MAC, token: secrets.token, device, outbox });
    await a.waitFor('online');
    const send = () =>
      api(edge, '/extensions/click-number', secrets.tenantKey, { method: 'POST', headers: { 'idempotency-key': 'k-restart' }, json: { src: '801', dst: '802' } });
    const first = await send();
    expect(first.status).toBe(200);
    await edge.restart();
    await until(() => a.statuses.filter((st) => st.status === 'online').length >= 2, 'the agent back online');
    const retry = await send();
    expect(retry).toMatchObject({ status: 200, body: first.body });
    // The scripted box keeps no memory of keys: only the edge's store kept this one from acting twice.
    expect(device.calls.filter((c) => c.op === 'click-number')).toHaveLength(1);
    const other = await api(edge, '/extensions/click-number', secrets.tenantKey, { method: 'POST', headers: { 'idempotency-key': 'k-restart' }, json: { src: '801', dst: '803' } });
    expect(other.status).toBe(400);
  });

  it('the retry schedule goes on after an edge restart: the same attempt count, the next attempt at its time', async () => {
    const hook = await receiver(() => 503);
    const { edge, secrets, device, outbox } = await setup({ url: hook.url });
    outbox.append('hangup', { event: 'hangup', n: 1 });
    const a = agent(edge, { mac: MAC, token: secrets.token, device, outbox });
    const status = async () => (await call(`${edge.url}/devices/${MAC}/status`, { headers: { authorization: `Bearer ${secrets.tenantKey}` } })).body;
    // The first attempt, then the one 5 s later: the next waits about 5 minutes.
    const before = await until(async () => {
      const st = await status();
      return st.delivery?.attempts === 2 && st.delivery.nextAttemptAt ? st.delivery : undefined;
    }, 'two failed attempts', 15_000);
    expect(Date.parse(before.nextAttemptAt) - Date.now()).toBeGreaterThan(4 * 60_000);
    expect(hook.got).toHaveLength(2);
    await edge.restart();
    await until(() => a.statuses.filter((st) => st.status === 'online').length >= 2, 'the agent back online');
    const after = await until(async () => {
      const st = await status();
      return st.delivery?.state === 'waiting' ? st.delivery : undefined;
    }, 'delivery waiting again');
    expect(after).toMatchObject({ attempts: 2, nextAttemptAt: before.nextAttemptAt, lastError: { status: 503 } });
    expect(hook.got).toHaveLength(2);
  });
});

describe('edge: tenant keys', () => {
  it('a revoked key is refused on the very next request, however often it was just used', async () => {
    const { edge, secrets } = await setup();
    const rotated = (await admin(edge, 'POST', `/admin/tenants/${secrets.tenantId}/keys`)).body as { keyId: string; key: string };
    // Accepted (the device is offline, so 503 rather than 200) again and again...
    for (let i = 0; i < 3; i++) expect((await api(edge, '/queues/queue-info', rotated.key)).status).toBe(503);
    expect((await admin(edge, 'DELETE', `/admin/tenants/${secrets.tenantId}/keys/${rotated.keyId}`)).status).toBe(200);
    // ...then refused, while the tenant's other key still works.
    expect((await api(edge, '/queues/queue-info', rotated.key)).status).toBe(401);
    expect((await api(edge, '/queues/queue-info', secrets.tenantKey)).status).toBe(503);
  });
});

describe('edge: rate limits', () => {
  const queueInfo = (edge: { url: string }, mac: string, key: string) =>
    call(`${edge.url}/devices/${mac}/coocenter-api/queues/queue-info`, { headers: { authorization: `Bearer ${key}` } });

  it("a key's limit holds across all its tenant's devices, with 429 and Retry-After; other keys are not slowed", async () => {
    const { edge, secrets } = await setup({}, { rateLimits: { perKey: 4 } });
    await provision(edge, OTHER, {}, { id: secrets.tenantId, key: secrets.tenantKey });
    const third = '68:69:2e:03:8b:40';
    const otherTenant = await provision(edge, third);
    await edge.freshRateWindow?.();
    // Offline devices answer 503 once past auth and the limits: 503 means "not limited".
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 6; i++) {
      const r = await queueInfo(edge, i % 2 ? OTHER : MAC, secrets.tenantKey);
      statuses.push(r.status);
      if (r.status === 429) refused ??= r;
    }
    expect(statuses).toEqual([503, 503, 503, 503, 429, 429]);
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused!.body).toMatchObject({ status: 'error', message: expect.stringMatching(/too many requests for this Authorization.*retry after \d+ s/) });
    // Another tenant's key is counted apart, on its own device.
    expect((await queueInfo(edge, third, otherTenant.tenantKey)).status).toBe(503);
  });

  it('a device is limited across all keys that reach it, not its neighbour; bad keys do not use its share', async () => {
    const { edge, secrets } = await setup({}, { rateLimits: { perDevice: 3 } });
    await provision(edge, OTHER, {}, { id: secrets.tenantId, key: secrets.tenantKey });
    const second = (await admin(edge, 'POST', `/admin/tenants/${secrets.tenantId}/keys`)).body.key as string;
    for (let i = 0; i < 3; i++) expect((await queueInfo(edge, MAC, `cok_wrong${i}`)).status).toBe(401);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await queueInfo(edge, MAC, i % 2 ? second : secrets.tenantKey)).status);
    expect(statuses).toEqual([503, 503, 503, 429, 429, 429]);
    const refused = await queueInfo(edge, MAC, secrets.tenantKey);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.body.message).toMatch(/too many requests for device 68:69:2e:03:8b:3e/);
    expect((await queueInfo(edge, OTHER, secrets.tenantKey)).status).toBe(503);
  });
});

describe('edge: retention', () => {
  it('a delivered event older than the retention is gone from replay, a newer one stays', async () => {
    const keepDeliveredMs = 1500;
    const hook = await receiver();
    const { edge, secrets, device, outbox } = await setup({ url: hook.url }, { keepDeliveredMs });
    agent(edge, { mac: MAC, token: secrets.token, device, outbox });
    outbox.append('hangup', { event: 'hangup', n: 0 });
    await until(() => hook.got.length === 1 && outbox.ackedUpTo === 0, 'the first event delivered');
    // Past its retention, and past the time each edge takes to prune after it (as long again at most).
    await new Promise((r) => setTimeout(r, 2 * keepDeliveredMs + 500));
    outbox.append('hangup', { event: 'hangup', n: 1 });
    await until(() => hook.got.length === 2, 'the second event delivered');
    const replay = await admin(edge, 'POST', `/admin/devices/${MAC}/replay`, { from: 0 });
    expect(replay.body).toEqual({ status: 'success', from: 1 });
    await until(() => hook.got.length === 3, 'the replayed event');
    expect(hook.got.map((g) => JSON.parse(g.body).n)).toEqual([0, 1, 1]);
    expect(hook.got[2]!.id).toBe(hook.got[1]!.id);
  });
});

describe('edge: toolbar', () => {
  async function toolbarSetup() {
    const { edge, secrets: mine, device, outbox } = await setup();
    const theirs = await provision(edge, OTHER);
    const a = agent(edge, { mac: MAC, token: mine.token, device, outbox });
    await a.waitFor('online');
    const issue = (mac: string, key: string | undefined, body: Record<string, unknown>) =>
      call(`${edge.url}/devices/${mac}/toolbar/token`, { method: 'POST', json: body, ...(key ? { headers: { authorization: `Bearer ${key}` } } : {}) });
    return { edge, mine, theirs, device, outbox, agent: a, issue };
  }

  it("issues tokens to the device's own tenant only, and a token acts for its extension on its device only", async () => {
    const { edge, mine, theirs, device, issue } = await toolbarSetup();
    expect((await issue(MAC, undefined, { extension: '801' })).status).toBe(401);
    expect((await issue(MAC, theirs.tenantKey, { extension: '801' })).status).toBe(403);
    expect((await issue(MAC, mine.tenantKey, { extension: '80 1' })).status).toBe(400);
    const issued = await issue(MAC, mine.tenantKey, { extension: '801', ttl: 600 });
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ extension: '801', supervisor: false });
    const auth = { authorization: `Bearer ${issued.body.token}` };

    const base = `${edge.url}/devices/${MAC}/coocenter-api`;
    const denied = await call(`${base}/extensions/hangup`, { method: 'POST', json: { extension: '802' }, headers: auth });
    expect(denied.status).toBe(403);
    expect(device.calls).toEqual([]);
    // Reaches the device (which has no call for 801 and says so).
    const own = await call(`${base}/extensions/hangup`, { method: 'POST', json: { extension: '801' }, headers: auth });
    expect(own.status).toBe(409);
    expect(device.calls).toEqual([{ op: 'hangup', params: { extension: '801' } }]);
    // Not a key for another device, nor for the admin API.
    expect((await call(`${edge.url}/devices/${OTHER}/coocenter-api/queues/queue-info`, { headers: auth })).status).toBe(401);
    expect((await call(`${edge.url}/devices/${MAC}/status`, { headers: auth })).status).toBe(401);
  });

  it("streams one extension's spooled and live events as they cross the tunnel", async () => {
    const { edge, mine, outbox, agent: a, issue } = await toolbarSetup();
    const { body } = await issue(MAC, mine.tenantKey, { extension: '801' });
    expect((await fetch(`${edge.url}/devices/${MAC}/toolbar/stream?token=nope`)).status).toBe(401);
    const ac = new AbortController();
    cleanups.push(() => ac.abort());
    const res = await fetch(`${edge.url}/devices/${MAC}/toolbar/stream?token=${encodeURIComponent(body.token)}`, { signal: ac.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const read = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended: ${text}`);
        text += new TextDecoder().decode(value);
      }
    };
    await read('event: snapshot');
    outbox.append('extensionstatus', { event: 'extensionstatus', exten: '802', status: '8', statustext: 'Ringing', mac: MAC });
    outbox.append('extensionstatus', { event: 'extensionstatus', exten: '801', status: '8', statustext: 'Ringing', mac: MAC });
    await read('"exten":"801"');
    a.client.sendLive([
      { type: 'pause', ext: '802', interface: 'SIP/802', queue: '630', paused: true, reason: 'lunch' },
      { type: 'pause', ext: '801', interface: 'SIP/801', queue: '630', paused: true, reason: 'wrapup' },
    ]);
    await read('event: pause');
    await read('"reason":"wrapup"');
    expect(text).not.toContain('"ext":"802"');
    expect(text).not.toContain('"exten":"802"');
  });
});

describe('edge: the answers', () => {
  it('every answer the cases above got is what its route\u2019s spec (and so /openapi.json) says it is', () => {
    const app = createEdgeApp({ store: createMemoryStore(), hub: new Hub({ clock: systemClock, log: () => {} }), clock: systemClock, adminKey: 'specs', log: () => {} }).app;
    expect(expectAnswersMatchSpecs(describedRoutes(app), received)).toBeGreaterThan(100);
  });
});
}
