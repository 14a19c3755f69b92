import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import mysql from 'mysql2/promise';
import { freePort } from './free-port.ts';

/**
 * A real MariaDB server (Debian's mariadb-server: `mariadbd`, `mariadb-install-db`) of the test's
 * own: a fresh datadir in a temp folder, TCP on 127.0.0.1 at a free port and a Unix socket beside
 * the datadir. Nothing of the machine's own MariaDB (config, service, port 3306) is used.
 */
export interface MariaDb {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The server's Unix socket: the root connection of `query` uses it. */
  readonly socket: string;
  /** The mariadbd process (SIGSTOP it to play a hung server). */
  readonly pid: number;
  /** How long install-db and the start took (ms), for the record. */
  readonly startedInMs: number;
  /** Runs SQL as root on one kept connection (so LOCK TABLES holds until UNLOCK TABLES). */
  query<T = mysql.RowDataPacket[]>(sql: string, params?: unknown[]): Promise<T>;
  /** Stops the server (it refuses connections from then on) and keeps the datadir. */
  stop(): Promise<void>;
  /** Stops the server and removes its folder. */
  close(): Promise<void>;
}

export interface MariaDbOptions {
  /** More mariadbd options, e.g. `--default-time-zone=+09:00`. */
  args?: string[];
  /** How long the server may take to accept connections (ms; 30 s). */
  readyWithinMs?: number;
}

/** Where a Debian binary is: PATH, then the sbin folders a non-login shell may lack. */
function binary(name: string): string {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/bin']) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // next
    }
  }
  throw new Error(`${name} not found: install Debian's mariadb-server (apt-get install mariadb-server); .ci/run does`);
}

const running = new Set<ChildProcess>();
// A test process that dies without its afterAll still takes its servers along.
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/**
 * Starts a MariaDB server with an empty datadir: root (no password) on the socket and on
 * 127.0.0.1. Polls until it accepts connections (no sleeps), failing with its error log if it exits
 * or takes longer than `readyWithinMs`.
 */
