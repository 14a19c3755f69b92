import { Webhook } from 'standardwebhooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseConfig } from '../../agent/config.ts';
import { startPbxSim, type PbxSim } from '../pbxsim/index.ts';
import { until } from '../support/wait.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

const MAC = '68:69:2e:03:8b:3e';
const SECRET = 'hook-secret#1';
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});


interface Setup {
  sim: PbxSim;
  agent: RunningAgent;
  /** Stops the agent and starts it again on the same api.conf and spool, as a restart would. */
  restart(): Promise<RunningAgent>;
  receiver: WebhookReceiver;
  events: () => Record<string, any>[];
}

async function setup(extra = '', simOpts: { timeScale?: number; asteriskVersion?: string } = {}): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'coo-ev-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const receiver = await new WebhookReceiver().start();
  cleanups.push(() => receiver.stop());
  const sim = await startPbxSim({ driver: 'sip', timeScale: simOpts.timeScale ?? 0.02, timestampEvents: true, asteriskVersion: simOpts.asteriskVersion });
  cleanups.push(() => sim.close());
  const config = parseConfig(
    `[general]\nBINDPORT=0\nURL=${receiver.url}\nmac=${MAC}\nWEBHOOK_SECRET=${SECRET}\n${extra}\n[ami]\nhost=127.0.0.1\nport=${sim.port}\nusername=coocenter\nsecret=coocenter\n[paths]\nmonitor=${dir}/monitor\nspool=${dir}/spool\n`,
  );
  const start = () => startAgent({ config, log: () => undefined, host: '127.0.0.1', port: 0, timeZone: 'Asia/Shanghai' });
  let agent = await start();
  cleanups.push(() => agent.close());
  const wh = new Webhook(Buffer.from(SECRET, 'utf8').toString('base64'));
  const events = () =>
    receiver.received.map((r) => {
      // Every push verifies with the official Standard Webhooks library, unchanged.
      wh.verify(r.body, { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) });
      return JSON.parse(r.body) as Record<string, any>;
    });
  const restart = async () => {
    await agent.close();
    agent = await start();
    return agent;
  };
  return {
    sim,
    get agent() {
      return agent;
    },
    restart,
    receiver,
    events,
  };
}

const ccOf = (s: Setup, uuid: string) => () => s.events().find((e) => e.event === 'cc_cdr' && e.uuid === uuid);

