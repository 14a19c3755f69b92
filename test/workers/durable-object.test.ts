import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { OperationName, OperationParams } from '../../shared/api/operations.ts';
import type { OperationBody } from '../../shared/api/responses.ts';
import type { RunOptions } from '../../shared/device.ts';
import { createMemoryIdempotencyStore } from '../../shared/idempotency.ts';
import { admin, call, MemoryOutbox, provision, ScriptedDevice, startAgent, until } from '../support/edge-harness.ts';
import { startWorkersEdge } from '../support/workers-edge.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

const MAC = '68:69:2e:03:8b:3e';
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The box's side of idempotency, as the agent's AmiDevice keeps it: one action per key. */
class KeyedDevice extends ScriptedDevice {
  private readonly seen = createMemoryIdempotencyStore({ now: Date.now });
  override async run<N extends OperationName>(op: N, params: OperationParams<N>, options: RunOptions = {}): Promise<OperationBody<N>> {
    if (options.idempotencyKey === undefined) return super.run(op, params);
    const answer = await this.seen.once(op, options.idempotencyKey, JSON.stringify(params), async () => ({ status: 200, body: await super.run(op, params) }));
    return answer.body as OperationBody<N>;
  }
}

async function setup() {
  const edge = await startWorkersEdge({ commandTimeoutMs: 10_000 });
  cleanups.push(() => edge.close());
  const secrets = await provision(edge, MAC);
  const device = new KeyedDevice();
  const outbox = new MemoryOutbox();
  const agent = startAgent(edge, { mac: MAC, token: secrets.token, device, outbox });
  cleanups.push(() => agent.client.close());
  await agent.waitFor('online');
  return { edge, secrets, device, outbox, agent };
}

/** A Workers edge whose device delivers to `rx` (started here), and the device's outbox, no agent yet. */
async function edgeDeliveringTo(rx: WebhookReceiver) {
  await rx.start();
  cleanups.push(() => rx.stop());
  const edge = await startWorkersEdge({ commandTimeoutMs: 10_000 });
  cleanups.push(() => edge.close());
  const secrets = await provision(edge, MAC, { url: rx.url });
  return { edge, secrets, outbox: new MemoryOutbox() };
}

const click = (edge: { url: string }, key: string, idempotencyKey: string) =>
  call(`${edge.url}/devices/${MAC}/coocenter-api/extensions/click-number`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'idempotency-key': idempotencyKey },
    json: { src: '801', dst: '802' },
  });

describe('workers edge: the device object', () => {
  it('a command in flight when the object restarts gets a clear 503, and its retry with the same key does not ring twice', async () => {
    const { edge, secrets, device, agent } = await setup();
    let release!: () => void;
    device.hold['click-number'] = new Promise<void>((r) => (release = r));
    const pending = click(edge, secrets.tenantKey, 'k-restart');
    await until(() => device.calls.some((c) => c.op === 'click-number'), 'the command to reach the box');
    expect((await admin(edge, 'POST', `/admin/devices/${MAC}/restart`)).status).toBe(202);
    const cut = await pending;
    expect(cut.status).toBe(503);
    expect(cut.body.message).toMatch(/may or may not have reached the PBX: retry with the same Idempotency-Key/);
    await until(() => agent.statuses.filter((s) => s.status === 'online').length >= 2, 'the agent back online');
    release();
    const retry = await click(edge, secrets.tenantKey, 'k-restart');
    expect(retry.status).toBe(200);
    expect(device.calls.filter((c) => c.op === 'click-number')).toHaveLength(1);
  });

  it('keeps the tunnel, its facts and its events through hibernation; heartbeats are answered while it sleeps', async () => {
    const { edge, secrets, device, outbox, agent } = await setup();
    const status = () => call(`${edge.url}/devices/${MAC}/status`, { headers: { authorization: `Bearer ${secrets.tenantKey}` } });
    const before = (await status()).body;
    // workerd hibernates an idle object after about 10 s; the agent pings every 10 s meanwhile.
    await new Promise((r) => setTimeout(r, 16_000));
    expect(agent.statuses.filter((s) => s.status === 'online')).toHaveLength(1);
    const after = (await status()).body;
    expect(after).toMatchObject({ online: true, since: before.since, asteriskVersion: '20.20.1', ami: 'ready' });
    const r = await call(`${edge.url}/devices/${MAC}/coocenter-api/queues/queue-info`, { headers: { authorization: `Bearer ${secrets.tenantKey}` } });
    expect(r.status).toBe(200);
    expect(device.calls.at(-1)?.op).toBe('queue-info');
    outbox.append('hangup', { event: 'hangup', n: 1 });
    await until(() => outbox.ackedUpTo === 0, 'an event acked by the woken object');
    expect((await status()).body.eventsWaitingOnEdge).toBe(1);
  }, 40_000);

  it('an evicted object goes on with the retry schedule where it was: the same attempt count, the next attempt at its time', async () => {
    const rx = new WebhookReceiver(() => ({ status: 503 }));
    const { edge, secrets, outbox } = await edgeDeliveringTo(rx);
    outbox.append('hangup', { event: 'hangup', n: 1 });
    const agent = startAgent(edge, { mac: MAC, token: secrets.token, device: new ScriptedDevice(), outbox });
    cleanups.push(() => agent.client.close());
    const delivery = async () => (await call(`${edge.url}/devices/${MAC}/status`, { headers: { authorization: `Bearer ${secrets.tenantKey}` } })).body.delivery;
    const before = await until(async () => {
      const d = await delivery();
      return d?.attempts === 2 && d.nextAttemptAt ? d : undefined;
    }, 'two failed attempts', 15_000);
    expect((await admin(edge, 'POST', `/admin/devices/${MAC}/restart`)).status).toBe(202);
    await until(() => agent.statuses.filter((s) => s.status === 'online').length >= 2, 'the agent back on the new object');
    const after = await until(async () => {
      const d = await delivery();
      return d?.state === 'waiting' ? d : undefined;
    }, 'delivery waiting again');
    expect(after).toMatchObject({ attempts: 2, nextAttemptAt: before.nextAttemptAt, lastError: { status: 503 } });
    expect(rx.received).toHaveLength(2);
  });
});

