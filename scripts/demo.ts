/**
 * `npm run demo`: the whole path on this machine. A simulated PBX (AMI over TCP), the agent dialing
 * out a tunnel to the edge (Node, SQLite), a webhook receiver that prints what it gets and checks
 * each signature, and a few calls: a newcomer sees REST answers and events within a minute.
 * `npm run demo -- --stay` keeps everything running afterwards to explore by hand.
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '../agent/agent.ts';
import { describeDrivers } from '../agent/ami/driver.ts';
import { parseConfig } from '../agent/config.ts';
import { WebhookSigner } from '../shared/delivery/signature.ts';
import { startEdgeServer } from '../edge/node/server.ts';
import { startPbxSim } from '../test/pbxsim/index.ts';

const stay = process.argv.includes('--stay');
const ADMIN_KEY = 'demo-admin-key';
const MAC = '68:69:2e:03:8b:3e';
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const say = (s: string) => process.stdout.write(`${s}\n`);
const quiet = () => undefined;

const dir = mkdtempSync(join(tmpdir(), 'coocenter-demo-'));
const cleanup: (() => Promise<unknown> | unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
async function shutdown(code: number): Promise<never> {
  for (const c of cleanup.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));

try {
  // 1. The PBX: ten phones, queues 630 and 631, running 5x faster than real time.
  const sim = await startPbxSim({ driver: 'sip', timeScale: 0.2, timestampEvents: true });
  cleanup.push(() => sim.close());
  say(`${bold('PBX simulator')}  AMI listening on 127.0.0.1:${sim.port} (chan_sip, phones 800-809, queues 630 631)`);

  // 2. The edge, on its embedded SQLite default.
  const edge = await startEdgeServer({ port: 0, host: '127.0.0.1', dataDir: join(dir, 'edge'), adminKey: ADMIN_KEY, log: quiet });
  cleanup.push(() => edge.close());
  say(`${bold('edge')}           ${edge.url}  (admin key: ${ADMIN_KEY})`);

  // 3. The customer's webhook receiver: prints each event and checks its Standard Webhooks signature.
  let signer: WebhookSigner | null = null;
  const received: Record<string, unknown>[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', async () => {
      res.writeHead(204).end();
      const id = String(req.headers['webhook-id']);
      const expected = signer ? await signer.sign(id, Number(req.headers['webhook-timestamp']), body) : '';
      const ok = String(req.headers['webhook-signature']).split(' ').includes(expected);
      const e = JSON.parse(body) as Record<string, unknown>;
      received.push(e);
      const keys = ['exten', 'status', 'calleridnum', 'destcalleridnum', 'dialstatus', 'channel', 'caller', 'queueCode', 'agentCode', 'missCause', 'talkingTime', 'disposition'];
      const summary = keys.filter((k) => e[k] !== undefined && e[k] !== '').map((k) => `${k}=${String(e[k])}`).join(' ');
      say(`  ${dim('webhook')} ${String(e.event).padEnd(15)} ${summary} ${dim(ok ? 'signature ok' : 'SIGNATURE BAD')}`);
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise((r) => receiver.close(r)));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  say(`${bold('webhook receiver')} ${hookUrl}`);

  // 4. The SaaS operator creates a tenant and registers the box under it.
  const admin = async (method: string, path: string, body: unknown) => {
    const r = await fetch(`${edge.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as Record<string, string>;
  };
  const tenant = await admin('POST', '/admin/tenants', { name: 'acme call center' });
  const device = await admin('PUT', `/admin/devices/${MAC}`, { tenant: tenant.id, url: hookUrl });
  signer = await WebhookSigner.create(device.webhookSecret as string);
  say(`${bold('tenant')}         ${tenant.id}, key ${String(tenant.key).slice(0, 10)}...; device ${MAC} registered, events go to the receiver`);

  // 5. The agent on the PBX, with the device token in its api.conf [tunnel].
  const config = parseConfig(
    [
      '[general]',
      'BINDPORT=0',
      `mac=${MAC}`,
      '[ami]',
      'host=127.0.0.1',
      `port=${sim.port}`,
      'username=coocenter',
      'secret=coocenter',
      '[tunnel]',
      `edge=${edge.url.replace(/^http/, 'ws')}`,
      `token=${device.token}`,
      '[paths]',
      `monitor=${join(dir, 'monitor')}`,
      `spool=${join(dir, 'spool')}`,
    ].join('\n'),
  );
  const agent = await startAgent({ config, log: quiet, host: '127.0.0.1', port: 0 });
  cleanup.push(() => agent.close());
  say(`${bold('agent')}          AMI logged in (${describeDrivers(agent.drivers)}), tunnel to the edge, LAN API on ${agent.lanUrl}`);
  await new Promise<void>((resolve) => {
    if (agent.tunnel?.status === 'online') return resolve();
    agent.tunnel?.onStatus((s) => s === 'online' && resolve());
  });

  // 6. A CRM calls the API through the edge, per MAC, with the tenant key.
  const api = `${edge.url}/devices/${MAC}/coocenter-api`;
  const crm = async (method: string, path: string, form?: Record<string, string>) => {
    const r = await fetch(`${api}${path}`, {
      method,
      headers: { authorization: `Bearer ${tenant.key}`, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    const text = await r.text();
    say(`\n${bold(`${method} /devices/${MAC}/coocenter-api${path}`)}${form ? ` ${new URLSearchParams(form)}` : ''} -> ${r.status}`);
    say(dim(text.length > 600 ? `${text.slice(0, 600)}...` : text));
    return JSON.parse(text) as unknown;
  };
  await crm('GET', '/extensions/extension-status');
  await crm('GET', '/queues/queue-info');
  await crm('POST', '/queues/agent-pause', { queue: '630', member: '801', state: 'on' });

  say(`\n${bold('A customer calls queue 630; agent 800 answers and talks for 4 s')}`);
  const answered = sim.queueCall({ from: '13800138000', fromName: '张三', queue: '630', talkMs: 4000, hangupBy: 'caller' });
  await new Promise((r) => setTimeout(r, 800));
  await crm('POST', '/extensions/current-calls');
  await answered.done;

  say(`\n${bold('Click-to-dial: 805 rings first, then 806')}`);
  await crm('POST', '/extensions/click-number', { src: '805', dst: '806' });
  await new Promise((r) => setTimeout(r, 1500));
  await crm('POST', '/extensions/hangup', { extension: '805' });

  say(`\n${bold('A caller gives up after 5 s in queue 631 while nobody answers')}`);
  sim.setPhone('806', { answerAfterMs: null });
  sim.setPhone('802', { answerAfterMs: null });
  await sim.queueCall({ from: '13900139000', queue: '631', hangupAfterMs: 5000 }).done;

  const deadline = Date.now() + 15_000;
  while (received.filter((e) => e.event === 'cc_cdr').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const status = await (await fetch(`${edge.url}/devices/${MAC}/status`, { headers: { authorization: `Bearer ${tenant.key}` } })).json();
  say(`\n${bold(`GET /devices/${MAC}/status`)}\n${dim(JSON.stringify(status))}`);
  const kinds = [...new Set(received.map((e) => String(e.event)))].sort();
  say(`\n${bold('demo done')}: ${received.length} events received (${kinds.join(', ')}).`);
  if (received.filter((e) => e.event === 'cc_cdr').length < 2) {
    say('expected two cc_cdr records and did not get them');
    await shutdown(1);
  }
  if (stay) {
    say(`\nStill running (Ctrl-C to stop). Try:\n  curl -H 'Authorization: Bearer ${tenant.key}' ${api}/queues/queue-info\n  open ${edge.url}/ui (key ${ADMIN_KEY}) and ${edge.url}/docs`);
    await new Promise(() => undefined);
  }
  await shutdown(0);
} catch (e) {
  process.stderr.write(`demo failed: ${(e as Error).stack ?? String(e)}\n`);
  await shutdown(1);
}
