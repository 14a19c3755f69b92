-- The edge's store (edge/node/pg-store.ts): what edge/core/sql-store.ts keeps in SQLite, with the
-- same columns. Times are epoch milliseconds; JSON is kept as text, byte for byte as it was given.

CREATE TABLE tenants (
  id text PRIMARY KEY,
  name text NOT NULL,
  created_at bigint NOT NULL,
  -- Insertion order: breaks ties of created_at as SQLite's rowid does.
  n bigint GENERATED ALWAYS AS IDENTITY
);

CREATE TABLE tenant_keys (
  id text PRIMARY KEY,
  tenant text NOT NULL,
  hash text NOT NULL UNIQUE,
  created_at bigint NOT NULL,
  n bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX tenant_keys_tenant ON tenant_keys (tenant);

CREATE TABLE devices (
  -- "C": listed in byte order, as SQLite does, whatever the database's locale.
  mac text COLLATE "C" PRIMARY KEY,
  tenant text NOT NULL,
  token_hash text NOT NULL,
  url text,
  allow_unauthenticated boolean NOT NULL,
  allow_webkey boolean NOT NULL,
  webhook_secret text NOT NULL,
  types text,
  created_at bigint NOT NULL
);
CREATE INDEX devices_tenant ON devices (tenant);

-- Each device's event line, in pos order. pos comes from one sequence, and a device's events are
-- written under its advisory lock (edge/node/pg-locks.ts), so a later commit never gets a lower pos.
CREATE TABLE events (
  pos bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  mac text NOT NULL,
  epoch text NOT NULL,
  seq bigint NOT NULL,
  type text NOT NULL,
  body text NOT NULL,
  wid text,
  state text NOT NULL CHECK (state IN ('waiting', 'done', 'dead')),
  at bigint NOT NULL,
  reason text,
  dead_at bigint,
  UNIQUE (mac, epoch, seq)
);
CREATE INDEX events_line ON events (mac, state, pos);
-- The hourly prune reads only delivered events.
CREATE INDEX events_done ON events (at) WHERE state = 'done';

-- Highest seq stored per (mac, epoch), kept when the events are pruned: a replay stays ignored.
CREATE TABLE committed (
  mac text NOT NULL,
  epoch text NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY (mac, epoch)
);

CREATE TABLE audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at bigint NOT NULL,
  actor text NOT NULL,
  key_id text,
  mac text NOT NULL,
  tenant text NOT NULL,
  action text NOT NULL,
  params text NOT NULL,
  status integer NOT NULL,
  request_id text NOT NULL
);
CREATE INDEX audit_mac ON audit (mac, id);
CREATE INDEX audit_tenant ON audit (tenant, id);

CREATE TABLE retry_state (
  mac text PRIMARY KEY,
  state text NOT NULL
);

CREATE TABLE idempotency (
  id text PRIMARY KEY,
  fingerprint text NOT NULL,
  status integer NOT NULL,
  body text NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX idempotency_expiry ON idempotency (expires_at);
