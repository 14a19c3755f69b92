import { Webhook } from 'standardwebhooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseConfig } from '../../agent/config.ts';
import { startEdgeServer, type EdgeServer } from '../../edge/node/server.ts';
import { startPbxSim, type PbxSim } from '../pbxsim/index.ts';
import { ADMIN_KEY, provision } from '../support/edge-harness.ts';
import { until } from '../support/wait.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * The call flows every call center has (recordings 33-40, and a pickup), played by the simulator
 * through the real agent, on the LAN and through the Node edge, to a real webhook receiver: one
 * cc_cdr per customer call with the fields the call-flow contract gives, no Local channel in any
 * event, no DialEnd twice, and each agent's wrap-up from the end of their own part.
 */
const MAC = '68:69:2e:03:8b:3e';
const SECRET = 'flow-secret';
const WRAPUP_S = 1;
type Ev = Record<string, any>;

for (const via of ['lan', 'edge'] as const) {
  describe(`real call flows through the agent (${via === 'lan' ? 'LAN delivery' : 'the Node edge'})`, () => {
    let sim: PbxSim;
    let agent: RunningAgent;
    let edge: EdgeServer | undefined;
    let receiver: WebhookReceiver;
    let dir: string;
    let wh: Webhook;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'coo-flows-'));
      receiver = await new WebhookReceiver().start();
      sim = await startPbxSim({ driver: 'sip', timeScale: 0.02, timestampEvents: true });
      let tunnel = '';
      let secret = SECRET;
      if (via === 'edge') {
        edge = await startEdgeServer({ port: 0, host: '127.0.0.1', dataDir: join(dir, 'edge'), adminKey: ADMIN_KEY, log: () => undefined });
        const p = await provision(edge, MAC, { url: receiver.url });
        tunnel = `[tunnel]\nedge=${edge.url.replace(/^http/, 'ws')}\ntoken=${p.token}\n`;
        secret = p.webhookSecret;
      }
      wh = new Webhook(via === 'edge' ? secret : Buffer.from(secret, 'utf8').toString('base64'));
      const config = parseConfig(
        `[general]\nBINDPORT=0\nURL=${receiver.url}\nmac=${MAC}\nWEBHOOK_SECRET=${SECRET}\n[enable]\npausetime=yes\nwrapup_seconds=${WRAPUP_S}\n[ami]\nhost=127.0.0.1\nport=${sim.port}\nusername=coocenter\nsecret=coocenter\n[paths]\nmonitor=${dir}/monitor\nspool=${dir}/spool\n${tunnel}`,
      );
      agent = await startAgent({ config, log: () => undefined, host: '127.0.0.1', port: 0, timeZone: 'Asia/Shanghai' });
      // The hints are read after login: calls start once the agent knows its extensions.
      await until(() => agent.pipeline && sim.actions.some((a) => a.get('Action') === 'ExtensionStateList'), 'the agent reading the hints');
      await agent.pipeline.flush();
    });
    afterAll(async () => {
      await agent?.close();
      await edge?.close();
      await sim?.close();
      await receiver?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const events = (): Ev[] =>
      receiver.received.map((r) => {
        wh.verify(r.body, { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) });
        return JSON.parse(r.body) as Ev;
      });
    const ofCall = (linkedid: string) => events().filter((e) => e.uuid === linkedid || e.uniqueid === linkedid);
    const records = (linkedid: string) => events().filter((e) => e.event === 'cc_cdr' && e.uuid === linkedid);
    const bridgedWith = (ext: string) => [...sim.pbx.channels.values()].some((c) => !c.gone && c.device?.endsWith(`/${ext}`) && (c.bridge?.channels.length ?? 0) >= 2);
    const ringing = (ext: string) => [...sim.pbx.channels.values()].some((c) => !c.gone && c.device?.endsWith(`/${ext}`) && c.state === 5);
    const pausedFor = (iface: string, paused: boolean) => sim.actions.filter((a) => a.get('Action') === 'QueuePause' && a.get('Interface') === iface && a.get('Paused') === String(paused));

    /** Waits for the one record of the call, and checks what every flow must give. */
    async function recordOf(linkedid: string, done: Promise<void>): Promise<Ev> {
      await done;
      const ended = Date.now();
      const [cc] = await until(() => (records(linkedid).length > 0 ? records(linkedid) : null), `the cc_cdr of ${linkedid}`, 15_000);
      const mine = ofCall(linkedid);
      for (const e of mine) for (const [k, v] of Object.entries(e)) if (/channel/.test(k)) expect(String(v), `${e.event}.${k}`).not.toMatch(/^Local\//);
      const dialEnds = mine.filter((e) => e.event === 'dialend').map((e) => JSON.stringify({ ...e, timestamp: '' }));
      expect(new Set(dialEnds).size).toBe(dialEnds.length);
      // No second record, even after the stragglers.
      await agent.pipeline.flush();
      expect(records(linkedid)).toHaveLength(1);
      expect(agent.pipeline.openCalls).toBe(0);
      return { ...cc, waitedMs: Date.now() - ended };
    }

    it('queue call, the agent blind-transfers it to 802, the customer hangs up: one record, 802 in it, wrap-up from the transfer', async () => {
      const call = sim.queueCall({ from: '13800138000', queue: '630' });
      await until(() => bridgedWith('800') || bridgedWith('801'), 'an agent answering');
      const agentExt = bridgedWith('800') ? '800' : '801';
      const before = pausedFor(`SIP/${agentExt}`, true).length;
      sim.blindTransfer(agentExt, '802');
      await until(() => bridgedWith('802'), '802 answering the transfer');
      // The transferring agent is in wrap-up while the customer still talks to 802.
      await until(() => pausedFor(`SIP/${agentExt}`, true).length > before, `a wrap-up pause of ${agentExt}`);
      expect(sim.pbx.channels.size).toBeGreaterThan(0);
      sim.hangupPhone(call.channel);
      const cc = await recordOf(call.linkedid, call.done);
      expect(cc).toMatchObject({ queueCode: '630', agentCode: agentExt, fwType: 'blind', forwardNumber: '802', hangupSide: 'caller', cdrState: 'bridged', callType: 'incoming', missCause: '' });
      expect(Number(cc.pauseTime)).toBeGreaterThanOrEqual(0);
      expect(pausedFor(`SIP/${agentExt}`, false).length).toBeGreaterThan(0);
    });

    it('direct call, attended transfer to 802 completed by the transferring phone: talk before and after, consult on hold', async () => {
      const call = sim.inboundCall({ from: '805', to: '800' });
      await until(() => bridgedWith('800'), '800 answering');
      sim.atxfer('800', '802');
      await until(() => bridgedWith('802'), '802 answering the consult');
      sim.hangupPhone('800');
      await until(() => bridgedWith('802') && !bridgedWith('800'), 'the customer talking to 802');
      sim.hangupPhone(call.channel);
      const cc = await recordOf(call.linkedid, call.done);
      expect(cc).toMatchObject({ caller: '805', called: '800', agentCode: '800', fwType: 'attended', forwardNumber: '802', hangupSide: 'caller', callType: 'internal' });
      expect(cc.holdTime).toBeGreaterThan(0);
      const hangups = ofCall(call.linkedid).filter((e) => e.event === 'hangup');
      expect(hangups.map((h) => h.channel.replace(/-.*/, '')).sort()).toEqual(['SIP/800', 'SIP/802', 'SIP/805']);
    });

    it('queue call moved on by attended transfer: one record, the first agent kept, the target in forwardNumber', async () => {
      const call = sim.queueCall({ from: '13800138000', queue: '630' });
      await until(() => bridgedWith('800') || bridgedWith('801'), 'an agent answering');
      const agentExt = bridgedWith('800') ? '800' : '801';
      sim.atxfer(agentExt, '802');
      await until(() => bridgedWith('802'), '802 answering the consult');
      sim.hangupPhone(agentExt);
      await until(() => bridgedWith('802') && !bridgedWith(agentExt), 'the customer talking to 802');
      sim.hangupPhone(call.channel);
      const cc = await recordOf(call.linkedid, call.done);
      expect(cc).toMatchObject({ queueCode: '630', agentCode: agentExt, fwType: 'attended', forwardNumber: '802', hangupSide: 'caller', callType: 'incoming', missCause: '' });
      expect(cc.holdTime).toBeGreaterThan(0);
    });

    it('a ringing phone picked up by another: the record says who answered, and nothing is left open', async () => {
      const call = sim.inboundCall({ from: '805', to: '804' });
      await until(() => ringing('804'), '804 ringing');
      const picked = sim.pickup({ by: '806', target: '804', talkMs: 2000 });
      await picked.done;
      const cc = await recordOf(call.linkedid, call.done);
      expect(cc).toMatchObject({ caller: '805', called: '804', agentCode: '806', fwType: 'pickup', forwardNumber: '806', cdrState: 'bridged' });
      expect(records(picked.linkedid).filter((r) => r.uuid !== call.linkedid)).toEqual([]);
    });

    it('a queue refusing its caller (joinempty=no): a queue call with its miss cause', async () => {
      const call = sim.queueCall({ from: '805', queue: '632' });
      const cc = await recordOf(call.linkedid, call.done);
      expect(cc).toMatchObject({ queueCode: '632', cdrState: 'queue', missCause: 'NO_AGENT_LOGIN', agentCode: '' });
      expect(cc.waitedMs).toBeLessThan(5000);
    });

    it('a caller waiting in a queue nobody is logged in to (joinempty=yes) gives up: NO_AGENT_LOGIN', async () => {
      const call = sim.queueCall({ from: '805', queue: '633', hangupAfterMs: 5000 });
      const cc = await recordOf(call.linkedid, call.done);
      expect(cc).toMatchObject({ queueCode: '633', cdrState: 'queue', missCause: 'NO_AGENT_LOGIN', hangupSide: 'caller', agentCode: '' });
      expect(cc.waitedMs).toBeLessThan(5000);
    });

    it('a trunk call to a DID with the stock dialplan: incoming, the DID, the agent hangs up', async () => {
      const call = sim.trunkCall({ from: '13800138000', did: '4001', talkMs: 2000, hangupBy: 'callee' });
      const cc = await recordOf(call.linkedid, call.done);
      expect(cc).toMatchObject({ caller: '13800138000', callType: 'incoming', trunkNumber: '4001', queueCode: '630', hangupSide: 'agent' });
      expect(['800', '801']).toContain(cc.agentCode);
      const cdrs = ofCall(call.linkedid).filter((e) => e.event === 'cdr');
      expect(cdrs.map((c) => c.calltype)).toContain('inbound');
    });
  });
}
