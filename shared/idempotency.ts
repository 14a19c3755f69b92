import { ApiError } from './errors.ts';

/** An HTTP answer as it was sent, so a repeat gets the same status and body. */
export interface StoredAnswer {
  status: number;
  body: unknown;
}

/**
 * Runs a command at most once per Idempotency-Key. `scope` separates devices and operations, and
 * `fingerprint` identifies the parameters: the same key with other parameters is a client bug, not a
 * retry. Implementations: in memory (agent; one Durable Object per device on Workers) or durable.
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
        if (existing.fingerprint !== fingerprint) {
          throw new ApiError(
            'BAD_PARAMETER',
            'Idempotency-Key: this key was already used with other parameters; use a new key for a new command',
            'Idempotency-Key',
          );
        }
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
