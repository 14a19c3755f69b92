import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresForFile } from '../support/postgres-for-file.ts';

/** `coocenter-edge --store postgres://...` (or COOCENTER_DATABASE_URL), as an operator starts it. */
const root = fileURLToPath(new URL('../..', import.meta.url));
const pg = postgresForFile();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Starts the edge bin; `out()` is all it wrote so far, `exited` its exit code. */
function edge(args: string[], env: Record<string, string> = {}) {
  const child = spawn('node', ['bin/coocenter-edge.js', '--port', '0', ...args], {
    cwd: root,
    env: { ...process.env, COOCENTER_ADMIN_KEY: 'k-test', COOCENTER_DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  const line = (re: RegExp, ms = 15_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${ms} ms: ${out}`)), ms);
      const look = () => {
        const l = out.split('\n').find((x) => re.test(x));
        if (l) {
          clearTimeout(timer);
          resolve(l);
        }
      };
      child.stdout!.on('data', look);
      look();
      // A line written just before the exit is read first.
      void exited.then(() =>
        setImmediate(() => {
          clearTimeout(timer);
          reject(new Error(`edge exited: ${out}`));
        }),
      );
    });
  return { child, line, exited, out: () => out };
}

describe('the edge bin on PostgreSQL', () => {
  it('--store wins over COOCENTER_DATABASE_URL, says where its state is, never the password, and creates no data folder', async () => {
    const url = await pg().createDatabase();
    const data = join(tmpdir(), `coo-never-created-${process.pid}`);
    const e = edge(['--store', url, '--data', data], { COOCENTER_DATABASE_URL: 'postgres://nobody:x@127.0.0.1:1/none' });
    const line = await e.line(/^edge listening on /);
    expect(line).toMatch(new RegExp(`^edge listening on http://127\\.0\\.0\\.1:\\d+ \\(PostgreSQL ${pg().version.replace('.', '\\.')} at 127\\.0\\.0\\.1:${pg().port}/edge_\\w+, Node v`));
    const base = /listening on (\S+)/.exec(line)![1]!;
    const t = await fetch(`${base}/admin/tenants`, { method: 'POST', headers: { authorization: 'Bearer k-test', 'content-type': 'application/json' }, body: '{"name":"acme"}' });
    expect(t.status).toBe(201);
    const db = postgres(url, { max: 1 });
    expect(await db`SELECT name FROM tenants`.finally(() => db.end())).toEqual([{ name: 'acme' }]);
    expect(existsSync(data)).toBe(false);
    expect(e.out()).not.toContain(new URL(url).password);
    e.child.kill('SIGTERM');
    expect(await e.exited).toBe(0);
  });

  it('waits for PostgreSQL from COOCENTER_DATABASE_URL, saying so, and gives up after --store-wait with a clear error', async () => {
    const url = await pg().createDatabase();
    await pg().stop();
    try {
      const e = edge(['--store-wait', '1'], { COOCENTER_DATABASE_URL: url });
      const waiting = JSON.parse(await e.line(/waiting for PostgreSQL/));
      expect(waiting).toMatchObject({ level: 'warn', msg: expect.stringMatching(new RegExp(`^waiting for PostgreSQL at 127\\.0\\.0\\.1:${pg().port}: .*ECONNREFUSED`)) });
      expect(await e.exited).toBe(1);
      expect(e.out()).toMatch(new RegExp(`"edge did not start: PostgreSQL at 127\\.0\\.0\\.1:${pg().port} did not answer within 1 s`));
    } finally {
      await pg().start();
    }
  });
});