describe('agent events in LAN mode, from simulated calls to a real webhook receiver', () => {
  it('an answered queue call gives the documented events in order, each once, and its cc_cdr', async () => {
    const s = await setup();
    const call = s.sim.queueCall({ from: '13800138000', queue: '630', talkMs: 5000, hangupBy: 'caller' });
    await call.done;
    const cc = await until(ccOf(s, call.linkedid), 'the cc_cdr');
    expect(cc).toMatchObject({ event: 'cc_cdr', caller: '13800138000', queueCode: '630', cdrState: 'bridged', hangupSide: 'caller', missCause: '', mac: MAC });
    expect(['800', '801']).toContain(cc.agentCode);
    expect(Number(cc.talkingTime)).toBeGreaterThanOrEqual(4);
    expect(typeof cc.holdTime).toBe('number');
    expect(typeof cc.pauseTime).toBe('number');
    const all = s.events();
    const ids = s.receiver.received.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length);
    const ofCall = all.filter((e) => e.uniqueid === call.linkedid);
    const names = new Set(ofCall.map((e) => e.event));
    for (const n of ['dialbegein', 'dialend', 'hangup']) expect(names, n).toContain(n);
    const answered = ofCall.find((e) => e.event === 'dialend' && e.dialstatus === 'ANSWER');
    expect(answered).toBeDefined();
    expect(all.every((e) => e.mac === MAC)).toBe(true);
    expect(all.some((e) => e.event === 'extensionstatus' && e.status === '8')).toBe(true);
    // In order: every event's webhook-id carries a sequence number that only grows.
    const seqs = ids.map((id) => Number(String(id).split('_').at(-1)));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('an abandoned queue call under 10 s is MEMBER_CANCEL, over 10 s with members ringing NO_AGENT_ANSWER', async () => {
    const s = await setup();
    s.sim.setPhone('800', { answerAfterMs: null });
    s.sim.setPhone('801', { answerAfterMs: null });
    const quick = s.sim.queueCall({ from: '13900139000', queue: '630', hangupAfterMs: 4000 });
    const slow = s.sim.queueCall({ from: '13700137000', queue: '630', hangupAfterMs: 14_000 });
    await Promise.all([quick.done, slow.done]);
    expect((await until(ccOf(s, quick.linkedid), 'quick cc_cdr')).missCause).toBe('MEMBER_CANCEL');
    const slowCc = await until(ccOf(s, slow.linkedid), 'slow cc_cdr');
    expect(slowCc.missCause).toBe('NO_AGENT_ANSWER');
    expect(slowCc.cdrState).toBe('queue');
  });
});

/** As Asterisk 13.8+ reports queue members, and as 13.0-13.7 does: no PausedReason, Wrapuptime, LoginTime. */
for (const asterisk of [{ version: undefined, name: '13.8+' }, { version: '13.7.2', name: '13.7.2, no PausedReason' }]) {
  describe(`wrap-up (pausetime=yes), Asterisk ${asterisk.name}`, () => {
    it('pauses the agent after an answered call, unpauses after wrapup_seconds, and sends cc_cdr with that pauseTime', async () => {
      const s = await setup('[enable]\npausetime=yes\nwrapup_seconds=1', { asteriskVersion: asterisk.version });
      s.sim.setPhone('801', { answerAfterMs: null });
      const call = s.sim.queueCall({ from: '13800138001', queue: '630', talkMs: 2000, hangupBy: 'callee' });
      await call.done;
      const pause = await s.sim.waitForAction('QueuePause', 0);
      expect([pause.get('Interface'), pause.get('Paused'), pause.get('Reason')]).toEqual(['SIP/800', 'true', 'wrapup']);
      expect(s.events().find((e) => e.event === 'cc_cdr' && e.uuid === call.linkedid)).toBeUndefined();
      const cc = await until(ccOf(s, call.linkedid), 'the held cc_cdr');
      expect(cc.pauseTime).toBe(1);
      const member = s.sim.pbx.queues.get('630')?.members.find((m) => m.location === 'SIP/800');
      expect(member?.paused).toBe(false);
      const unpause = s.sim.actions.filter((a) => a.get('Action') === 'QueuePause').at(-1);
      expect([unpause?.get('Queue'), unpause?.get('Interface'), unpause?.get('Paused')]).toEqual(['630', 'SIP/800', 'false']);
    });

    it('ends early when the agent unpauses by hand, and never undoes a manual pause', async () => {
      const s = await setup('[enable]\npausetime=yes\nwrapup_seconds=30', { asteriskVersion: asterisk.version });
      s.sim.setPhone('801', { answerAfterMs: null });
      const call = s.sim.queueCall({ from: '13800138002', queue: '630', talkMs: 2000, hangupBy: 'caller' });
      await call.done;
      await until(() => (s.agent.wrapup?.open.length ? true : undefined), 'wrap-up to start');
      await until(() => s.sim.actions.find((a) => a.get('Action') === 'QueuePause' && a.get('Reason') === 'wrapup'), 'the wrap-up pause');
      const r = await fetch(`${s.agent.lanUrl}/queues/agent-pause`, { method: 'POST', body: new URLSearchParams({ queue: '630', member: '800', state: 'off' }) });
      expect(r.status).toBe(200);
      const cc = await until(ccOf(s, call.linkedid), 'the cc_cdr after unpause');
      expect(cc.pauseTime).toBeLessThan(30);
      expect(s.agent.wrapup?.open.length).toBe(0);
      // A manual pause later (another reason) stays: wrap-up is over and touches nothing.
      await fetch(`${s.agent.lanUrl}/queues/agent-pause`, { method: 'POST', body: new URLSearchParams({ queue: '630', member: '800', state: 'on' }) });
      const before = s.sim.actions.length;
      await s.agent.pipeline.flush();
      expect(s.sim.pbx.queues.get('630')?.members.find((m) => m.location === 'SIP/800')?.paused).toBe(true);
      expect(s.sim.actions.slice(before).some((a) => a.get('Action') === 'QueuePause')).toBe(false);
    });

    it('a restart during wrap-up does not leave the member paused, and the cc_cdr still goes out', async () => {
      const s = await setup('[enable]\npausetime=yes\nwrapup_seconds=2', { asteriskVersion: asterisk.version });
      s.sim.setPhone('801', { answerAfterMs: null });
      const call = s.sim.queueCall({ from: '13800138003', queue: '630', talkMs: 2000, hangupBy: 'caller' });
      await call.done;
      await until(() => s.sim.pbx.queues.get('630')?.members.find((m) => m.location === 'SIP/800' && m.paused && m.pausedReason === 'wrapup'), 'the wrap-up pause');
      await s.agent.pipeline.flush();
      await s.restart();
      expect(s.agent.wrapup?.open.map((w) => w.callId)).toEqual([call.linkedid]);
      const cc = await until(ccOf(s, call.linkedid), 'the cc_cdr after the restart');
      expect(cc.pauseTime).toBe(2);
      expect(s.sim.pbx.queues.get('630')?.members.find((m) => m.location === 'SIP/800')?.paused).toBe(false);
    });
  });
}