/** The objects' SQLite files that hold an event queue, opened with better-sqlite3 while workerd is down. */
function withEventFiles(persistDir: string, fn: (db: import('better-sqlite3').Database) => void): number {
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
  let n = 0;
  for (const f of readdirSync(persistDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.sqlite'))) {
    const db = new Database(join(persistDir, f));
    try {
      if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get()) {
        fn(db);
        n++;
      }
    } finally {
      db.close();
    }
  }
  return n;
}

describe('workers edge: an object stored by an older edge', () => {
  it("takes its UNIQUE event table as it wakes: the waiting events go out first, in order, then new ones, each once", async () => {
    let status = 503;
    const accepted: number[] = [];
    const { edge, secrets, outbox } = await edgeDeliveringTo(
      new WebhookReceiver((req) => {
        if (status === 200) accepted.push((JSON.parse(req.body) as { n: number }).n);
        return { status };
      }),
    );
    outbox.append('hangup', { event: 'hangup', n: 1 });
    outbox.append('hangup', { event: 'hangup', n: 2 });
    const first = startAgent(edge, { mac: MAC, token: secrets.token, device: new ScriptedDevice(), outbox });
    await until(() => outbox.ackedUpTo === 1, 'both events committed on the edge');
    first.client.close();
    // What an older edge left: the same rows under UNIQUE (mac, epoch, seq) and its two partial indexes.
    await edge.restart(() => {
      const altered = withEventFiles(edge.persistDir, (db) =>
        db.exec(`CREATE TABLE old AS SELECT * FROM events; DROP TABLE events;
          CREATE TABLE events (pos INTEGER PRIMARY KEY AUTOINCREMENT, mac TEXT NOT NULL, epoch TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, wid TEXT, state TEXT NOT NULL, at INTEGER NOT NULL, reason TEXT, dead_at INTEGER, UNIQUE (mac, epoch, seq));
          INSERT INTO events SELECT * FROM old; DROP TABLE old;
          CREATE INDEX events_waiting ON events (mac, pos) WHERE state = 'waiting'; CREATE INDEX events_dead ON events (mac, pos) WHERE state = 'dead'`),
      );
      // The device's object and the registry's: both keep the one store schema.
      expect(altered).toBe(2);
    });
    status = 200;
    outbox.append('hangup', { event: 'hangup', n: 3 });
    const second = startAgent(edge, { mac: MAC, token: secrets.token, device: new ScriptedDevice(), outbox });
    cleanups.push(() => second.client.close());
    await until(() => accepted.length >= 3, 'the three events delivered', 15_000);
    expect(accepted).toEqual([1, 2, 3]);
    second.client.close();
    const indexes: unknown[] = [];
    await edge.restart(() => {
      withEventFiles(edge.persistDir, (db) => {
        indexes.push(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY name").all());
      });
    });
    // The device's object woke and copied its table; the registry's has not woken since.
    expect(indexes, 'the UNIQUE index went with the copy').toContainEqual([{ name: 'events_line' }]);
  }, 40_000);
});

describe('workers edge: deploy', () => {
  it('wrangler deploy --dry-run builds the Worker offline with both objects bound', async () => {
    const out = mkdtempSync(join(tmpdir(), 'coocenter-deploy-'));
    cleanups.push(() => rmSync(out, { recursive: true, force: true }));
    const { stdout } = await promisify(execFile)('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', out], {
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    });
    expect(stdout).toMatch(/env\.DEVICES \(DeviceObject\)/);
    expect(stdout).toMatch(/env\.REGISTRY \(RegistryObject\)/);
    expect(readdirSync(out)).toContain('index.js');
  });
});
