import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AmiClient } from '../../agent/ami/client.ts';
import { tcpConnect } from '../../agent/ami/tcp.ts';
import { ADMIN_KEY } from '../../test/support/edge-harness.ts';
import { spawnNode, type Child } from './child.ts';

// The key the Workers edge harness configures too, so one admin client serves both edges.
export { ADMIN_KEY };

export const BENCH_MAC = '02:00:00:00:be:01';

/** A temp folder removed by `remove()`. */
export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `coocenter-bench-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The simulator as its bin runs it; `timeScale` below 1 makes calls shorter in wall time. */
export async function spawnSim(timeScale = 1): Promise<Child & { port: number }> {
  const child = await spawnNode(['bin/coocenter-pbxsim.js', '--port', '0', '--time-scale', String(timeScale)], { ready: /AMI listening on [\d.]+:(\d+)/ });
  return Object.assign(child, { port: Number(child.ready[1]) });
}

/**
 * The Node edge in a child of its own, with the bench's admin key: the bin itself, or with `unlimited`
 * bench/lib/edge-child.ts, the same server with its request rate limits lifted. With `databaseUrl`
 * its state is in that PostgreSQL database (`--store`), and it joins the edges already there. With
 * `cpuProfDir` it writes a V8 CPU profile there when stopped.
 */
export async function spawnEdge(dataDir: string, unlimited = false, databaseUrl?: string, cpuProfDir?: string): Promise<Child & { url: string }> {
  const args = unlimited
    ? ['bin/run-ts.js', 'bench/lib/edge-child.ts', dataDir, ...(databaseUrl ? [databaseUrl] : [])]
    : ['bin/coocenter-edge.js', '--port', '0', ...(databaseUrl ? ['--store', databaseUrl] : ['--data', dataDir])];
  const child = await spawnNode(args, {
    ready: /edge listening on (http:\/\/\S+)/,
    env: { COOCENTER_ADMIN_KEY: ADMIN_KEY },
    ...(cpuProfDir ? { cpuProfDir } : {}),
  });
  return Object.assign(child, { url: child.ready[1]! });
}

export interface AgentConfigInput {
  dir: string;
  amiPort: number;
  mac?: string;
  /** LAN mode push URL. */
  url?: string;
  tunnel?: { edge: string; token: string };
}

/** Writes an api.conf for the agent under `dir` and returns its path. */
export function writeAgentConfig(o: AgentConfigInput): string {
  mkdirSync(join(o.dir, 'monitor'), { recursive: true });
  const lines = [
    '[general]',
    'BINDPORT=0',
    `mac=${o.mac ?? BENCH_MAC}`,
    ...(o.url ? [`URL=${o.url}`] : []),
    '[ami]',
    'host=127.0.0.1',
    `port=${o.amiPort}`,
    'username=coocenter',
    'secret=coocenter',
    '[paths]',
    `monitor=${join(o.dir, 'monitor')}`,
    `spool=${join(o.dir, 'spool')}`,
    ...(o.tunnel ? ['[tunnel]', `edge=${o.tunnel.edge}`, `token=${o.tunnel.token}`] : []),
  ];
  const path = join(o.dir, 'api.conf');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** The agent as its bin runs it on a PBX. */
export function spawnAgent(configPath: string): Promise<Child> {
  return spawnNode(['bin/coocenter-agent.js', '--config', configPath], { ready: /^agent ready/ });
}

/** An AMI session of the bench's own, logged in: the direct path, and the driver of simulated calls. */
export async function amiSession(port: number, events = false): Promise<AmiClient> {
  const ami = new AmiClient({ connect: tcpConnect('127.0.0.1', port), username: 'coocenter', secret: 'coocenter', events });
  ami.start();
  await ami.waitReady();
  return ami;
}

/** Admin API call on a running edge; throws on anything but 2xx. */
export async function adminCall(edgeUrl: string, method: string, path: string, json?: unknown): Promise<any> {
  const res = await fetch(`${edgeUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** A tenant and one device under it; returns what the agent and a CRM need. */
export async function provisionDevice(edgeUrl: string, mac: string, settings: Record<string, unknown> = {}, tenant?: { id: string; key: string }) {
  const t = tenant ?? ((await adminCall(edgeUrl, 'POST', '/admin/tenants', { name: `bench ${mac}` })) as { id: string; key: string });
  const d = (await adminCall(edgeUrl, 'PUT', `/admin/devices/${mac}`, { tenant: t.id, ...settings })) as { token: string };
  return { tenant: t, token: d.token };
}

/** Resolves once the edge says the device's tunnel is up. */
export async function waitOnline(edgeUrl: string, mac: string, tenantKey: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${edgeUrl}/devices/${mac}/status`, { headers: { authorization: `Bearer ${tenantKey}` } });
    const body = (await res.json().catch(() => null)) as { online?: boolean } | null;
    if (body?.online) return;
    if (Date.now() > deadline) throw new Error(`device ${mac} did not come online at ${edgeUrl} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
