import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operations, type OperationName } from '../../shared/api/operations.ts';
import { admin, provision } from '../support/edge-harness.ts';
import { rawRequest, VALID_PARAMS } from '../support/rest-harness.ts';
import { until } from '../support/wait.ts';
import type { EdgeRuntime } from './edges.ts';
import { recordInjected } from './injected.ts';
import { MAC, startStack, type Stack } from './stack.ts';

/** Marker that must never reach AMI: a whole injected action after CR/LF. */
const MARK = 'Action: Originate\r\nChannel: SIP/666\r\nX-Injected: pwned';
const controls = ['\r\n' + MARK, '\n' + MARK, '\r', '\u0000', '\u001b[2J', '\u007f', '\t808'];
const SECRET = 'this-is-the-pbx-root-secret';
const traversal = [
  '../secret.txt', '..%2fsecret.txt', '%2e%2e/secret.txt', '%2e%2e%2fsecret.txt', '%252e%252e%252fsecret.txt', '..%5csecret.txt',
  '..\\secret.txt', '%2fetc%2fpasswd', '/etc/passwd', '//etc/passwd', 'a/../../secret.txt', 'ok.wav%00.txt', '%c0%ae%c0%ae/secret.txt',
  '.%2e/secret.txt', 'a/%2e%2e/%2e%2e/secret.txt', 'link-out/secret.txt',
];

/**
 * The abuse corpus against one edge runtime, and against the agent's LAN API when `withAgent` (the
 * agent is the same whatever the edge, so it is hit once). `file` names the figures file.
 */
