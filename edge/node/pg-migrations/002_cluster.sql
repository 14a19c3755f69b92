-- Several edges on one database: who is alive, and which instance is each device's home
-- (edge/core/cluster-member.ts). An instance is alive while its seen_at is within the lease.
CREATE TABLE IF NOT EXISTS cluster_instances (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  seen_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS cluster_homes (
  mac TEXT PRIMARY KEY,
  instance TEXT NOT NULL,
  online BOOLEAN NOT NULL DEFAULT false,
  since TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS cluster_homes_instance ON cluster_homes (instance);
-- The secret instances show each other on internal requests.
CREATE TABLE IF NOT EXISTS cluster_secret (id INTEGER PRIMARY KEY CHECK (id = 1), secret TEXT NOT NULL);
-- Per-key token buckets all instances count in (edge/node/pg-key-limit.ts); names are SHA-256 of
-- the Authorization value, never the value.
CREATE TABLE IF NOT EXISTS key_buckets (name TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL, ok BOOLEAN NOT NULL, at TIMESTAMPTZ NOT NULL);
CREATE INDEX IF NOT EXISTS key_buckets_at ON key_buckets (at);
