import type { DeadLetter, QueueEntry } from '../../shared/delivery/queue.ts';
import type { OutboxEvent } from '../../shared/tunnel/frames.ts';
import type { RetryState } from '../../shared/delivery/retry-state.ts';
import type { KeptAnswer } from '../../shared/idempotency.ts';
import type { AuditEntry, DeviceRecord, EdgeStore, TenantKeyRecord, TenantRecord } from './store.ts';

interface Row extends QueueEntry {
  state: 'waiting' | 'done' | 'dead';
  at: number;
  reason?: string;
  deadAt?: number;
}

/** EdgeStore in memory, for unit tests and as the reference the SQLite store must behave like. */
export function createMemoryStore(): EdgeStore {
  const tenants = new Map<string, TenantRecord>();
  const keys = new Map<string, TenantKeyRecord>();
  const devices = new Map<string, DeviceRecord>();
  const queues = new Map<string, Row[]>();
  const audit: AuditEntry[] = [];
  const retry = new Map<string, RetryState>();
  const idempotent = new Map<string, KeptAnswer>();
  /** Highest seq committed per `mac epoch`, kept when delivered rows are pruned. */
  const committed = new Map<string, number>();
  const queue = (mac: string) => {
    let q = queues.get(mac);
    if (!q) queues.set(mac, (q = []));
    return q;
  };
  const entry = (r: Row): QueueEntry => ({ epoch: r.epoch, seq: r.seq, type: r.type, body: r.body, ...(r.id ? { id: r.id } : {}) });

  return {
    async createTenant(t) {
      tenants.set(t.id, { ...t });
    },
    async getTenant(id) {
      return tenants.get(id);
    },
    async listTenants() {
      return [...tenants.values()];
    },
    async addTenantKey(k) {
      keys.set(k.id, { ...k });
    },
    async removeTenantKey(tenant, keyId) {
      const k = keys.get(keyId);
      if (!k || k.tenant !== tenant) return false;
      return keys.delete(keyId);
    },
    async findTenantKey(hash) {
      for (const k of keys.values()) if (k.hash === hash) return k;
      return undefined;
    },
    async listTenantKeys(tenant) {
      return [...keys.values()].filter((k) => k.tenant === tenant);
    },
    async putDevice(d) {
      devices.set(d.mac, { ...d, types: d.types ? [...d.types] : null });
    },
    async getDevice(mac) {
      return devices.get(mac);
    },
    async listDevices(tenant) {
      return [...devices.values()].filter((d) => tenant === undefined || d.tenant === tenant);
    },
    async deleteDevice(mac) {
      queues.delete(mac);
      retry.delete(mac);
      for (const k of committed.keys()) if (k.startsWith(`${mac} `)) committed.delete(k);
      return devices.delete(mac);
    },
    async commitEvents(mac, epoch, events: readonly OutboxEvent[], at) {
      const q = queue(mac);
      const key = `${mac} ${epoch}`;
      let high = committed.get(key) ?? -1;
      for (const e of events) {
        if (e.seq <= high) continue;
        q.push({ epoch, seq: e.seq, type: e.type, body: e.body, ...(e.id ? { id: e.id } : {}), state: 'waiting', at });
        high = e.seq;
      }
      committed.set(key, high);
    },
    async committedSeq(mac, epoch) {
      return committed.get(`${mac} ${epoch}`) ?? -1;
    },
    async peekEvents(mac, n) {
      return queue(mac).filter((r) => r.state === 'waiting').slice(0, n).map(entry);
    },
    async ackEvents(mac, uptoSeq) {
      const waiting = queue(mac).filter((r) => r.state === 'waiting');
      const epoch = waiting[0]?.epoch;
      for (const r of waiting) {
        if (r.epoch !== epoch || r.seq > uptoSeq) break;
        r.state = 'done';
      }
    },
    async deadLetter(mac, e, reason, at) {
      const r = queue(mac).find((x) => x.epoch === e.epoch && x.seq === e.seq);
      if (r) Object.assign(r, { state: 'dead', reason, deadAt: at });
    },
    async waitingCount(mac) {
      return queue(mac).filter((r) => r.state === 'waiting').length;
    },
    async deadLetterCount(mac) {
      return queue(mac).filter((r) => r.state === 'dead').length;
    },
    async listDeadLetters(mac): Promise<DeadLetter[]> {
      return queue(mac)
        .filter((r) => r.state === 'dead')
        .map((r) => ({ ...entry(r), reason: r.reason ?? '', at: r.deadAt ?? r.at }));
    },
    async removeDeadLetter(mac, seq) {
      const q = queue(mac);
      for (let i = q.length - 1; i >= 0; i--) {
        if (q[i]!.state === 'dead' && q[i]!.seq === seq) {
          q.splice(i, 1);
          return true;
        }
      }
      return false;
    },
    async replayFrom(mac, seq) {
      const q = queue(mac);
      const epoch = q[q.length - 1]?.epoch;
      let first = -1;
      for (const r of q) {
        if (r.epoch !== epoch || r.seq < seq || r.state !== 'done') continue;
        r.state = 'waiting';
        if (first === -1) first = r.seq;
      }
      return first;
    },
    async getRetryState(mac) {
      return retry.get(mac) ?? null;
    },
    async putRetryState(mac, state) {
      if (state === null) retry.delete(mac);
      else retry.set(mac, state);
    },
    async getIdempotent(id, now) {
      const r = idempotent.get(id);
      return r && r.expiresAt > now ? r : undefined;
    },
    async putIdempotent(id, record, now) {
      for (const [k, r] of idempotent) if (r.expiresAt <= now) idempotent.delete(k);
      idempotent.set(id, record);
    },
    async pruneDelivered(before) {
      let n = 0;
      for (const [mac, q] of queues) {
        const kept = q.filter((r) => !(r.state === 'done' && r.at < before));
        n += q.length - kept.length;
        queues.set(mac, kept);
      }
      return n;
    },
    async appendAudit(e) {
      audit.push({ ...e });
    },
    async listAudit({ mac, tenant, limit }) {
      return audit.filter((e) => (mac === undefined || e.mac === mac) && (tenant === undefined || e.tenant === tenant)).slice(-limit).reverse();
    },
  };
}
