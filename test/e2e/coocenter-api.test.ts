import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseConfig } from '../../agent/config.ts';
import { startEdgeServer, type EdgeServer } from '../../edge/node/server.ts';
import { startPbxSim, type PbxSim } from '../pbxsim/index.ts';
import { ADMIN_KEY, provision } from '../support/edge-harness.ts';
import { until } from '../support/wait.ts';

/**
 * The drop-in promise: a CRM calling the agent on the LAN gets the documented answers, backed by
 * real AMI actions to an AMI server over TCP, for both channel drivers. The same suite then runs
 * through the Node edge and the tunnel: the bodies must be the same, byte for byte in meaning.
 */
const MAC = '68:69:2e:03:8b:3e';
for (const [driver, via] of [
  ['sip', 'lan'],
  ['pjsip', 'lan'],
  ['sip', 'edge'],
  ['pjsip', 'edge'],
] as const) {
  describe(`coocenter-api against the simulator (${driver}, ${via === 'lan' ? 'agent LAN port' : 'through the Node edge'})`, () => {
    const tech = driver === 'sip' ? 'SIP' : 'PJSIP';
    let sim: PbxSim;
    let agent: RunningAgent;
    let dir: string;
    let edge: EdgeServer | undefined;
    let base: string;
    let auth: Record<string, string> = {};
    const quiet = () => undefined;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'coo-lan-'));
      mkdirSync(join(dir, 'monitor/2026/11'), { recursive: true });
      writeFileSync(join(dir, 'monitor/2026/11/call-1.wav'), Buffer.from('RIFF....WAVEfmt 0123456789'));
      sim = await startPbxSim({ driver, timeScale: 0.02 });
      let tunnel = '';
      if (via === 'edge') {
        edge = await startEdgeServer({ port: 0, host: '127.0.0.1', dataDir: join(dir, 'edge'), adminKey: ADMIN_KEY, log: quiet });
        const p = await provision(edge, MAC);
        tunnel = `[tunnel]\nedge=${edge.url.replace(/^http/, 'ws')}\ntoken=${p.token}\n`;
        base = `${edge.url}/devices/${MAC}/coocenter-api`;
        auth = { authorization: `Bearer ${p.tenantKey}` };
      }
      const config = parseConfig(
        `[general]\nBINDPORT=8000\nmac=${MAC}\n[ami]\nhost=127.0.0.1\nport=${sim.port}\nusername=coocenter\nsecret=coocenter\n[paths]\nmonitor=${dir}/monitor\nspool=${dir}/spool\n${tunnel}`,
      );
      agent = await startAgent({ config, log: quiet, host: '127.0.0.1', port: 0 });
      if (via === 'lan') base = agent.lanUrl;
      else {
        const t = agent.tunnel;
        await new Promise<void>((resolve) => (t?.status === 'online' ? resolve() : t?.onStatus((st) => st === 'online' && resolve())));
      }
    });
    afterAll(async () => {
      await agent?.close();
      await edge?.close();
      await sim?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const call = async (method: string, path: string, form?: Record<string, string>, headers: Record<string, string> = {}) => {
      const init: RequestInit = { method, headers: { accept: 'application/json', ...auth, ...headers } };
      if (form) {
        init.body = new URLSearchParams(form).toString();
        (init.headers as Record<string, string>)['content-type'] = 'application/x-www-form-urlencoded';
      }
      const res = await fetch(`${base}${path}`, init);
      return { status: res.status, body: (await res.json()) as any };
    };
    const actionsSince = (n: number, name: string) => sim.actions.slice(n).filter((a) => a.get('Action') === name);


    it('detected the channel driver', () => {
      expect(agent.drivers).toEqual({ driver, loaded: [driver] });
    });

    it('extension-status lists every peer with Type, IPAddr and Status as the document shows', async () => {
      const r = await call('GET', '/extensions/extension-status');
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('success');
      expect(r.body.message).toBe('Peer status list will follow');
      const byExt = Object.fromEntries(r.body.data.map((row: any) => [row.Exten, row]));
      // Every peer, as SIPpeers lists them: the phones and the simulator's trunk.
      expect(Object.keys(byExt).sort()).toEqual(['800', '801', '802', '803', '804', '805', '806', '807', '808', '809', 'trunk']);
      expect(byExt['800']).toMatchObject({ Type: tech, IPAddr: '127.0.0.1' });
      expect(byExt['800'].Status).toMatch(/^OK \(\d+ ms\)$/);
      expect(byExt['808']).toMatchObject({ Type: tech, IPAddr: '-none-' });
      for (const row of r.body.data) for (const v of Object.values(row)) expect(typeof v).toBe('string');
    });

    it('extension-hints-status is a bare array with caller ID names and states', async () => {
      const r = await call('GET', '/extensions/extension-hints-status');
      expect(Array.isArray(r.body)).toBe(true);
      const e800 = r.body.find((h: any) => h.extension === '800');
      expect(e800).toEqual({ agentName: 'Agent 800', extension: '800', extenType: tech, status: '0' });
      expect(r.body.find((h: any) => h.extension === '808')?.status).toBe('4');
    });

    it('queue-info gives members by interface with paused and penalty as strings', async () => {
      const r = await call('GET', '/queues/queue-info');
      expect(r.body.message).toBe('Queue status will follow');
      // Asterisk lists members in its own hash order; the set is what a CRM relies on.
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      expect([...r.body.data['630']].sort(byName)).toEqual([
        { name: `${tech}/800`, paused: '0', penalty: '0' },
        { name: `${tech}/801`, paused: '0', penalty: '0' },
      ]);
      expect(r.body.data['631']).toContainEqual({ name: 'Local/802@agents/n', paused: '0', penalty: '0' });
      expect(r.body.data['631']).toContainEqual({ name: `${tech}/806`, paused: '0', penalty: '5' });
    });

    it('agent-pause pauses and unpauses the member on its real interface, Local included', async () => {
      const n = sim.actions.length;
      let r = await call('POST', '/queues/agent-pause', { queue: '631', member: '802', state: 'on' });
      expect(r).toEqual({ status: 200, body: { status: 'success', message: 'Interface paused successfully' } });
      expect(actionsSince(n, 'QueuePause')[0]?.get('Interface')).toBe('Local/802@agents/n');
      expect((await call('GET', '/queues/queue-info')).body.data['631']).toContainEqual({ name: 'Local/802@agents/n', paused: '1', penalty: '0' });
      r = await call('POST', '/queues/agent-pause', { queue: '631', member: '802', state: 'off' });
      expect(r.body.message).toBe('Interface unpaused successfully');
      r = await call('POST', '/queues/agent-pause', { queue: '630', member: '809', state: 'on' });
      expect(r.status).toBe(409);
      expect(r.body.status).toBe('error');
    });

    it('agent-login adds once, agent-logout removes, a static member cannot be logged out', async () => {
      const n = sim.actions.length;
      expect((await call('POST', '/queues/agent-login', { extension: '805', queue: '630' })).body).toEqual({ status: 'success', message: 'login extension success' });
      expect((await call('POST', '/queues/agent-login', { extension: '805', queue: '630' })).body.status).toBe('success');
      expect(actionsSince(n, 'QueueAdd').map((a) => a.get('Interface'))).toEqual([`${tech}/805`]);
      expect((await call('GET', '/queues/queue-info')).body.data['630']).toContainEqual({ name: `${tech}/805`, paused: '0', penalty: '0' });
      expect((await call('POST', '/queues/agent-logout', { extension: '805', queue: '630' })).body).toEqual({ status: 'success', message: 'logout extension success' });
      const stat = await call('POST', '/queues/agent-logout', { extension: '800', queue: '630' });
      expect(stat.status).toBe(409);
      expect(stat.body.message).toMatch(/queues\.conf/);
    });

    it('blacklist create, index and delete through AstDB', async () => {
      expect((await call('POST', '/blacklist/create', { number: '+8613800138000' })).body).toEqual({ status: 'success', message: 'Updated database successfully' });
      const put = sim.actions.filter((a) => a.get('Action') === 'DBPut').at(-1);
      expect([put?.get('Family'), put?.get('Key'), put?.get('Val')]).toEqual(['blacklist', '+8613800138000', '1']);
      expect((await call('GET', '/blacklist/index')).body).toEqual({ status: 'success', data: ['+8613800138000'] });
      expect((await call('DELETE', '/blacklist/delete', { number: '+8613800138000' })).body).toEqual({ status: 'success', message: 'Key deleted successfully' });
      expect((await call('GET', '/blacklist/index')).body.data).toEqual([]);
    });

    it('click-number rings src first with its caller ID, refuses an unregistered src, and a retried Idempotency-Key rings once', async () => {
      const n = sim.actions.length;
      const headers = { 'idempotency-key': `click-${driver}` };
      const first = await call('POST', '/extensions/click-number', { src: '805', dst: '806' }, headers);
      const again = await call('POST', '/extensions/click-number', { src: '805', dst: '806' }, headers);
      expect(first).toEqual({ status: 200, body: { status: 'success', message: 'Originate successfully queued' } });
      expect(again).toEqual(first);
      const originates = actionsSince(n, 'Originate');
      expect(originates.length).toBe(1);
      expect(originates[0]?.get('Channel')).toBe(`${tech}/805`);
      expect(originates[0]?.get('Exten')).toBe('806');
      expect(originates[0]?.get('Context')).toBe('from-internal');
      expect(originates[0]?.get('CallerID')).toContain('805');
      const unreg = await call('POST', '/extensions/click-number', { src: '808', dst: '806' });
      expect(unreg.status).toBe(409);
      expect(unreg.body.message).toMatch(/808/);
    });

    it('current-calls, transfer, extenSpy and hangup act on a live bridged call', async () => {
      await call('POST', '/extensions/hangup', { extension: '805' }).catch(() => undefined);
      const handle = sim.inboundCall({ from: '801', to: '802', talkMs: 600_000 });
      const rows = await until(async () => {
        const r = await call('POST', '/extensions/current-calls');
        return r.body.data.length >= 2 && r.body.data.every((c: any) => c.channelstatedesc === 'Up') ? r.body : undefined;
      }, 'the call to be bridged');
      expect(rows.message).toBe('Channels will follow');
      const caller = rows.data.find((c: any) => c.channel.startsWith(`${tech}/801-`));
      expect(caller).toMatchObject({ calleridnum: '801', connectedlinenum: '802', channelstate: '6', channelstatedesc: 'Up' });
      expect(caller.duration).toMatch(/^\d\d:\d\d:\d\d$/);

      const n = sim.actions.length;
      const spy = await call('POST', '/extensions/extenSpy', { src: '805', dst: '802' });
      expect(spy.body).toEqual({ status: 'success', message: 'spy extension success' });
      const spyAction = actionsSince(n, 'Originate')[0];
      expect(spyAction?.get('Application')).toBe('ChanSpy');
      expect(spyAction?.get('Data')).toMatch(new RegExp(`^${tech}/802-[0-9a-f]{8},qES$`));

      const m = sim.actions.length;
      const tr = await call('POST', '/extensions/transfer', { src: '802', dst: '806' });
      expect(tr.body).toEqual({ status: 'success', message: 'tansfer extension success' });
      const redirect = actionsSince(m, 'Redirect')[0];
      expect(redirect?.get('Channel')).toBe(handle.channel);
      expect([redirect?.get('Context'), redirect?.get('Exten')]).toEqual(['from-internal', '806']);

      await until(async () => {
        const r = await call('POST', '/extensions/current-calls');
        return r.body.data.some((c: any) => c.channel.startsWith(`${tech}/806-`)) ? true : undefined;
      }, 'the transferred call to reach 806');
      const hang = await call('POST', '/extensions/hangup', { extension: '801' });
      expect(hang.body).toEqual({ status: 'success', message: 'hangup extension success' });
      await handle.done;
      const none = await call('POST', '/extensions/hangup', { extension: '801' });
      expect(none.status).toBe(409);
      const notBridged = await call('POST', '/extensions/transfer', { src: '801', dst: '806' });
      expect(notBridged.status).toBe(409);
    });

    it('serves recordings with Range and refuses traversal', async () => {
      const full = await fetch(`${base}/monitor/2026/11/call-1.wav`, { headers: auth });
      expect(full.status).toBe(200);
      expect(full.headers.get('content-type')).toBe('audio/wav');
      expect(Buffer.from(await full.arrayBuffer()).toString()).toBe('RIFF....WAVEfmt 0123456789');
      const part = await fetch(`${base}/monitor/2026/11/call-1.wav`, { headers: { ...auth, range: 'bytes=0-3' } });
      expect(part.status).toBe(206);
      expect(await part.text()).toBe('RIFF');
      const trav = await fetch(`${base}/monitor/2026/%2e%2e/%2e%2e/%2e%2e/etc/passwd`, { headers: auth });
      expect([400, 404]).toContain(trav.status);
    });

    it('signs an expiring link to one recording that an <audio> element can play without Authorization', async () => {
      const signAt = via === 'lan' ? `${base}/recordings/sign` : `${edge!.url}/devices/${MAC}/recordings/sign`;
      const r = await fetch(signAt, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ path: '2026/11/call-1.wav', ttl: 600 }) });
      expect(r.status).toBe(200);
      const link = (await r.json()) as { url: string; expiresAt: string };
      expect(Date.parse(link.expiresAt) - Date.now()).toBeGreaterThan(590_000);
      const played = await fetch(link.url);
      expect(played.status).toBe(200);
      expect(Buffer.from(await played.arrayBuffer()).toString()).toBe('RIFF....WAVEfmt 0123456789');
      expect((await fetch(link.url, { headers: { range: 'bytes=4-7' } })).status).toBe(206);
      // The signature is for that file only, and for nothing but recordings.
      expect((await fetch(link.url.replace('call-1.wav', 'call-2.wav'))).status).toBe(401);
      const query = new URL(link.url).search;
      if (via === 'edge') expect((await fetch(`${base}/queues/queue-info${query}`)).status).toBe(401);
      // Signing needs the same authorization as the API itself.
      if (via === 'edge') expect((await fetch(signAt, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"path":"x.wav"}' })).status).toBe(401);
      const traversal = await fetch(signAt, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ path: '../../etc/passwd' }) });
      expect(traversal.status).toBe(400);
    });

    it('refuses CR/LF in a field before anything reaches AMI', async () => {
      const n = sim.actions.length;
      const r = await call('POST', '/extensions/hangup', { extension: '801\r\nAction: Originate' });
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(/extension/);
      expect(sim.actions.length).toBe(n);
    });

    it('answers 502 quickly while Asterisk is down, and recovers by itself', async () => {
      sim.refuseConnections(true);
      sim.dropConnections();
      await until(() => (agent.ami.status !== 'ready' ? true : undefined), 'the agent to notice');
      const r = await call('GET', '/queues/queue-info');
      expect(r.status).toBe(502);
      expect(r.body.message).toMatch(/Asterisk is not connected/);
      sim.refuseConnections(false);
      await agent.ami.waitReady(15_000);
      expect((await call('GET', '/queues/queue-info')).status).toBe(200);
    });
  });
}
