import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';

export interface Nginx {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface NginxOptions {
  /** Ports of the edges on 127.0.0.1. */
  upstreams: readonly number[];
  /** `mac`: deploy/nginx-edge.conf as shipped (hash on the device's MAC); `round-robin`: without the hash line. */
  balance: 'mac' | 'round-robin';
}

const NGINX = '/usr/sbin/nginx';
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/**
 * Debian's nginx with the shipped deploy/nginx-edge.conf in front of the test's edges: the listen
 * port and the upstream lines are the test's, everything else is the file an operator installs.
 */
export async function startNginx(o: NginxOptions): Promise<Nginx> {
  try {
    accessSync(NGINX, constants.X_OK);
  } catch {
    throw new Error(`${NGINX} not found: install Debian's nginx (apt-get install nginx-light); .ci/run does`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'coo-nginx-'));
  mkdirSync(join(dir, 'temp'));
  const shipped = readFileSync(new URL('../../deploy/nginx-edge.conf', import.meta.url), 'utf8');
  const servers = o.upstreams.map((p) => `  server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join('\n');
  const errLog = join(dir, 'error.log');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    let site = shipped
      .replace(/^ {2}server 127\.0\.0\.1:\d+ .*\n(?: {2}server 127\.0\.0\.1:\d+ .*\n)*/m, `${servers}\n`)
      .replace(/listen 8080;/, `listen 127.0.0.1:${port};`);
    if (o.balance === 'round-robin') site = site.replace(/^ {2}hash \$coocenter_mac consistent;\n/m, '');
    if (!site.includes(`127.0.0.1:${o.upstreams[0]}`) || site.includes('listen 8080')) throw new Error('deploy/nginx-edge.conf changed shape: update test/support/nginx.ts');
    const temp = (name: string) => `${name}_temp_path ${join(dir, 'temp', name)};`;
    writeFileSync(
      join(dir, 'nginx.conf'),
      `worker_processes 1;\npid ${join(dir, 'nginx.pid')};\nerror_log ${errLog} warn;\nevents { worker_connections 1024; }\n` +
        `http {\n  access_log off;\n  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}\n${site}\n}\n`,
    );
    const p = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', errLog, '-g', 'daemon off;'], { stdio: 'ignore' });
    running.add(p);
    let exited = false;
    p.once('exit', () => {
      exited = true;
      running.delete(p);
    });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline) {
      // Any answer (a 502 with no edge up yet is one) means nginx listens.
      if (await fetch(`${url}/healthz`).then(() => true, () => false)) {
        return {
          url,
          port,
          async close() {
            if (!exited) {
              const gone = new Promise((r) => p.once('exit', r));
              p.kill('SIGTERM');
              await gone;
            }
            rmSync(dir, { recursive: true, force: true });
          },
        };
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    p.kill('SIGKILL');
    if (attempt >= 2 || !exited) {
      const log = existsSync(errLog) ? readFileSync(errLog, 'utf8') : '(no error log)';
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nginx did not start:\n${log}`);
    }
  }
}
