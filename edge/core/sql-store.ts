import type { DeadLetter, QueueEntry } from '../../shared/delivery/queue.ts';
import { parseRetryState } from '../../shared/delivery/retry-state.ts';
import { GroupCommit } from './group-commit.ts';
import type { SqlDriver, SqlValue } from './sql-driver.ts';
import type { AuditEntry, DeviceRecord, EdgeStore, TenantKeyRecord, TenantRecord } from './store.ts';

/**
 * The event queue. One index, (mac, state, pos): an ack moves the device's delivered position, not
 * rows, so entries only move on a dead letter or a replay. No UNIQUE (mac, epoch, seq): `committed`
 * already keeps an event from being stored twice, and that index took 40% of an insert's time.
 * `pos` is AUTOINCREMENT: it never repeats, even after the newest rows were pruned, which the
 * delivered positions rely on.
 */
const EVENTS_TABLE = (name: string) => `CREATE TABLE IF NOT EXISTS ${name} (
  pos INTEGER PRIMARY KEY AUTOINCREMENT, mac TEXT NOT NULL, epoch TEXT NOT NULL, seq INTEGER NOT NULL,
  type TEXT NOT NULL, body TEXT NOT NULL, wid TEXT, state TEXT NOT NULL, at INTEGER NOT NULL, reason TEXT, dead_at INTEGER)`;
const EVENT_COLUMNS = 'pos, mac, epoch, seq, type, body, wid, state, at, reason, dead_at';
const EVENTS_INDEX = 'CREATE INDEX IF NOT EXISTS events_line ON events (mac, state, pos)';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_keys (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
  mac TEXT PRIMARY KEY, tenant TEXT NOT NULL, token_hash TEXT NOT NULL, url TEXT,
  allow_unauthenticated INTEGER NOT NULL, allow_webkey INTEGER NOT NULL, webhook_secret TEXT NOT NULL,
  types TEXT, created_at INTEGER NOT NULL);
