import type { DeadLetter, QueueEntry } from '../../shared/delivery/queue.ts';
import type { RetryState } from '../../shared/delivery/retry-state.ts';
import type { IdempotencyTable } from '../../shared/idempotency.ts';
import type { OutboxEvent } from '../../shared/tunnel/frames.ts';

/**
 * What the edge keeps. Secrets are never stored, only their SHA-256 (edge/core/secrets.ts); the
 * webhook secret is the exception, because the edge signs with it. Every method may be async: the
 * Node edge uses SQLite (edge/node/sqlite-store.ts), tests use edge/core/memory-store.ts.
 */
export interface TenantRecord {
  id: string;
  name: string;
  createdAt: number;
}

/** One API key of a tenant; several may be live at once so a key can be rotated without downtime. */
export interface TenantKeyRecord {
  id: string;
  tenant: string;
  hash: string;
  createdAt: number;
}

export interface DeviceRecord {
  mac: string;
  tenant: string;
  tokenHash: string;
  /** The operator's push URL; wins over the URL the box sends in its hello. */
  url: string | null;
  allowUnauthenticated: boolean;
  allowWebkey: boolean;
  /** `whsec_<base64>`, Standard Webhooks form. */
  webhookSecret: string;
  /** Event types delivered; null: all. */
  types: string[] | null;
  createdAt: number;
}

export interface AuditEntry {
  at: number;
  /** `admin`, `tenant:<id>`, `webkey` or `open`. */
  actor: string;
  /** Id of the tenant key used (never the key), when one was. */
  keyId: string | null;
  mac: string;
  /** The device's tenant, so a tenant can read its own trail. */
  tenant: string;
  action: string;
  params: Record<string, string>;
  /** HTTP status the caller got. */
  status: number;
  requestId: string;
}

export interface EdgeStore extends IdempotencyTable {
  createTenant(tenant: TenantRecord): Promise<void>;
  getTenant(id: string): Promise<TenantRecord | undefined>;
  listTenants(): Promise<TenantRecord[]>;
  addTenantKey(key: TenantKeyRecord): Promise<void>;
  /** False when the tenant has no such key. */
  removeTenantKey(tenant: string, keyId: string): Promise<boolean>;
  findTenantKey(hash: string): Promise<TenantKeyRecord | undefined>;
  listTenantKeys(tenant: string): Promise<TenantKeyRecord[]>;

  /** Inserts or replaces. */
  putDevice(device: DeviceRecord): Promise<void>;
  getDevice(mac: string): Promise<DeviceRecord | undefined>;
  listDevices(tenant?: string): Promise<DeviceRecord[]>;
  /** Removes the device with its queue and dead letters; false when unknown. */
  deleteDevice(mac: string): Promise<boolean>;

  /**
   * Stores events keyed by (mac, epoch, seq), in the order given, behind everything already waiting
   * for that device. The agent sends each epoch in seq order, so an event at or below the epoch's
   * highest committed seq is a replay after a reconnect and is ignored (even once pruned).
   * Resolves once the events are durable, so the caller may acknowledge them.
   */
  commitEvents(mac: string, epoch: string, events: readonly OutboxEvent[], at: number): Promise<void>;
  /** Highest seq stored for (mac, epoch); -1 when none. */
  committedSeq(mac: string, epoch: string): Promise<number>;

  /** The device's waiting events, oldest first. */
  peekEvents(mac: string, n: number): Promise<QueueEntry[]>;
  /** Marks delivered the waiting events at the head that share the head's epoch and have seq <= uptoSeq. */
  ackEvents(mac: string, uptoSeq: number): Promise<void>;
  deadLetter(mac: string, entry: QueueEntry, reason: string, at: number): Promise<void>;
  waitingCount(mac: string): Promise<number>;
  deadLetterCount(mac: string): Promise<number>;
  listDeadLetters(mac: string): Promise<DeadLetter[]>;
  /** Removes the dead letter with that seq (latest epoch first); false when none. */
  removeDeadLetter(mac: string, seq: number): Promise<boolean>;
  /**
   * Puts delivered events of the latest epoch with seq >= `seq` back in line; returns the first seq
   * that will be sent again, or -1 when none is still kept.
   */
  replayFrom(mac: string, seq: number): Promise<number>;
  /** Where the device's head event stands in its retry schedule; null when it has not failed. */
  getRetryState(mac: string): Promise<RetryState | null>;
  /** Saves (null: forgets) the head's retry state, durably, so a restart keeps the schedule. */
  putRetryState(mac: string, state: RetryState | null): Promise<void>;
  /** Forgets delivered events committed before `before` (epoch ms); they can no longer be replayed. */
  pruneDelivered(before: number): Promise<number>;

  appendAudit(entry: AuditEntry): Promise<void>;
  listAudit(filter: { mac?: string; tenant?: string; limit: number }): Promise<AuditEntry[]>;
}
