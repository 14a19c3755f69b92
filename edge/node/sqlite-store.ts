import Database from 'better-sqlite3';
import type { DeadLetter, QueueEntry } from '../../shared/delivery/queue.ts';
import type { AuditEntry, DeviceRecord, EdgeStore, TenantKeyRecord, TenantRecord } from '../core/store.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_keys (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
  mac TEXT PRIMARY KEY, tenant TEXT NOT NULL, token_hash TEXT NOT NULL, url TEXT,
  allow_unauthenticated INTEGER NOT NULL, allow_webkey INTEGER NOT NULL, webhook_secret TEXT NOT NULL,
  types TEXT, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  pos INTEGER PRIMARY KEY AUTOINCREMENT, mac TEXT NOT NULL, epoch TEXT NOT NULL, seq INTEGER NOT NULL,
  type TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL, at INTEGER NOT NULL, reason TEXT, dead_at INTEGER,
  UNIQUE (mac, epoch, seq));
CREATE INDEX IF NOT EXISTS events_line ON events (mac, state, pos);
CREATE TABLE IF NOT EXISTS committed (mac TEXT NOT NULL, epoch TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (mac, epoch));
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, key_id TEXT, mac TEXT NOT NULL,
  tenant TEXT NOT NULL, action TEXT NOT NULL, params TEXT NOT NULL, status INTEGER NOT NULL, request_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_mac ON audit (mac, id);
CREATE INDEX IF NOT EXISTS audit_tenant ON audit (tenant, id);
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

export interface SqliteStore extends EdgeStore {
  close(): void;
}

/**
 * The Node edge's store: one SQLite file in WAL mode. synchronous=FULL so a committed event batch is
 * on disk before the agent is told it may forget it (kill -9 and power loss included).
 */