${EVENTS_TABLE('events')};
${EVENTS_INDEX};
CREATE TABLE IF NOT EXISTS committed (mac TEXT NOT NULL, epoch TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (mac, epoch));
CREATE TABLE IF NOT EXISTS delivered (mac TEXT PRIMARY KEY, pos INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, key_id TEXT, mac TEXT NOT NULL,
  tenant TEXT NOT NULL, action TEXT NOT NULL, params TEXT NOT NULL, status INTEGER NOT NULL, request_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_mac ON audit (mac, id);
CREATE INDEX IF NOT EXISTS audit_tenant ON audit (tenant, id);
CREATE TABLE IF NOT EXISTS retry_state (mac TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
  id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS idempotency_expiry ON idempotency (expires_at);
`;

interface DeviceRow {
  mac: string;
  tenant: string;
  token_hash: string;
  url: string | null;
  allow_unauthenticated: number;
  allow_webkey: number;
  webhook_secret: string;
  types: string | null;
  created_at: number;
}

const toDevice = (r: DeviceRow): DeviceRecord => ({
  mac: r.mac,
  tenant: r.tenant,
  tokenHash: r.token_hash,
  url: r.url,
  allowUnauthenticated: r.allow_unauthenticated === 1,
  allowWebkey: r.allow_webkey === 1,
  webhookSecret: r.webhook_secret,
  types: r.types === null ? null : (JSON.parse(r.types) as string[]),
  createdAt: r.created_at,
});

interface EventRow {
  epoch: string;
  seq: number;
  type: string;
  body: string;
  wid: string | null;
}

const toEntry = (r: EventRow): QueueEntry => ({ epoch: r.epoch, seq: r.seq, type: r.type, body: r.body, ...(r.wid !== null ? { id: r.wid } : {}) });

/** Columns added after a table was first created: a store written by an older edge gets them here. */
function migrate(db: SqlDriver): void {
  try {
    db.all('SELECT wid FROM events LIMIT 0');
  } catch {
    db.script('ALTER TABLE events ADD COLUMN wid TEXT');
  }
  // The UNIQUE constraint of older edges can only go with a copy of the table. In one transaction:
  // should this runtime refuse any of it, the store keeps the old table, which works as well.
  if (db.all("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND name LIKE 'sqlite_autoindex_%'").length > 0) {
    try {
      db.transaction(() => {
        const high = db.all<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'")[0]?.seq ?? 0;
        db.script(`${EVENTS_TABLE('events_copy')}; INSERT INTO events_copy (${EVENT_COLUMNS}) SELECT ${EVENT_COLUMNS} FROM events; DROP TABLE events; ALTER TABLE events_copy RENAME TO events`);
        // The copy's positions start where the old table's stopped, pruned rows included.
        db.run("DELETE FROM sqlite_sequence WHERE name = 'events'");
        db.run("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', max(?, coalesce((SELECT max(pos) FROM events), 0)))", high);
      });
    } catch {
      // kept as it was
    }
  }
  // The partial indexes of older edges, for a line whose acks rewrote rows.
  // The copy, if there was one, dropped events_line with the old table.
  db.script(`DROP INDEX IF EXISTS events_waiting; DROP INDEX IF EXISTS events_dead; ${EVENTS_INDEX}`);
}

export type { SqlDriver, SqlValue } from './sql-driver.ts';

/**
 * An event of the `events` table that was delivered. An ack only moves the device's position in
 * `delivered` past the rows it covers, which stay 'waiting' (so a group commit of acks writes one small
 * page instead of rewriting every acknowledged row and its index entry, and the WAL pages a checkpoint
 * copies with them); 'done' is a row set by a replay, or by an older edge.
 */
export const DELIVERED = "(state = 'done' OR (state = 'waiting' AND pos <= coalesce((SELECT d.pos FROM delivered d WHERE d.mac = events.mac), 0)))";
/** The device's delivered position in a statement (the mac as its parameter): 0 before its first ack. */
const DELIVERED_POS = 'coalesce((SELECT pos FROM delivered WHERE mac = ?), 0)';

export interface SqlStoreOptions {
  /**
   * Groups event commits and delivery acks queued until it fires into one transaction
   * (edge/core/group-commit.ts); the Node edge passes setImmediate. Absent: each commits alone.
   */
  defer?: (fn: () => void) => void;
  /**
   * Keeps tenant keys and devices found by lookups in memory, dropped on every write to them through
   * this store: every API request reads both. Only where this store is the file's one writer (the
   * Node edge: one process, one SQLite file), or a revoked key would stay usable.
   */
  cacheLookups?: boolean;
}

/** EdgeStore over any SQLite: the schema is created when missing. */
export function createSqlStore(db: SqlDriver, opts: SqlStoreOptions = {}): EdgeStore {
  db.script(SCHEMA);
  migrate(db);
  const group = new GroupCommit(db, opts.defer);
  const one = <T>(sql: string, ...params: SqlValue[]): T | undefined => db.all<T>(sql, ...params)[0];
  // Only rows found are kept, so unknown keys tried by anyone cannot grow it past the tables.
  const keysByHash = opts.cacheLookups ? new Map<string, TenantKeyRecord>() : null;
  const devicesByMac = opts.cacheLookups ? new Map<string, DeviceRecord>() : null;
  /** A copy of the kept record, or of the one `load` reads (then kept): callers may change theirs. */
  const lookup = <T extends object>(cache: Map<string, T> | null, key: string, load: () => T | undefined): T | undefined => {
    let record = cache?.get(key);
    if (!record) {
      record = load();
      if (!record) return undefined;
      cache?.set(key, record);
    }
    return { ...record };
  };

  const committedSeq = (mac: string, epoch: string): number =>
    one<{ seq: number }>('SELECT seq FROM committed WHERE mac = ? AND epoch = ?', mac, epoch)?.seq ?? -1;
  // The states are literals, so the count is a range of events_line.
  const count = (mac: string, state: 'waiting' | 'dead'): number =>
    (state === 'waiting'
      ? one<{ n: number }>(`SELECT count(*) AS n FROM events WHERE mac = ? AND state = 'waiting' AND pos > ${DELIVERED_POS}`, mac, mac)
      : one<{ n: number }>("SELECT count(*) AS n FROM events WHERE mac = ? AND state = 'dead'", mac)
    )?.n ?? 0;

  const commit = (mac: string, epoch: string, events: readonly { seq: number; type: string; body: string; id?: string | undefined }[], at: number) => {
    let high = committedSeq(mac, epoch);
    for (const e of events) {
      if (e.seq <= high) continue;
      db.run("INSERT INTO events (mac, epoch, seq, type, body, wid, state, at) VALUES (?, ?, ?, ?, ?, ?, 'waiting', ?)", mac, epoch, e.seq, e.type, e.body, e.id ?? null, at);
      high = e.seq;
    }
    db.run('INSERT INTO committed (mac, epoch, seq) VALUES (?, ?, ?) ON CONFLICT (mac, epoch) DO UPDATE SET seq = excluded.seq', mac, epoch, high);
  };

  // The head run ends at the first waiting row of another epoch or past uptoSeq; the events_line
  // index finds it after a row or two, where reading the whole waiting line per ack made delivery O(n^2).
  // The delivered position moves to the run's last row (pos grows with every insert, whatever the mac).
  const ack = (mac: string, uptoSeq: number) => {
    const from = one<{ pos: number }>(`SELECT ${DELIVERED_POS} AS pos`, mac)!.pos;
    const head = one<{ epoch: string }>("SELECT epoch FROM events WHERE mac = ? AND state = 'waiting' AND pos > ? ORDER BY pos LIMIT 1", mac, from);
    if (!head) return;
    const end = one<{ pos: number }>(
      "SELECT pos FROM events WHERE mac = ? AND state = 'waiting' AND pos > ? AND (epoch <> ? OR seq > ?) ORDER BY pos LIMIT 1",
      mac, from, head.epoch, uptoSeq,
    );
    const upto = end ? end.pos - 1 : one<{ pos: number }>("SELECT max(pos) AS pos FROM events WHERE mac = ? AND state = 'waiting'", mac)!.pos;
    db.run('INSERT INTO delivered (mac, pos) VALUES (?, ?) ON CONFLICT (mac) DO UPDATE SET pos = excluded.pos', mac, upto);
  };

  const removeDevice = (mac: string) => db.transaction(() => {
    devicesByMac?.delete(mac);
    db.run('DELETE FROM events WHERE mac = ?', mac);
    db.run('DELETE FROM committed WHERE mac = ?', mac);
    db.run('DELETE FROM delivered WHERE mac = ?', mac);
    db.run('DELETE FROM retry_state WHERE mac = ?', mac);
    return db.run('DELETE FROM devices WHERE mac = ?', mac) > 0;
  });

  const replay = (mac: string, seq: number): number => db.transaction(() => {
    const latest = one<{ epoch: string }>('SELECT epoch FROM events WHERE pos = (SELECT max(pos) FROM events WHERE mac = ?)', mac);
    if (!latest) return -1;
    // Delivered rows get their state, so the position can go back to the start.
    db.run(`UPDATE events SET state = 'done' WHERE mac = ? AND state = 'waiting' AND pos <= ${DELIVERED_POS}`, mac, mac);
    db.run('DELETE FROM delivered WHERE mac = ?', mac);
    const first = one<{ seq: number | null }>("SELECT min(seq) AS seq FROM events WHERE mac = ? AND epoch = ? AND seq >= ? AND state = 'done'", mac, latest.epoch, seq);
    db.run("UPDATE events SET state = 'waiting' WHERE mac = ? AND epoch = ? AND seq >= ? AND state = 'done'", mac, latest.epoch, seq);
    return first?.seq ?? -1;
  });

  type TenantRow = { id: string; name: string; created_at: number };
  type KeyRow = { id: string; tenant: string; hash: string; created_at: number };
  type AuditRow = { at: number; actor: string; key_id: string | null; mac: string; tenant: string; action: string; params: string; status: number; request_id: string };
  const toTenant = (r: TenantRow): TenantRecord => ({ id: r.id, name: r.name, createdAt: r.created_at });
  const toKey = (r: KeyRow): TenantKeyRecord => ({ id: r.id, tenant: r.tenant, hash: r.hash, createdAt: r.created_at });

  return {
    async createTenant(t) {
      db.run('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)', t.id, t.name, t.createdAt);
    },
    async getTenant(id) {
      const r = one<TenantRow>('SELECT * FROM tenants WHERE id = ?', id);
      return r && toTenant(r);
    },
    async listTenants() {
      return db.all<TenantRow>('SELECT * FROM tenants ORDER BY created_at').map(toTenant);
    },
    async addTenantKey(k) {
      db.run('INSERT INTO tenant_keys (id, tenant, hash, created_at) VALUES (?, ?, ?, ?)', k.id, k.tenant, k.hash, k.createdAt);
    },
    async removeTenantKey(tenant, keyId) {
      keysByHash?.clear();
      return db.run('DELETE FROM tenant_keys WHERE tenant = ? AND id = ?', tenant, keyId) > 0;
    },
    async findTenantKey(hash) {
      return lookup(keysByHash, hash, () => {
        const r = one<KeyRow>('SELECT * FROM tenant_keys WHERE hash = ?', hash);
        return r && toKey(r);
      });
    },
    async listTenantKeys(tenant) {
      return db.all<KeyRow>('SELECT * FROM tenant_keys WHERE tenant = ? ORDER BY created_at', tenant).map(toKey);
    },
    async putDevice(d) {
      devicesByMac?.delete(d.mac);
      db.run(
        `INSERT OR REPLACE INTO devices (mac, tenant, token_hash, url, allow_unauthenticated, allow_webkey, webhook_secret, types, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        d.mac, d.tenant, d.tokenHash, d.url, d.allowUnauthenticated ? 1 : 0, d.allowWebkey ? 1 : 0, d.webhookSecret, d.types ? JSON.stringify(d.types) : null, d.createdAt,
      );
    },
    async getDevice(mac) {
      return lookup(devicesByMac, mac, () => {
        const r = one<DeviceRow>('SELECT * FROM devices WHERE mac = ?', mac);
        if (!r) return undefined;
        const device = toDevice(r);
        // Copies share it: frozen, so a caller that would change it fails instead of changing the cache.
        if (devicesByMac && device.types) Object.freeze(device.types);
        return device;
      });
    },
    async listDevices(tenant) {
      const rows =
        tenant === undefined
          ? db.all<DeviceRow>('SELECT * FROM devices ORDER BY mac')
          : db.all<DeviceRow>('SELECT * FROM devices WHERE tenant = ? ORDER BY mac', tenant);
      return rows.map(toDevice);
    },
    async deleteDevice(mac) {
      return removeDevice(mac);
    },
    commitEvents(mac, epoch, events, at) {
      return group.write(() => commit(mac, epoch, events, at));
    },
    async committedSeq(mac, epoch) {
      return committedSeq(mac, epoch);
    },
    async peekEvents(mac, n) {
      return db.all<EventRow>(`SELECT epoch, seq, type, body, wid FROM events WHERE mac = ? AND state = 'waiting' AND pos > ${DELIVERED_POS} ORDER BY pos LIMIT ?`, mac, mac, n).map(toEntry);
    },
    ackEvents(mac, uptoSeq) {
      return group.write(() => ack(mac, uptoSeq), 'relaxed');
    },
    async deadLetter(mac, entry, reason, at) {
      db.run("UPDATE events SET state = 'dead', reason = ?, dead_at = ? WHERE mac = ? AND epoch = ? AND seq = ?", reason, at, mac, entry.epoch, entry.seq);
    },
    async waitingCount(mac) {
      return count(mac, 'waiting');
    },
    async deadLetterCount(mac) {
      return count(mac, 'dead');
    },
    async listDeadLetters(mac): Promise<DeadLetter[]> {
      return db
        .all<EventRow & { reason: string | null; dead_at: number | null; at: number }>(
          "SELECT epoch, seq, type, body, wid, reason, dead_at, at FROM events WHERE mac = ? AND state = 'dead' ORDER BY pos",
          mac,
        )
        .map((r) => ({ ...toEntry(r), reason: r.reason ?? '', at: r.dead_at ?? r.at }));
    },
    async removeDeadLetter(mac, seq) {
      const r = one<{ pos: number }>("SELECT pos FROM events WHERE mac = ? AND state = 'dead' AND seq = ? ORDER BY pos DESC LIMIT 1", mac, seq);
      return r ? db.run('DELETE FROM events WHERE pos = ?', r.pos) > 0 : false;
    },
    async replayFrom(mac, seq) {
      return replay(mac, seq);
    },
    async getRetryState(mac) {
      return parseRetryState(one<{ state: string }>('SELECT state FROM retry_state WHERE mac = ?', mac)?.state);
    },
    async putRetryState(mac, state) {
      if (state === null) db.run('DELETE FROM retry_state WHERE mac = ?', mac);
      else db.run('INSERT OR REPLACE INTO retry_state (mac, state) VALUES (?, ?)', mac, JSON.stringify(state));
    },
    async getIdempotent(id, now) {
      const r = one<{ fingerprint: string; status: number; body: string; expires_at: number }>('SELECT * FROM idempotency WHERE id = ? AND expires_at > ?', id, now);
      return r && { fingerprint: r.fingerprint, answer: { status: r.status, body: JSON.parse(r.body) as unknown }, expiresAt: r.expires_at };
    },
    async putIdempotent(id, rec, now) {
      db.transaction(() => {
        db.run('DELETE FROM idempotency WHERE expires_at <= ?', now);
        db.run(
          'INSERT OR REPLACE INTO idempotency (id, fingerprint, status, body, expires_at) VALUES (?, ?, ?, ?, ?)',
          id, rec.fingerprint, rec.answer.status, JSON.stringify(rec.answer.body ?? null), rec.expiresAt,
        );
      });
    },
    async pruneDelivered(before) {
      return db.run(`DELETE FROM events WHERE at < ? AND ${DELIVERED}`, before);
    },
    async appendAudit(e: AuditEntry) {
      db.run(
        'INSERT INTO audit (at, actor, key_id, mac, tenant, action, params, status, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        e.at, e.actor, e.keyId, e.mac, e.tenant, e.action, JSON.stringify(e.params), e.status, e.requestId,
      );
    },
    async listAudit({ mac, tenant, limit }) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (mac !== undefined) {
        where.push('mac = ?');
        params.push(mac);
      }
      if (tenant !== undefined) {
        where.push('tenant = ?');
        params.push(tenant);
      }
      const rows = db.all<AuditRow>(`SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`, ...params, limit);
      return rows.map((r) => ({
        at: r.at, actor: r.actor, keyId: r.key_id, mac: r.mac, tenant: r.tenant, action: r.action,
        params: JSON.parse(r.params) as Record<string, string>, status: r.status, requestId: r.request_id,
      }));
    },
  };
}
