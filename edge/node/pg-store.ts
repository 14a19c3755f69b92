import type postgres from 'postgres';
import type { DeadLetter, QueueEntry } from '../../shared/delivery/queue.ts';
import { parseRetryState } from '../../shared/delivery/retry-state.ts';
import type { AuditEntry, DeviceRecord, EdgeStore, TenantKeyRecord, TenantRecord } from '../core/store.ts';
import { openPgClient, pgWhere, type PgSql } from './pg-client.ts';
import { lockDevices, PgGroupCommit } from './pg-group-commit.ts';
import { migratePg } from './pg-migrate.ts';
import { waitForPostgres } from './pg-wait.ts';

export interface PgStore extends EdgeStore {
  /** The pool the store runs on, for other parts of the edge to query the same database. */
  readonly sql: PgSql;
  close(): Promise<void>;
  /** `PostgreSQL 15.18 at 127.0.0.1:5432/edge`: never the user or password. */
  describe(): string;
}

export interface PgStoreOptions {
  log?(entry: Record<string, unknown>): void;
  /** Connections in the pool (10). */
  max?: number;
  /** How long to wait for PostgreSQL at start before giving up (ms; 60 s). */
  waitMs?: number;
  /** How often to try meanwhile (ms; 3 s). */
  retryMs?: number;
  /** Group writes queued until it fires (setImmediate); null: each write commits alone. */
  defer?: ((fn: () => void) => void) | null;
}

interface DeviceRow {
  mac: string;
  tenant: string;
  token_hash: string;
  url: string | null;
  allow_unauthenticated: boolean;
  allow_webkey: boolean;
  webhook_secret: string;
  types: string | null;
  created_at: number;
}
type TenantRow = { id: string; name: string; created_at: number };
type KeyRow = { id: string; tenant: string; hash: string; created_at: number };
type EventRow = { epoch: string; seq: number; type: string; body: string; wid: string | null };
type AuditRow = { at: number; actor: string; key_id: string | null; mac: string; tenant: string; action: string; params: string; status: number; request_id: string };

const toDevice = (r: DeviceRow): DeviceRecord => ({
  mac: r.mac,
  tenant: r.tenant,
  tokenHash: r.token_hash,
  url: r.url,
  allowUnauthenticated: r.allow_unauthenticated,
  allowWebkey: r.allow_webkey,
  webhookSecret: r.webhook_secret,
  types: r.types === null ? null : (JSON.parse(r.types) as string[]),
  createdAt: r.created_at,
});
const toTenant = (r: TenantRow): TenantRecord => ({ id: r.id, name: r.name, createdAt: r.created_at });
const toKey = (r: KeyRow): TenantKeyRecord => ({ id: r.id, tenant: r.tenant, hash: r.hash, createdAt: r.created_at });
const toEntry = (r: EventRow): QueueEntry => ({ epoch: r.epoch, seq: r.seq, type: r.type, body: r.body, ...(r.wid !== null ? { id: r.wid } : {}) });

/** Settings of synchronous_commit weaker than `on` for a lone server: a commit could be lost after the agent was acked. */
const WEAK_COMMIT = new Set(['off']);

/**
 * The edge's store on PostgreSQL, shared by several edge processes: the semantics of
 * edge/core/sql-store.ts, statement for statement. Waits for the server at start (see
 * waitForPostgres), then applies the migrations of edge/node/pg-migrations/.
 */
