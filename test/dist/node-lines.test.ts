import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPbxSim, type PbxSim } from '../pbxsim/index.ts';
import { startAgentProcess } from '../support/agent-process.ts';
import { ADMIN_KEY, call, provision } from '../support/edge-harness.ts';
import { runProcess } from '../support/run-process.ts';
import { until } from '../support/wait.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * The agent bundle (.mjs) and the edge on every supported Node line: start, tunnel, one relayed
 * command, one delivered event, `--check`; and the edge's SQLite store suite on that Node (on 22 and
 * later it runs on node:sqlite, not the better-sqlite3 addon). The full suite runs on this machine's
 * Node (20).
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'coo-lines-'));
const children: ChildProcess[] = [];
const nodes = inject('nodeBinaries');
const mjs = join(inject('buildDir'), 'coocenter-agent.mjs');
let sim: PbxSim;

beforeAll(async () => {
  sim = await startPbxSim({ driver: 'pjsip', timeScale: 0.02 });
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(node: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; out: string }> {
  const r = await runProcess(node, args, children, { cwd: root, env });
  return { code: r.code, out: r.stdout + r.stderr };
}

function startEdge(node: string, data: string): Promise<{ url: string; line: string }> {
  const child = spawn(node, ['bin/coocenter-edge.js', '--port', '0', '--data', data], {
    cwd: root,
    env: { ...process.env, COOCENTER_ADMIN_KEY: ADMIN_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('edge listening on '));
      if (line) resolve({ url: line.split(' ')[3] as string, line });
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`edge exited ${code}: ${out}`)));
  });
}

const lines = [
  { line: '20', node: process.execPath, sqlite: 'better-sqlite3' },
  ...(['22', '24', '26'] as const).map((line) => ({ line, node: nodes[line], sqlite: 'node:sqlite' })),
];

describe.each(lines)('Node $line', ({ line, node, sqlite }) => {
  it('runs the edge and the agent bundle: tunnel, a relayed command, a delivered event, --check', async () => {
    const mac = `02:00:00:00:00:${line}`;
    const edge = await startEdge(node, join(dir, `edge-${line}`));
    expect(edge.line).toContain(`SQLite through ${sqlite}, Node v${line}.`);
    const hooks = await new WebhookReceiver().start();
    try {
      const p = await provision(edge, mac, { url: hooks.url });
      const conf = join(dir, `agent-${line}.conf`);
      writeFileSync(
        conf,
        `[general]\nBINDPORT=0\nmac=${mac}\n[ami]\nhost=127.0.0.1\nport=${sim.port}\nusername=coocenter\nsecret=coocenter\n[paths]\nmonitor=${dir}\nspool=${dir}/spool-${line}\n[tunnel]\nedge=${edge.url.replace(/^http/, 'ws')}\ntoken=${p.token}\n`,
      );
      const check = await run(node, [mjs, '--check', '--config', conf]);
      expect(check.code, check.out).toBe(0);
      await startAgentProcess(conf, children, { command: node, args: [mjs], cwd: dir, env: process.env });
      const auth = { authorization: `Bearer ${p.tenantKey}` };
      const status = await until(async () => {
        const s = await call(`${edge.url}/devices/${mac}/status`, { headers: auth });
        return s.body.online && s.body.driver ? s.body : undefined;
      }, 'the device online');
      expect(status.agentRuntime).toMatch(new RegExp(`^node v${line}\\.\\d+\\.\\d+ linux-x64$`));
      const q = await call(`${edge.url}/devices/${mac}/coocenter-api/queues/queue-info`, { headers: auth });
      expect(q.status).toBe(200);
      expect(q.body.status).toBe('success');
      const c = sim.inboundCall({ from: '801', to: '802', talkMs: 1000 });
      await c.done;
      await until(
        () => hooks.received.map((r) => JSON.parse(r.body) as Record<string, string>).find((e) => e.event === 'cdr' && e.uniqueid === c.linkedid && e.mac === mac),
        'the cdr through the edge',
      );
    } finally {
      await hooks.stop();
    }
  });

  // On Node 20 the main suite runs these on better-sqlite3 already.
  if (sqlite === 'node:sqlite') it('passes the edge store suite on node:sqlite', async () => {
    const r = await run(node, ['node_modules/vitest/vitest.mjs', 'run', 'test/unit/edge-sql-store.test.ts', 'test/unit/edge-group-commit.test.ts'], {
      ...process.env,
      NO_COLOR: '1',
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/Tests +\d+ passed/);
    expect(r.out).not.toMatch(/failed/);
  });
});

it('the bundle tells Node 18 (Debian 12) to use the executable, instead of crashing', async () => {
  const r = await run(nodes['18'], [mjs, '--help']);
  expect(r.code).toBe(2);
  expect(r.out).toMatch(/needs Node 20\.19 or later; this is Node 18\.\d+\.\d+/);
  expect(r.out).toMatch(/single executable coocenter-agent-linux-x64/);
});