export function abuseCorpus(file: string, edge: EdgeRuntime, withAgent: boolean, oversizedKnownToFail = false): void {
  let stack: Stack;
  const tally = { sent: 0, through: [] as string[] };
  beforeAll(async () => {
    stack = await startStack({ scale: 1, via: 'edge', noRateLimits: true, edge });
    await until(() => stack.agent.tunnel?.status === 'online', 'the tunnel online');
    writeFileSync(join(stack.dir, 'secret.txt'), SECRET);
    mkdirSync(join(stack.dir, 'monitor'), { recursive: true });
    writeFileSync(join(stack.dir, 'monitor', 'ok.wav'), 'RIFF');
    const { symlinkSync } = await import('node:fs');
    symlinkSync(stack.dir, join(stack.dir, 'monitor', 'link-out'));
  }, 30_000);
  afterAll(async () => {
    try {
      const amiValues = stack.sim.actions.flatMap((m) => m.pairs);
      const reachedAmi = amiValues.filter((v) => /[\u0000-\u001f\u007f]|pwned|X-Injected|SIP\/666/.test(v)).length;
      recordInjected(file, {
        fault: `abuse corpus on ${withAgent ? 'agent and edge' : 'the edge'}: ${tally.sent} hostile requests${edge.suffix}`,
        injected: tally.sent, injectedWhat: 'hostile requests sent',
        generated: 0, delivered: 0, duplicated: 0, lost: 0, droppedCounted: 0, outOfOrder: 0,
        commands: tally.sent, commandsAnsweredInTime: tally.sent - tally.through.length,
        badThrough: tally.through.length + reachedAmi, recoverySec: null,
        ...(tally.through.length ? { note: `through: ${tally.through.slice(0, 5).join(', ')}` } : {}),
      });
    } finally {
      await stack.close();
    }
  });

  /** Both doors: the agent's LAN API and the edge's per-device API. */
  function doors(): { name: string; port: number; prefix: string; auth: Record<string, string> }[] {
    const edgeDoor = { name: 'edge', port: stack.edge.port, prefix: `/devices/${MAC}/coocenter-api`, auth: { authorization: `Bearer ${stack.tenantKey}` } };
    return withAgent ? [{ name: 'agent', port: Number(new URL(stack.agent.lanUrl).port), prefix: '/coocenter-api', auth: {} }, edgeDoor] : [edgeDoor];
  }

  async function hostile(what: string, port: number, method: string, path: string, headers: Record<string, string>, body?: string | Buffer, allowed: (s: number) => boolean = (s) => s >= 400 && s < 500) {
    tally.sent++;
    const r = await rawRequest(port, method, path, headers, body).catch((e: Error) => ({ status: 0, text: e.message }));
    // A refused connection or a reset is a refusal too; only a success or a server error counts as through.
    if (!(r.status === 0 || allowed(r.status)) || r.text.includes(SECRET)) tally.through.push(`${what} -> ${r.status}`);
    return r;
  }

  describe(`abuse corpus${edge.suffix}`, () => {
    it('CR/LF and control characters in every field of every operation, as form, JSON and query: 400, and nothing reaches AMI', async () => {
      for (const door of doors()) {
        for (const [op, params] of Object.entries(VALID_PARAMS) as [OperationName, Record<string, string>][]) {
          const o = operations[op];
          for (const field of Object.keys(params)) {
            for (const bad of controls) {
              const p = { ...params, [field]: params[field] + bad };
              const path = `${door.prefix}${o.path}`;
              const is400 = (st: number) => st === 400;
              await hostile(`${door.name} ${op} ${field} form`, door.port, o.method, path, { ...door.auth, 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams(p).toString(), is400);
              await hostile(`${door.name} ${op} ${field} json`, door.port, o.method, path, { ...door.auth, 'content-type': 'application/json' }, JSON.stringify(p), is400);
              await hostile(`${door.name} ${op} ${field} query`, door.port, o.method, `${path}?${new URLSearchParams(p)}`, door.auth, undefined, is400);
            }
          }
        }
      }
      const values = stack.sim.actions.flatMap((m) => m.pairs);
      expect(values.filter((v) => /[\u0000-\u001f\u007f]|pwned|SIP\/666/.test(v))).toEqual([]);
      expect(tally.through).toEqual([]);
    }, 120_000);

    it('path traversal for recordings in every encoding: refused, and no byte from outside the folder', async () => {
      for (const door of doors()) {
        for (const p of traversal) await hostile(`${door.name} monitor ${p}`, door.port, 'GET', `${door.prefix}/monitor/${p}`, door.auth);
        const ok = await rawRequest(door.port, 'GET', `${door.prefix}/monitor/ok.wav`, door.auth);
        expect(ok.status).toBe(200);
      }
      expect(tally.through).toEqual([]);
    });

    it('malformed form and JSON, malformed and unknown MACs, another tenant\'s key', async () => {
      const other = await provision(stack.edge, '68:69:2e:03:8b:40');
      const edgePort = stack.edge.port;
      const agentPort = Number(new URL(stack.agent.lanUrl).port);
      const auth = { authorization: `Bearer ${stack.tenantKey}` };
      const click = '/coocenter-api/extensions/click-number';
      const targets = [...(withAgent ? [[agentPort, '', {}] as const] : []), [edgePort, `/devices/${MAC}`, auth] as const];
      for (const [port, prefix, a] of targets) {
        await hostile('bad json', port, 'POST', prefix + click, { ...a, 'content-type': 'application/json' }, '{"src": "801", "dst": ');
        await hostile('json array', port, 'POST', prefix + click, { ...a, 'content-type': 'application/json' }, '["801","802"]');
        await hostile('json nested', port, 'POST', prefix + click, { ...a, 'content-type': 'application/json' }, '{"src":{"$ne":1},"dst":"802"}');
        await hostile('bad percent', port, 'POST', prefix + click, a, 'src=%E0%A4%A&dst=802');
        await hostile('bad multipart', port, 'POST', prefix + click, { ...a, 'content-type': 'multipart/form-data; boundary=x' }, '--x\r\nbroken');
      }
      for (const mac of ['68:69:2e:03:8b', 'zz:zz:zz:zz:zz:zz', '68:69:2e:03:8b:3e:00', '..%2f..%2fadmin', '68:69:2e:03:8b:99']) {
        await hostile(`mac ${mac}`, edgePort, 'GET', `/devices/${mac}/coocenter-api/queues/queue-info`, auth);
      }
      await hostile('other tenant key', edgePort, 'GET', `/devices/${MAC}/coocenter-api/queues/queue-info`, { authorization: `Bearer ${other.tenantKey}` });
      await hostile('other tenant status', edgePort, 'GET', `/devices/${MAC}/status`, { authorization: `Bearer ${other.tenantKey}` });
      await hostile('other tenant recording', edgePort, 'GET', `/devices/${MAC}/coocenter-api/monitor/ok.wav`, { authorization: `Bearer ${other.tenantKey}` });
      await hostile('tenant key as admin', edgePort, 'GET', '/admin/devices', { authorization: `Bearer ${stack.tenantKey}` });
      await hostile('no key', edgePort, 'GET', `/devices/${MAC}/coocenter-api/queues/queue-info`, {});
      expect(tally.through).toEqual([]);
    });

    // Before the token rotation, which takes the agent offline; checked on its own slice of the tally.
    (oversizedKnownToFail ? it.fails : it)('oversized bodies and headers are refused, and the device keeps serving', async () => {
      const before = tally.through.length;
      const edgeDoor = [stack.edge.port, `/devices/${MAC}`, { authorization: `Bearer ${stack.tenantKey}` }] as const;
      const targets = [...(withAgent ? [[Number(new URL(stack.agent.lanUrl).port), '', {}] as const] : []), edgeDoor];
      const click = '/coocenter-api/extensions/click-number';
      for (const [port, prefix, a] of targets) {
        await hostile('big body', port, 'POST', prefix + click, { ...a, 'content-type': 'application/json' }, JSON.stringify({ src: '801', dst: '8'.repeat(1024 * 1024) }));
        await hostile('big header', port, 'POST', prefix + click, { ...a, 'x-big': 'x'.repeat(64 * 1024) }, 'src=801&dst=802', (s) => s === 431 || (s >= 400 && s < 500));
      }
      const after = await rawRequest(stack.edge.port, 'GET', `/devices/${MAC}/coocenter-api/queues/queue-info`, edgeDoor[2]);
      if (after.status !== 200) tally.through.push(`device stopped serving after oversized input -> ${after.status}`);
      expect(tally.through.slice(before)).toEqual([]);
    });

    it('a forged or replayed device token cannot open a tunnel, and floods of connections leave the edge serving', async () => {
      const before = tally.through.length;
      const upgrade = (token: string, mac = MAC) =>
        hostile(`tunnel ${token.slice(0, 8)}`, stack.edge.port, 'GET', '/agent/tunnel', {
          connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', authorization: `Bearer ${token}`, 'x-device-mac': mac,
        });
      await upgrade('cdt_forged');
      const rotated = await admin(stack.edge, 'POST', `/admin/devices/${MAC}/token`);
      expect(rotated.status).toBe(201);
      // The agent's token was just rotated away: replaying it is refused.
      await upgrade(stack.deviceToken);
      await upgrade(rotated.body.token as string, '68:69:2e:03:8b:41');
      // With limits on (the defaults), a flood of requests on one bad key: 401 (or 429), never served.
      const limited = await startStack({ scale: 1, via: 'edge', edge });
      const flood = await Promise.all(Array.from({ length: 300 }, () => rawRequest(limited.edge.port, 'GET', `/devices/${MAC}/coocenter-api/queues/queue-info`, { authorization: 'Bearer cok_flood' }).then((r) => r.status, () => 0)));
      tally.sent += flood.length;
      tally.through.push(...flood.filter((s) => s !== 401 && s !== 429 && s !== 0).map((s) => `flood -> ${s}`));
      // The default limits (2000 burst per key) are above what a test box can send; 429 itself is
      // shown with low limits in rate-limit.test.ts. Here: nothing served, and the edge still up.
      expect((await rawRequest(limited.edge.port, 'GET', '/healthz')).status).toBe(200);
      expect((await rawRequest(limited.edge.port, 'GET', `/devices/${MAC}/status`, { authorization: `Bearer ${limited.tenantKey}` })).status).toBe(200);
      await limited.close();
      expect(tally.through.slice(before)).toEqual([]);
    });
  });
}