export function openSqliteStore(file: string): SqliteStore {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);

  const q = {
    insertEvent: db.prepare('INSERT OR IGNORE INTO events (mac, epoch, seq, type, body, state, at) VALUES (?, ?, ?, ?, ?, \'waiting\', ?)'),
    committed: db.prepare<[string, string], { seq: number }>('SELECT seq FROM committed WHERE mac = ? AND epoch = ?'),
    setCommitted: db.prepare('INSERT INTO committed (mac, epoch, seq) VALUES (?, ?, ?) ON CONFLICT (mac, epoch) DO UPDATE SET seq = excluded.seq'),
    peek: db.prepare<[string, number], QueueEntry>("SELECT epoch, seq, type, body FROM events WHERE mac = ? AND state = 'waiting' ORDER BY pos LIMIT ?"),
    head: db.prepare<[string, number, number], { pos: number; epoch: string; seq: number }>(
      "SELECT pos, epoch, seq FROM events WHERE mac = ? AND state = 'waiting' AND pos > ? ORDER BY pos LIMIT ?",
    ),
    markDone: db.prepare("UPDATE events SET state = 'done' WHERE mac = ? AND state = 'waiting' AND pos <= ?"),
    dead: db.prepare("UPDATE events SET state = 'dead', reason = ?, dead_at = ? WHERE mac = ? AND epoch = ? AND seq = ?"),
    count: db.prepare<[string, string], { n: number }>('SELECT count(*) AS n FROM events WHERE mac = ? AND state = ?'),
  };

  const commit = db.transaction((mac: string, epoch: string, events: readonly { seq: number; type: string; body: string }[], at: number) => {
    let high = q.committed.get(mac, epoch)?.seq ?? -1;
    for (const e of events) {
      if (e.seq <= high) continue;
      q.insertEvent.run(mac, epoch, e.seq, e.type, e.body, at);
      high = e.seq;
    }
    q.setCommitted.run(mac, epoch, high);
  });

  const ack = db.transaction((mac: string, uptoSeq: number) => {
    let epoch: string | undefined;
    let lastPos = -1;
    for (;;) {
      const rows = q.head.all(mac, lastPos, 1000);
      let stop = rows.length < 1000;
      for (const r of rows) {
        epoch ??= r.epoch;
        if (r.epoch !== epoch || r.seq > uptoSeq) {
          stop = true;
          break;
        }
        lastPos = r.pos;
      }
      if (stop) break;
    }
    if (lastPos >= 0) q.markDone.run(mac, lastPos);
  });

  const removeDevice = db.transaction((mac: string) => {
    db.prepare('DELETE FROM events WHERE mac = ?').run(mac);
    db.prepare('DELETE FROM committed WHERE mac = ?').run(mac);
    return db.prepare('DELETE FROM devices WHERE mac = ?').run(mac).changes > 0;
  });

  const replay = db.transaction((mac: string, seq: number): number => {
    const latest = db.prepare<[string], { epoch: string }>('SELECT epoch FROM events WHERE mac = ? ORDER BY pos DESC LIMIT 1').get(mac);
    if (!latest) return -1;
    const first = db
      .prepare<[string, string, number], { seq: number | null }>("SELECT min(seq) AS seq FROM events WHERE mac = ? AND epoch = ? AND seq >= ? AND state = 'done'")
      .get(mac, latest.epoch, seq);
    db.prepare("UPDATE events SET state = 'waiting' WHERE mac = ? AND epoch = ? AND seq >= ? AND state = 'done'").run(mac, latest.epoch, seq);
    return first?.seq ?? -1;
  });

  return {
    async createTenant(t: TenantRecord) {
      db.prepare('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)').run(t.id, t.name, t.createdAt);
    },
    async getTenant(id) {
      const r = db.prepare<[string], { id: string; name: string; created_at: number }>('SELECT * FROM tenants WHERE id = ?').get(id);
      return r && { id: r.id, name: r.name, createdAt: r.created_at };
    },
    async listTenants() {
      return db
        .prepare<[], { id: string; name: string; created_at: number }>('SELECT * FROM tenants ORDER BY created_at')
        .all()
        .map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at }));
    },
    async addTenantKey(k: TenantKeyRecord) {
      db.prepare('INSERT INTO tenant_keys (id, tenant, hash, created_at) VALUES (?, ?, ?, ?)').run(k.id, k.tenant, k.hash, k.createdAt);
    },
    async removeTenantKey(tenant, keyId) {
      return db.prepare('DELETE FROM tenant_keys WHERE tenant = ? AND id = ?').run(tenant, keyId).changes > 0;
    },
    async findTenantKey(hash) {
      const r = db.prepare<[string], { id: string; tenant: string; hash: string; created_at: number }>('SELECT * FROM tenant_keys WHERE hash = ?').get(hash);
      return r && { id: r.id, tenant: r.tenant, hash: r.hash, createdAt: r.created_at };
    },
    async listTenantKeys(tenant) {
      return db
        .prepare<[string], { id: string; tenant: string; hash: string; created_at: number }>('SELECT * FROM tenant_keys WHERE tenant = ? ORDER BY created_at')
        .all(tenant)
        .map((r) => ({ id: r.id, tenant: r.tenant, hash: r.hash, createdAt: r.created_at }));
    },
    async putDevice(d) {
      db.prepare(
        `INSERT OR REPLACE INTO devices (mac, tenant, token_hash, url, allow_unauthenticated, allow_webkey, webhook_secret, types, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(d.mac, d.tenant, d.tokenHash, d.url, d.allowUnauthenticated ? 1 : 0, d.allowWebkey ? 1 : 0, d.webhookSecret, d.types ? JSON.stringify(d.types) : null, d.createdAt);
    },
    async getDevice(mac) {
      const r = db.prepare<[string], DeviceRow>('SELECT * FROM devices WHERE mac = ?').get(mac);
      return r && toDevice(r);
    },
    async listDevices(tenant) {
      const rows =
        tenant === undefined
          ? db.prepare<[], DeviceRow>('SELECT * FROM devices ORDER BY mac').all()
          : db.prepare<[string], DeviceRow>('SELECT * FROM devices WHERE tenant = ? ORDER BY mac').all(tenant);
      return rows.map(toDevice);
    },
    async deleteDevice(mac) {
      return removeDevice(mac);
    },
    async commitEvents(mac, epoch, events, at) {
      commit(mac, epoch, events, at);
    },
    async committedSeq(mac, epoch) {
      return q.committed.get(mac, epoch)?.seq ?? -1;
    },
    async peekEvents(mac, n) {
      return q.peek.all(mac, n);
    },
    async ackEvents(mac, uptoSeq) {
      ack(mac, uptoSeq);
    },
    async deadLetter(mac, entry, reason, at) {
      q.dead.run(reason, at, mac, entry.epoch, entry.seq);
    },
    async waitingCount(mac) {
      return q.count.get(mac, 'waiting')?.n ?? 0;
    },
    async deadLetterCount(mac) {
      return q.count.get(mac, 'dead')?.n ?? 0;
    },
    async listDeadLetters(mac): Promise<DeadLetter[]> {
      return db
        .prepare<[string], { epoch: string; seq: number; type: string; body: string; reason: string | null; dead_at: number | null; at: number }>(
          "SELECT epoch, seq, type, body, reason, dead_at, at FROM events WHERE mac = ? AND state = 'dead' ORDER BY pos",
        )
        .all(mac)
        .map((r) => ({ epoch: r.epoch, seq: r.seq, type: r.type, body: r.body, reason: r.reason ?? '', at: r.dead_at ?? r.at }));
    },
    async removeDeadLetter(mac, seq) {
      const r = db.prepare<[string, number], { pos: number }>("SELECT pos FROM events WHERE mac = ? AND state = 'dead' AND seq = ? ORDER BY pos DESC LIMIT 1").get(mac, seq);
      return r ? db.prepare('DELETE FROM events WHERE pos = ?').run(r.pos).changes > 0 : false;
    },
    async replayFrom(mac, seq) {
      return replay(mac, seq);
    },
    async pruneDelivered(before) {
      return db.prepare("DELETE FROM events WHERE state = 'done' AND at < ?").run(before).changes;
    },
    async appendAudit(e: AuditEntry) {
      db.prepare('INSERT INTO audit (at, actor, key_id, mac, tenant, action, params, status, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
        e.at, e.actor, e.keyId, e.mac, e.tenant, e.action, JSON.stringify(e.params), e.status, e.requestId,
      );
    },
    async listAudit({ mac, tenant, limit }) {
      const where = [mac !== undefined ? 'mac = @mac' : null, tenant !== undefined ? 'tenant = @tenant' : null].filter(Boolean).join(' AND ');
      const rows = db
        .prepare<{ mac?: string; tenant?: string; limit: number }, { at: number; actor: string; key_id: string | null; mac: string; tenant: string; action: string; params: string; status: number; request_id: string }>(
          `SELECT * FROM audit ${where ? `WHERE ${where}` : ''} ORDER BY id DESC LIMIT @limit`,
        )
        .all({ ...(mac !== undefined ? { mac } : {}), ...(tenant !== undefined ? { tenant } : {}), limit });
      return rows.map((r) => ({
        at: r.at, actor: r.actor, keyId: r.key_id, mac: r.mac, tenant: r.tenant, action: r.action,
        params: JSON.parse(r.params) as Record<string, string>, status: r.status, requestId: r.request_id,
      }));
    },
    close() {
      db.close();
    },
  };
}