export async function startMariaDb(opts: MariaDbOptions = {}): Promise<MariaDb> {
  const t0 = performance.now();
  const mariadbd = binary('mariadbd');
  const installDb = binary('mariadb-install-db');
  const dir = mkdtempSync(join(tmpdir(), 'coo-mariadb-'));
  const datadir = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const errLog = join(dir, 'error.log');
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  // A small redo log: the default 96 MB would be most of the datadir.
  const small = ['--innodb-log-file-size=4M', '--innodb-buffer-pool-size=16M'];
  const install = spawnSync(
    installDb,
    ['--no-defaults', `--datadir=${datadir}`, ...asRoot, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve', ...small],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (install.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed (${install.status ?? install.signal}): ${install.stderr || install.stdout}`);
  }

  const log = () => (existsSync(errLog) ? readFileSync(errLog, 'utf8').split('\n').slice(-15).join('\n') : '(no error log)');
  let proc: ChildProcess | undefined;
  let port = 0;
  let root: mysql.Connection | undefined;
  try {
    // The free port can be taken between the probe and the bind: then the server exits, and
    // another port is tried.
    for (let attempt = 0; !root; attempt++) {
      port = await freePort();
      const p = spawn(
        mariadbd,
        [
          '--no-defaults',
          `--datadir=${datadir}`,
          ...asRoot,
          '--bind-address=127.0.0.1',
          `--port=${port}`,
          `--socket=${socket}`,
          `--pid-file=${join(dir, 'mariadbd.pid')}`,
          `--log-error=${errLog}`,
          '--skip-name-resolve',
          ...small,
          ...(opts.args ?? []),
        ],
        { stdio: 'ignore' },
      );
      proc = p;
      running.add(p);
      let exited = false;
      p.once('exit', () => {
        exited = true;
        running.delete(p);
      });
      const deadline = Date.now() + (opts.readyWithinMs ?? 30_000);
      while (!root) {
        if (exited) break;
        if (Date.now() > deadline) throw new Error(`mariadbd did not accept connections within ${opts.readyWithinMs ?? 30_000} ms:\n${log()}`);
        root = await mysql.createConnection({ socketPath: socket, user: 'root', connectTimeout: 1000, dateStrings: true }).catch(() => undefined);
        if (!root) await new Promise((r) => setTimeout(r, 20));
      }
      if (!root && attempt >= 2) throw new Error(`mariadbd exited before accepting connections:\n${log()}`);
    }
  } catch (err) {
    proc?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const conn = root;
  conn.on('error', () => {});
  const server = proc!;
  const startedInMs = Math.round(performance.now() - t0);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    conn.destroy();
    if (server.exitCode === null && server.signalCode === null) {
      const exit = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    }
  };
  return {
    host: '127.0.0.1',
    port,
    socket,
    pid: server.pid!,
    startedInMs,
    async query<T>(sql: string, params?: unknown[]): Promise<T> {
      const [rows] = await conn.query(sql, params);
      return rows as T;
    },
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The columns of FreePBX's cdr table (framework's installlib, FreePBX 14-17), in its order. */
export const FREEPBX_CDR_COLUMNS: Record<string, string> = {
  calldate: "datetime NOT NULL DEFAULT '1000-01-01 00:00:00'",
  clid: "varchar(80) NOT NULL DEFAULT ''",
  src: "varchar(80) NOT NULL DEFAULT ''",
  dst: "varchar(80) NOT NULL DEFAULT ''",
  dcontext: "varchar(80) NOT NULL DEFAULT ''",
  channel: "varchar(80) NOT NULL DEFAULT ''",
  dstchannel: "varchar(80) NOT NULL DEFAULT ''",
  lastapp: "varchar(80) NOT NULL DEFAULT ''",
  lastdata: "varchar(80) NOT NULL DEFAULT ''",
  duration: 'int(11) NOT NULL DEFAULT 0',
  billsec: 'int(11) NOT NULL DEFAULT 0',
  disposition: "varchar(45) NOT NULL DEFAULT ''",
  amaflags: 'int(11) NOT NULL DEFAULT 0',
  accountcode: "varchar(20) NOT NULL DEFAULT ''",
  uniqueid: "varchar(32) NOT NULL DEFAULT ''",
  userfield: "varchar(255) NOT NULL DEFAULT ''",
  did: "varchar(50) NOT NULL DEFAULT ''",
  recordingfile: "varchar(255) NOT NULL DEFAULT ''",
  cnum: "varchar(80) NOT NULL DEFAULT ''",
  cnam: "varchar(80) NOT NULL DEFAULT ''",
  outbound_cnum: "varchar(80) NOT NULL DEFAULT ''",
  outbound_cnam: "varchar(80) NOT NULL DEFAULT ''",
  dst_cnam: "varchar(80) NOT NULL DEFAULT ''",
  linkedid: "varchar(32) NOT NULL DEFAULT ''",
  peeraccount: "varchar(80) NOT NULL DEFAULT ''",
  sequence: 'int(11) NOT NULL DEFAULT 0',
};

export interface CdrTableOptions {
  database?: string;
  table?: string;
  /** FreePBX columns to leave out (an older FreePBX: `linkedid`, `recordingfile`, ...). */
  without?: string[];
  /** Columns in place of FreePBX's (name -> SQL type), e.g. an `id` AUTO_INCREMENT or a text amaflags. */
  columns?: Record<string, string>;
}

/**
 * Creates the database if needed and the cdr table as FreePBX creates it (InnoDB, utf8mb4, no
 * primary key, indexed on calldate, dst, accountcode, uniqueid, did, recordingfile).
 */
export async function createCdrTable(db: MariaDb, o: CdrTableOptions = {}): Promise<void> {
  const database = o.database ?? 'asteriskcdrdb';
  const table = o.table ?? 'cdr';
  const without = new Set(o.without ?? []);
  const cols = Object.entries(o.columns ?? FREEPBX_CDR_COLUMNS).filter(([name]) => !without.has(name));
  const names = new Set(cols.map(([name]) => name));
  const keys = ['calldate', 'dst', 'accountcode', 'uniqueid', 'did']
    .filter((k) => names.has(k))
    .map((k) => `KEY ${mysql.escapeId(k)} (${mysql.escapeId(k)})`);
  if (names.has('recordingfile')) keys.push('KEY `recordingfile` (`recordingfile`(191))');
  const primary = cols.filter(([, type]) => /AUTO_INCREMENT/i.test(type)).map(([name]) => `PRIMARY KEY (${mysql.escapeId(name)})`);
  await db.query(`CREATE DATABASE IF NOT EXISTS ${mysql.escapeId(database)} DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await db.query(
    `CREATE TABLE ${mysql.escapeId(database)}.${mysql.escapeId(table)} (\n  ` +
      [...cols.map(([name, type]) => `${mysql.escapeId(name)} ${type}`), ...primary, ...keys].join(',\n  ') +
      '\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
  );
}

/** Inserts rows (column -> value; the others take their defaults), in the given order. */
export async function insertCdrs(db: MariaDb, rows: Record<string, string | number>[], o: { database?: string; table?: string } = {}): Promise<void> {
  const target = `${mysql.escapeId(o.database ?? 'asteriskcdrdb')}.${mysql.escapeId(o.table ?? 'cdr')}`;
  for (const row of rows) {
    const names = Object.keys(row);
    await db.query(`INSERT INTO ${target} (${names.map((n) => mysql.escapeId(n)).join(', ')}) VALUES (${names.map(() => '?').join(', ')})`, Object.values(row));
  }
}

export interface CdrUser {
  user: string;
  password: string;
  /** Host part of the account; `%` matches the TCP client 127.0.0.1 and the socket's localhost. */
  host?: string;
  /** What it may read: `asteriskcdrdb.cdr` (the default), `asteriskcdrdb.*`, or null for no grant at all. */
  grant?: string | null;
}

/** Creates a user with SELECT only (on the cdr table unless `grant` says otherwise), as the agent's should be. */
export async function createReadOnlyUser(db: MariaDb, u: CdrUser): Promise<void> {
  const account = `${mysql.escape(u.user)}@${mysql.escape(u.host ?? '%')}`;
  await db.query(`CREATE USER ${account} IDENTIFIED BY ${mysql.escape(u.password)}`);
  const grant = u.grant === undefined ? 'asteriskcdrdb.cdr' : u.grant;
  if (grant !== null) {
    const on = grant
      .split('.')
      .map((part) => (part === '*' ? '*' : mysql.escapeId(part)))
      .join('.');
    await db.query(`GRANT SELECT ON ${on} TO ${account}`);
  }
}