export async function openPgStore(url: string, opts: PgStoreOptions = {}): Promise<PgStore> {
  const log = opts.log ?? (() => {});
  const sql = openPgClient(url, { ...(opts.max ? { max: opts.max } : {}), log });
  const { server, database } = pgWhere(sql as unknown as postgres.Sql<Record<string, unknown>>);
  let version: string;
  try {
    version = await waitForPostgres(sql, { where: server, log, ...(opts.waitMs !== undefined ? { waitMs: opts.waitMs } : {}), ...(opts.retryMs !== undefined ? { retryMs: opts.retryMs } : {}) });
    await migratePg(sql, { log });
  } catch (e) {
    await sql.end({ timeout: 0 });
    throw e;
  }
  const [{ synchronous_commit: commitSetting }] = (await sql<{ synchronous_commit: string }[]>`SHOW synchronous_commit`) as unknown as [{ synchronous_commit: string }];
  if (WEAK_COMMIT.has(commitSetting)) {
    log({ level: 'warn', msg: `PostgreSQL at ${server} runs with synchronous_commit=${commitSetting}: the edge sets it on for event commits, set it on for the database`, database });
  }
  const group = new PgGroupCommit(sql, {
    ...(opts.defer !== null ? { defer: opts.defer ?? setImmediate } : {}),
    ...(WEAK_COMMIT.has(commitSetting) ? { fullCommit: 'on' } : {}),
  });

  const one = async <T>(q: postgres.PendingQuery<postgres.Row[]>): Promise<T | undefined> => ((await q) as unknown as T[])[0];
  const all = async <T>(q: postgres.PendingQuery<postgres.Row[]>): Promise<T[]> => [...((await q) as unknown as T[])];
  /** mac's delivered position in a statement (003_delivered.sql), 0 before its first ack, as in edge/core/sql-store.ts. */
  const deliveredPos = (mac: string) => sql`coalesce((SELECT pos FROM delivered WHERE mac = ${mac}), 0)`;
  const count = async (mac: string, state: 'waiting' | 'dead') =>
    (await one<{ n: number }>(
      state === 'waiting'
        ? sql`SELECT count(*) AS n FROM events WHERE mac = ${mac} AND state = 'waiting' AND pos > ${deliveredPos(mac)}`
        : sql`SELECT count(*) AS n FROM events WHERE mac = ${mac} AND state = 'dead'`,
    ))?.n ?? 0;

  return {
    sql,
    describe: () => `PostgreSQL ${version} at ${server}/${database}`,
    async close() {
      await group.drain();
      await sql.end({ timeout: 5 });
    },
    async createTenant(t) {
      await sql`INSERT INTO tenants (id, name, created_at) VALUES (${t.id}, ${t.name}, ${t.createdAt})`;
    },
    async getTenant(id) {
      const r = await one<TenantRow>(sql`SELECT id, name, created_at FROM tenants WHERE id = ${id}`);
      return r && toTenant(r);
    },
    async listTenants() {
      return (await all<TenantRow>(sql`SELECT id, name, created_at FROM tenants ORDER BY created_at, n`)).map(toTenant);
    },
    async addTenantKey(k) {
      await sql`INSERT INTO tenant_keys (id, tenant, hash, created_at) VALUES (${k.id}, ${k.tenant}, ${k.hash}, ${k.createdAt})`;
    },
    async removeTenantKey(tenant, keyId) {
      return (await sql`DELETE FROM tenant_keys WHERE tenant = ${tenant} AND id = ${keyId}`).count > 0;
    },
    async findTenantKey(hash) {
      const r = await one<KeyRow>(sql`SELECT id, tenant, hash, created_at FROM tenant_keys WHERE hash = ${hash}`);
      return r && toKey(r);
    },
    async listTenantKeys(tenant) {
      return (await all<KeyRow>(sql`SELECT id, tenant, hash, created_at FROM tenant_keys WHERE tenant = ${tenant} ORDER BY created_at, n`)).map(toKey);
    },
    async putDevice(d) {
      await sql`
        INSERT INTO devices (mac, tenant, token_hash, url, allow_unauthenticated, allow_webkey, webhook_secret, types, created_at)
        VALUES (${d.mac}, ${d.tenant}, ${d.tokenHash}, ${d.url}, ${d.allowUnauthenticated}, ${d.allowWebkey}, ${d.webhookSecret},
                ${d.types ? JSON.stringify(d.types) : null}, ${d.createdAt})
        ON CONFLICT (mac) DO UPDATE SET tenant = excluded.tenant, token_hash = excluded.token_hash, url = excluded.url,
          allow_unauthenticated = excluded.allow_unauthenticated, allow_webkey = excluded.allow_webkey,
          webhook_secret = excluded.webhook_secret, types = excluded.types, created_at = excluded.created_at`;
    },
    async getDevice(mac) {
      const r = await one<DeviceRow>(sql`SELECT * FROM devices WHERE mac = ${mac}`);
      return r && toDevice(r);
    },
    async listDevices(tenant) {
      const rows =
        tenant === undefined
          ? await all<DeviceRow>(sql`SELECT * FROM devices ORDER BY mac`)
          : await all<DeviceRow>(sql`SELECT * FROM devices WHERE tenant = ${tenant} ORDER BY mac`);
      return rows.map(toDevice);
    },
    async deleteDevice(mac) {
      const [, , , , devices] = await sql.begin((tx) => [
        lockDevices(tx, [mac]),
        tx`DELETE FROM events WHERE mac = ${mac}`,
        tx`DELETE FROM committed WHERE mac = ${mac}`,
        tx`DELETE FROM delivered WHERE mac = ${mac}`,
        tx`DELETE FROM retry_state WHERE mac = ${mac}`,
        tx`DELETE FROM devices WHERE mac = ${mac}`,
      ]);
      return devices.count > 0;
    },
    commitEvents(mac, epoch, events, at) {
      // An event at or below the epoch's high-water mark, or below one before it in the batch, is a
      // replay: skipped, and the mark moves to the highest seq seen. The lock taken first (see
      // PgGroupCommit) makes the mark read here the one the last commit left.
      const input = JSON.stringify(events.map((e, i) => ({ i, seq: e.seq, type: e.type, body: e.body, wid: e.id ?? null })));
      return group.write({
        mac,
        durability: 'full',
        statement: (db) => db`
          WITH mark AS (SELECT coalesce((SELECT seq FROM committed WHERE mac = ${mac} AND epoch = ${epoch}), -1) AS high),
          input AS (
            SELECT e.*, max(e.seq) OVER (ORDER BY e.i ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
            FROM json_to_recordset(${input}::text::json) AS e(i int, seq bigint, type text, body text, wid text)),
          stored AS (
            INSERT INTO events (mac, epoch, seq, type, body, wid, state, at)
            SELECT ${mac}, ${epoch}, seq, type, body, wid, 'waiting', ${at}::bigint FROM input, mark
            WHERE seq > greatest(high, before) ORDER BY i
            ON CONFLICT DO NOTHING)
          INSERT INTO committed (mac, epoch, seq)
          SELECT ${mac}, ${epoch}, greatest(high, (SELECT max(seq) FROM input)) FROM mark
          ON CONFLICT (mac, epoch) DO UPDATE SET seq = excluded.seq`,
      });
    },
    async committedSeq(mac, epoch) {
      return (await one<{ seq: number }>(sql`SELECT seq FROM committed WHERE mac = ${mac} AND epoch = ${epoch}`))?.seq ?? -1;
    },
    async peekEvents(mac, n) {
      return (await all<EventRow>(sql`SELECT epoch, seq, type, body, wid FROM events WHERE mac = ${mac} AND state = 'waiting' AND pos > ${deliveredPos(mac)} ORDER BY pos LIMIT ${n}`)).map(toEntry);
    },
    ackEvents(mac, uptoSeq) {
      // The head run ends at the first waiting row of another epoch or past uptoSeq; the delivered
      // position moves to the run's last row.
      return group.write({
        mac,
        durability: 'relaxed',
        statement: (db) => db`
          WITH done AS (SELECT ${deliveredPos(mac)} AS pos),
          head AS (SELECT e.epoch FROM events e, done WHERE e.mac = ${mac} AND e.state = 'waiting' AND e.pos > done.pos ORDER BY e.pos LIMIT 1),
          stop AS (
            SELECT e.pos FROM events e, done, head
            WHERE e.mac = ${mac} AND e.state = 'waiting' AND e.pos > done.pos AND (e.epoch <> head.epoch OR e.seq > ${uptoSeq}::bigint)
            ORDER BY e.pos LIMIT 1),
          upto AS (
            SELECT coalesce((SELECT pos - 1 FROM stop), (SELECT max(pos) FROM events WHERE mac = ${mac} AND state = 'waiting')) AS pos FROM head)
          INSERT INTO delivered (mac, pos) SELECT ${mac}, pos FROM upto
          ON CONFLICT (mac) DO UPDATE SET pos = excluded.pos`,
      });
    },
    async deadLetter(mac, entry, reason, at) {
      await sql`UPDATE events SET state = 'dead', reason = ${reason}, dead_at = ${at} WHERE mac = ${mac} AND epoch = ${entry.epoch} AND seq = ${entry.seq}`;
    },
    waitingCount: (mac) => count(mac, 'waiting'),
    deadLetterCount: (mac) => count(mac, 'dead'),
    async listDeadLetters(mac): Promise<DeadLetter[]> {
      const rows = await all<EventRow & { reason: string | null; dead_at: number | null; at: number }>(
        sql`SELECT epoch, seq, type, body, wid, reason, dead_at, at FROM events WHERE mac = ${mac} AND state = 'dead' ORDER BY pos`,
      );
      return rows.map((r) => ({ ...toEntry(r), reason: r.reason ?? '', at: r.dead_at ?? r.at }));
    },
    async removeDeadLetter(mac, seq) {
      const gone = await sql`
        DELETE FROM events WHERE pos = (SELECT pos FROM events WHERE mac = ${mac} AND state = 'dead' AND seq = ${seq} ORDER BY pos DESC LIMIT 1)`;
      return gone.count > 0;
    },
    async replayFrom(mac, seq) {
      const [, , , rows] = await sql.begin((tx) => [
        lockDevices(tx, [mac]),
        // Delivered rows get their state, so the position can go back to the start.
        tx`UPDATE events SET state = 'done' WHERE mac = ${mac} AND state = 'waiting' AND pos <= ${deliveredPos(mac)}`,
        tx`DELETE FROM delivered WHERE mac = ${mac}`,
        tx`
          WITH latest AS (SELECT epoch FROM events WHERE mac = ${mac} ORDER BY pos DESC LIMIT 1),
          again AS (
            UPDATE events e SET state = 'waiting' FROM latest
            WHERE e.mac = ${mac} AND e.epoch = latest.epoch AND e.seq >= ${seq}::bigint AND e.state = 'done'
            RETURNING e.seq)
          SELECT min(seq) AS seq FROM again`,
      ]);
      return (rows[0] as { seq: number | null } | undefined)?.seq ?? -1;
    },
    async getRetryState(mac) {
      return parseRetryState((await one<{ state: string }>(sql`SELECT state FROM retry_state WHERE mac = ${mac}`))?.state);
    },
    async putRetryState(mac, state) {
      if (state === null) await sql`DELETE FROM retry_state WHERE mac = ${mac}`;
      else await sql`INSERT INTO retry_state (mac, state) VALUES (${mac}, ${JSON.stringify(state)}) ON CONFLICT (mac) DO UPDATE SET state = excluded.state`;
    },
    async getIdempotent(id, now) {
      const r = await one<{ fingerprint: string; status: number; body: string; expires_at: number }>(
        sql`SELECT fingerprint, status, body, expires_at FROM idempotency WHERE id = ${id} AND expires_at > ${now}`,
      );
      return r && { fingerprint: r.fingerprint, answer: { status: r.status, body: JSON.parse(r.body) as unknown }, expiresAt: r.expires_at };
    },
    async putIdempotent(id, rec, now) {
      await sql.begin((tx) => [
        tx`DELETE FROM idempotency WHERE expires_at <= ${now}`,
        tx`
          INSERT INTO idempotency (id, fingerprint, status, body, expires_at)
          VALUES (${id}, ${rec.fingerprint}, ${rec.answer.status}, ${JSON.stringify(rec.answer.body ?? null)}, ${rec.expiresAt})
          ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, status = excluded.status, body = excluded.body, expires_at = excluded.expires_at`,
      ]);
    },
    async pruneDelivered(before) {
      const [done, positioned] = await sql.begin((tx) => [
        tx`DELETE FROM events WHERE state = 'done' AND at < ${before}`,
        tx`DELETE FROM events e USING delivered d WHERE e.mac = d.mac AND e.state = 'waiting' AND e.pos <= d.pos AND e.at < ${before}`,
      ]);
      return done.count + positioned.count;
    },
    async appendAudit(e: AuditEntry) {
      await sql`
        INSERT INTO audit (at, actor, key_id, mac, tenant, action, params, status, request_id)
        VALUES (${e.at}, ${e.actor}, ${e.keyId}, ${e.mac}, ${e.tenant}, ${e.action}, ${JSON.stringify(e.params)}, ${e.status}, ${e.requestId})`;
    },
    async listAudit({ mac, tenant, limit }) {
      const rows = await all<AuditRow>(sql`
        SELECT * FROM audit WHERE true
        ${mac !== undefined ? sql`AND mac = ${mac}` : sql``}
        ${tenant !== undefined ? sql`AND tenant = ${tenant}` : sql``}
        ORDER BY id DESC LIMIT ${limit}`);
      return rows.map((r) => ({
        at: r.at, actor: r.actor, keyId: r.key_id, mac: r.mac, tenant: r.tenant, action: r.action,
        params: JSON.parse(r.params) as Record<string, string>, status: r.status, requestId: r.request_id,
      }));
    },
  };
}
