import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { freePort } from './free-port.ts';

/**
 * A real PostgreSQL server (Debian's `postgresql`: initdb and postgres from the newest
 * /usr/lib/postgresql/<version>/bin) of the test's own: a fresh datadir in a temp folder, TCP on
 * 127.0.0.1 at a free port, its Unix socket in the temp folder. Nothing of the machine's own cluster
 * (config, service, port 5432) is used.
 */
export interface Postgres {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The server's version, e.g. `15.18`. */
  readonly version: string;
  /** The running postmaster (SIGSTOP it to play a hung server); 0 while stopped. */
  readonly pid: number;
  /** How long initdb and the first start took (ms), for the record. */
  readonly startedInMs: number;
  /** Superuser `postgres` on the Unix socket, database `postgres` (reconnects after a restart). */
  readonly admin: postgres.Sql;
  /** URL of `database` over TCP as the login role `edge` (password auth, not a superuser). */
  url(database: string): string;
  /** Creates a database with a random name owned by `edge`; returns its URL. */
  createDatabase(): Promise<string>;
  /** Fast shutdown (SIGINT: open sessions are cut, everything committed is kept); keeps the datadir. */
  stop(): Promise<void>;
  /** Starts the server again on the same port and datadir. */
  start(): Promise<void>;
  /** SIGKILL to the postmaster and its backends, as a crash; `start()` then recovers from the WAL. */
  kill(): Promise<void>;
  /** Stops the server and removes its folder. */
  close(): Promise<void>;
}

export interface PostgresOptions {
  /** More server settings, e.g. `['-c', 'fsync=off']`. */
  args?: string[];
  /** How long a start may take to accept connections (ms; 30 s). */
  readyWithinMs?: number;
}

/** The newest PostgreSQL Debian installed. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    : [];
  if (!versions[0]) throw new Error("PostgreSQL not found in /usr/lib/postgresql/*/bin: install Debian's postgresql (apt-get install postgresql); .ci/run does");
  return join(root, versions[0], 'bin');
}

/**
 * initdb and postgres refuse to run as root: as root they run as the `postgres` user. Node's
 * spawn drops to its uid and gid itself; runuser would sit in between as a watching parent that turns
 * our SIGINT (fast shutdown) into SIGTERM and leaves the postmaster behind when it is SIGKILLed.
 */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root, and there is no postgres user to run PostgreSQL as (Debian\'s postgresql package creates it)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

const running = new Set<number>();
// A test process that dies without its afterAll still takes its servers along.
process.once('exit', () => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Pids whose parent is `pid` (the postmaster's backends and helpers). */
function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) kids.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return kids;
}

function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/**
 * Creates a datadir (trust on the socket for the superuser, scram-sha-256 on TCP) and starts
 * PostgreSQL on it. Polls until it answers (no sleeps), failing with its log if it exits first or
 * takes longer than `readyWithinMs`.
 */
export async function startPostgres(opts: PostgresOptions = {}): Promise<Postgres> {
  const t0 = performance.now();
  const bin = binDir();
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'coo-postgres-'));
  const datadir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  mkdirSync(datadir, { mode: 0o700 });
  if (user) for (const p of [dir, datadir]) chownSync(p, user.uid, user.gid);
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: dir };
  const init = spawnSync(join(bin, 'initdb'), ['-D', datadir, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'], {
    encoding: 'utf8',
    timeout: 60_000,
    cwd: dir,
    env,
    ...user,
  });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status ?? init.signal}): ${init.stderr || init.stdout}`);
  }
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '(no log)');
  const password = randomBytes(12).toString('hex');
  const port = await freePort();
  let proc: ChildProcess | undefined;
  let pid = 0;
  const admin = postgres({ host: dir, port, user: 'postgres', database: 'postgres', max: 2, connect_timeout: 2, onnotice: () => {} });

  const start = async () => {
    if (proc) throw new Error('PostgreSQL is already running');
    const out = openSync(logFile, 'a');
    const p = spawn(
      join(bin, 'postgres'),
      ['-D', datadir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'shared_buffers=32MB', ...(opts.args ?? [])],
      { cwd: dir, env, stdio: ['ignore', out, out], ...user },
    );
    closeSync(out);
    proc = p;
    pid = p.pid!;
    running.add(pid);
    let exited = false;
    p.once('exit', () => {
      exited = true;
      running.delete(p.pid!);
      if (proc === p) {
        proc = undefined;
        pid = 0;
      }
    });
    const within = opts.readyWithinMs ?? 30_000;
    const deadline = Date.now() + within;
    for (;;) {
      if (exited) throw new Error(`postgres exited before accepting connections:\n${log()}`);
      if (await admin`SELECT 1`.then(() => true, () => false)) return;
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within ${within} ms:\n${log()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const signal = async (sig: NodeJS.Signals) => {
    const p = proc;
    if (!p) return;
    const exit = new Promise((r) => p.once('exit', r));
    const backends = sig === 'SIGKILL' ? childrenOf(p.pid!) : [];
    p.kill(sig);
    for (const b of backends) {
      try {
        process.kill(b, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    await exit;
    clearTimeout(timer);
    // Backends still attached to the old shared memory would make the next start refuse it.
    while (backends.some(alive)) await new Promise((r) => setTimeout(r, 10));
  };

  try {
    await start();
    await admin.unsafe(`CREATE ROLE edge LOGIN PASSWORD '${password}'`);
  } catch (err) {
    await signal('SIGKILL');
    await admin.end({ timeout: 0 });
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const [{ server_version }] = (await admin`SHOW server_version`) as unknown as [{ server_version: string }];
  const startedInMs = Math.round(performance.now() - t0);
  const url = (database: string) => `postgres://edge:${password}@127.0.0.1:${port}/${database}`;

  return {
    host: '127.0.0.1',
    port,
    version: server_version.split(' ')[0]!,
    get pid() {
      return pid;
    },
    startedInMs,
    admin,
    url,
    async createDatabase() {
      const name = `edge_${randomBytes(6).toString('hex')}`;
      await admin.unsafe(`CREATE DATABASE ${name} OWNER edge`);
      return url(name);
    },
    stop: () => signal('SIGINT'),
    start,
    kill: () => signal('SIGKILL'),
    async close() {
      await admin.end({ timeout: 0 });
      // The folder goes next: no shutdown checkpoint to wait for (it took over 20 s on a loaded machine).
      await signal('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
