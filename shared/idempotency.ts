import { ApiError } from './errors.ts';

/** An HTTP answer as it was sent, so a repeat gets the same status and body. */
export interface StoredAnswer {
  status: number;
  body: unknown;
}

/**
 * Runs a command at most once per Idempotency-Key. `scope` separates devices and operations, and
 * `fingerprint` identifies the parameters: the same key with other parameters is a client bug, not a
 * retry. Implementations: in memory (the agent) or kept in a durable table (both edges).
 */
export interface IdempotencyStore {
  once(scope: string, key: string, fingerprint: string, act: () => Promise<StoredAnswer>): Promise<StoredAnswer>;
}

export const IDEMPOTENCY_TTL_MS = 10 * 60 * 1000;

interface Entry {
  fingerprint: string;
  /** Set while the first request runs; repeats wait on it. */
  pending?: Promise<StoredAnswer>;
  answer?: StoredAnswer;
  expiresAt: number;
}

/**
 * A 5xx is not cached: 502/503/504 mean the command may not have reached the PBX (Asterisk down,
 * device offline, no answer in time), so a retry must be able to act; a 500 is our bug, not an answer.
 */
const isCacheable = (a: StoredAnswer) => a.status < 500;

const keyReused = () =>
  new ApiError('BAD_PARAMETER', 'Idempotency-Key: this key was already used with other parameters; use a new key for a new command', 'Idempotency-Key');

/** An answer kept for a key, as a durable table holds it. */
export interface KeptAnswer {
  fingerprint: string;
  answer: StoredAnswer;
  expiresAt: number;
}

/** Where answers outlive the process: the edge's store (SQLite on Node, a Durable Object's SQL). */
export interface IdempotencyTable {
  getIdempotent(id: string, now: number): Promise<KeptAnswer | undefined>;
  /** Keeps one answer and forgets those expired by `now`. */
  putIdempotent(id: string, kept: KeptAnswer, now: number): Promise<void>;
}

/**
 * Answers kept in a durable table, so a retry after an edge restart (or a Durable Object eviction)
 * still gets the first answer and does not ring twice. Requests still running are only in memory:
 * a repeat that arrives meanwhile waits for the first.
 */
export function createStoredIdempotencyStore(opts: { now: () => number; table: IdempotencyTable; ttlMs?: number }): IdempotencyStore {
  const { now, table, ttlMs = IDEMPOTENCY_TTL_MS } = opts;
  const running = new Map<string, { fingerprint: string; pending: Promise<StoredAnswer> }>();
  const joinRunning = (id: string, fingerprint: string) => {
    const run = running.get(id);
    if (run && run.fingerprint !== fingerprint) throw keyReused();
    return run?.pending;
  };
  return {
    async once(scope, key, fingerprint, act) {
      const id = `${scope}\n${key}`;
      const first = joinRunning(id, fingerprint);
      if (first) return first;
      const kept = await table.getIdempotent(id, now());
      // Another request with this key may have started while the table was read.
      const started = joinRunning(id, fingerprint);
      if (started) return started;
      if (kept) {
        if (kept.fingerprint !== fingerprint) throw keyReused();
        return kept.answer;
      }
      const pending = act()
        .then(async (answer) => {
          // The command ran: its answer goes back even if keeping it failed (the box's own memory
          // of the key still stops a retry from acting twice).
          if (isCacheable(answer)) await table.putIdempotent(id, { fingerprint, answer, expiresAt: now() + ttlMs }, now()).catch(() => {});
          return answer;
        })
        .finally(() => running.delete(id));
      running.set(id, { fingerprint, pending });
      return pending;
    },
  };
}

export function createMemoryIdempotencyStore(opts: { now: () => number; maxEntries?: number; ttlMs?: number }): IdempotencyStore {
  const { now, maxEntries = 10_000, ttlMs = IDEMPOTENCY_TTL_MS } = opts;
  const entries = new Map<string, Entry>();

  function makeRoom(): void {
    const t = now();
    for (const [k, e] of entries) if (!e.pending && e.expiresAt <= t) entries.delete(k);
    // Still full: drop the oldest finished answers (Map keeps insertion order); running ones stay.
    for (const [k, e] of entries) {
      if (entries.size < maxEntries) break;
      if (!e.pending) entries.delete(k);
    }
  }

  return {
    async once(scope, key, fingerprint, act) {
      const id = `${scope}\n${key}`;
      const existing = entries.get(id);
      if (existing && (existing.pending || existing.expiresAt > now())) {
        if (existing.fingerprint !== fingerprint) throw keyReused();
        return existing.pending ?? existing.answer!;
      }
      if (existing) entries.delete(id);
      if (entries.size >= maxEntries) makeRoom();
      const entry: Entry = { fingerprint, expiresAt: Number.POSITIVE_INFINITY };
      entries.set(id, entry);
      entry.pending = act().then(
        (answer) => {
          delete entry.pending;
          if (isCacheable(answer)) {
            entry.answer = answer;
            entry.expiresAt = now() + ttlMs;
          } else entries.delete(id);
          return answer;
        },
        (err: unknown) => {
          entries.delete(id);
          throw err;
        },
      );
      return entry.pending;
    },
  };
}
