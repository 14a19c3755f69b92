import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AmiMessage } from '../../agent/ami/message.ts';
import { AmiParser } from '../../agent/ami/parser.ts';
import { loadTranscript, type Driver } from '../support/transcript.ts';
import { AmiTestClient } from './ami-test-client.ts';
import { startPbxSim, type PbxSim } from './index.ts';

/** The recorded events of a transcript, in order. */
function recordedEvents(driver: Driver, name: string): AmiMessage[] {
  return new AmiParser({ expectBanner: true })
    .push(loadTranscript(driver, name).server)
    .flatMap((f) => (f.kind === 'message' && f.message.event ? [f.message] : []));
}

const keys = (m: AmiMessage) => [...m.entries()].map(([k]) => k);

/**
 * Call-flow events whose order within one call is stable. Device and extension state interleave
 * freely, and so does Cdr (chan_sip/32 posts it after BridgeDestroy, pjsip/32 between the BridgeLeaves).
 */
const FLOW = new Set([
  'Newchannel',
  'NewCallerid',
  'DialBegin',
  'DialState',
  'DialEnd',
  'OriginateResponse',
  'BridgeCreate',
  'BridgeEnter',
  'MixMonitorStart',
  'MixMonitorStop',
  'BridgeLeave',
  'BridgeDestroy',
  'Hangup',
]);

const QUEUE_EVENTS = new Set(['QueueCallerJoin', 'AgentCalled', 'AgentConnect', 'AgentComplete', 'AgentRingNoAnswer', 'QueueCallerAbandon', 'QueueCallerLeave']);

for (const [driver, fixtures] of [
  ['sip', 'chan_sip'],
  ['pjsip', 'pjsip'],
] as const) {
  describe(`calls on a ${driver} box`, () => {
    let sim: PbxSim;
    let client: AmiTestClient;
    const tech = driver === 'sip' ? 'SIP' : 'PJSIP';

    beforeAll(async () => {
      sim = await startPbxSim({ driver, timeScale: 0.05 });
    });
    afterAll(() => sim.close());
    afterEach(async () => {
      await client?.close();
      sim.reset();
    });

    async function connect(): Promise<AmiTestClient> {
      client = await AmiTestClient.open(sim.port);
      const r = await client.login('coocenter', 'coocenter');
      expect(r.get('Response')).toBe('Success');
      return client;
    }

    const events = (c: AmiTestClient, from = 0) => c.messages.slice(from).filter((m) => m.event !== undefined);
    const extStatuses = (c: AmiTestClient, ext: string) =>
      events(c)
        .filter((m) => m.event === 'ExtensionStatus' && m.get('Exten') === ext && !m.actionId)
        .map((m) => m.get('Status'));

    it('click-to-call rings the source, then dials the destination, as transcript 32 shows', async () => {
      const c = await connect();
      await c.action({ Action: 'Originate', Channel: `${tech}/805`, Context: 'internal', Exten: '802', Priority: '1', CallerID: '"Click 802" <802>', Timeout: '20000', Async: 'true' });
      await c.until(() => events(c).filter((m) => m.event === 'BridgeEnter').length === 2, 'both legs bridged');
      const src = (await c.event('OriginateResponse')).get('Channel') as string;
      expect(src).toMatch(new RegExp(`^${tech}/805-[0-9a-f]{8}$`));
      await c.action({ Action: 'MixMonitor', Channel: src, File: 'call.wav', Options: 'b' });
      await c.action({ Action: 'StopMixMonitor', Channel: src });
      const hangup = await c.action({ Action: 'Hangup', Channel: src });
      expect(hangup.response.get('Message')).toBe('Channel Hungup');
      await c.until(() => events(c).filter((m) => m.event === 'Hangup').length === 2, 'both legs hung up');
      await c.until(() => extStatuses(c, '802').at(-1) === '0', '802 idle again');

      const recorded = recordedEvents(fixtures, '32_click_to_call_mixmonitor.txt').filter((m) => FLOW.has(m.event as string));
      const got = events(c).filter((m) => FLOW.has(m.event as string));
      expect(got.map((m) => m.event)).toEqual(recorded.map((m) => m.event));
      // Same headers in the same order, event by event (the originate leg's DialBegin has only Dest*).
      for (const [i, m] of got.entries()) expect(keys(m), `${m.event} #${i}`).toEqual(keys(recorded[i] as AmiMessage));

      const [dial1, dial2] = got.filter((m) => m.event === 'DialBegin') as [AmiMessage, AmiMessage];
      expect(dial1.has('Channel')).toBe(false);
      expect(dial1.get('DestChannel')).toBe(src);
      expect(dial1.get('DestCallerIDNum')).toBe('802');
      expect(dial1.get('DialString')).toBe('805');
      expect(dial2.get('Channel')).toBe(src);
      expect(dial2.get('DestChannel')).toMatch(new RegExp(`^${tech}/802-`));
      expect(dial2.get('DestConnectedLineName')).toBe('Click 802');
      expect(dial2.get('DestLinkedid')).toBe(dial1.get('DestUniqueid'));
      const resp = got.find((m) => m.event === 'OriginateResponse') as AmiMessage;
      expect([resp.get('Response'), resp.get('Reason'), resp.actionId]).toEqual(['Success', '4', 't-2']);
      const cdrs = events(c).filter((m) => m.event === 'Cdr');
      expect(cdrs.length).toBe(1);
      const cdr = cdrs[0] as AmiMessage;
      expect(keys(cdr)).toEqual(keys(recordedEvents(fixtures, '32_click_to_call_mixmonitor.txt').find((m) => m.event === 'Cdr') as AmiMessage));
      expect(cdr.get('Source')).toBe('802');
      expect(cdr.get('Destination')).toBe('802');
      expect(cdr.get('LastApplication')).toBe('Dial');
      expect(cdr.get('LastData')).toBe(`${tech}/802,15`);
      expect(cdr.get('Disposition')).toBe('ANSWERED');
      expect(cdr.get('UniqueID')).toBe(dial1.get('DestUniqueid'));
      // 805 answers after 0.5 s and 802 after 1 s more: the record spans at least 1.5 simulated seconds,
      // which cdr.c cuts to whole seconds (cdr_object_get_duration).
      expect(Number(cdr.get('Duration'))).toBeGreaterThanOrEqual(1);
      expect(Number(cdr.get('BillableSeconds'))).toBeLessThanOrEqual(Number(cdr.get('Duration')));
      expect(extStatuses(c, '805')).toEqual(['8', '1', '0']);
      expect(extStatuses(c, '802')).toEqual(['8', '1', '0']);
    });

    it('a queue call answered by a member gives the queue events of transcript 24, with simulated durations', async () => {
      const c = await connect();
      const call = sim.queueCall({ from: '806', queue: '630', talkMs: 3000, hangupBy: 'callee' });
      await call.done;
      await c.until(() => events(c).some((m) => m.event === 'Hangup' && m.get('Uniqueid') === call.uniqueid), 'caller hung up');
      const recorded = recordedEvents(fixtures, '24_queue_answered.txt').filter((m) => QUEUE_EVENTS.has(m.event as string));
      const got = events(c).filter((m) => QUEUE_EVENTS.has(m.event as string));
      expect(got.map((m) => m.event)).toEqual(recorded.map((m) => m.event));
      for (const [i, m] of got.entries()) expect(keys(m), `${m.event} #${i}`).toEqual(keys(recorded[i] as AmiMessage));
      const connect_ = got.find((m) => m.event === 'AgentConnect') as AmiMessage;
      expect(connect_.get('Interface')).toBe(`${tech}/800`);
      expect(connect_.get('MemberName')).toBe('Agent 800');
      // 800 rings 1.5 simulated seconds before it answers (801 would take 3 s and loses), then talks
      // 3 s. Durations are whole seconds of simulated time; a loaded machine may add one.
      const secs = (m: AmiMessage, k: string) => Number(m.get(k));
      expect(secs(connect_, 'RingTime')).toBeGreaterThanOrEqual(1);
      expect(secs(connect_, 'RingTime')).toBeLessThanOrEqual(3);
      expect(secs(connect_, 'HoldTime')).toBeGreaterThanOrEqual(secs(connect_, 'RingTime'));
      const complete = got.find((m) => m.event === 'AgentComplete') as AmiMessage;
      expect(complete.get('Reason')).toBe('agent');
      expect(complete.get('HoldTime')).toBe(connect_.get('HoldTime'));
      expect(secs(complete, 'TalkTime')).toBeGreaterThanOrEqual(3);
      expect(secs(complete, 'TalkTime')).toBeLessThanOrEqual(4);
      const cdrs = events(c).filter((m) => m.event === 'Cdr' && m.get('UniqueID') === call.uniqueid);
      expect(cdrs.map((m) => [m.get('LastApplication'), m.get('Disposition')]).sort()).toEqual([
        ['Queue', 'ANSWERED'],
        ['Queue', 'NO ANSWER'],
      ]);
      const answered = cdrs.find((m) => m.get('Disposition') === 'ANSWERED') as AmiMessage;
      expect(answered.get('DestinationChannel')).toBe(connect_.get('DestChannel'));
      // The caller's record spans its wait and the talk.
      const span = secs(complete, 'HoldTime') + secs(complete, 'TalkTime');
      expect(Math.abs(secs(answered, 'Duration') - span)).toBeLessThanOrEqual(1);
      const status = await c.action({ Action: 'QueueStatus', Queue: '630' });
      const params = status.events.find((m) => m.event === 'QueueParams') as AmiMessage;
      expect([params.get('Completed'), params.get('TalkTime'), params.get('Holdtime')]).toEqual(['1', complete.get('TalkTime'), complete.get('HoldTime')]);
    });

    it('a caller who gives up on queue 631 is abandoned after the member rang out, as transcript 25 shows', async () => {
      const c = await connect();
      sim.setPhone('802', { answerAfterMs: null });
      const call = sim.queueCall({ from: '806', queue: '631', hangupAfterMs: 14_000 });
      await c.event('DialState', { Channel: call.channel });
      const waiting = await c.action({ Action: 'QueueStatus', Queue: '631' });
      const entry = waiting.events.find((m) => m.event === 'QueueEntry') as AmiMessage;
      expect([entry.get('Channel'), entry.get('Position'), keys(entry).at(-1)]).toEqual([call.channel, '1', 'ActionID']);
      await call.done;
      await c.until(() => events(c).some((m) => m.event === 'Hangup' && m.get('Uniqueid') === call.uniqueid), 'caller hung up');
      const got = events(c).filter((m) => QUEUE_EVENTS.has(m.event as string));
      const recorded = recordedEvents(fixtures, '25_queue_abandoned.txt').filter((m) => QUEUE_EVENTS.has(m.event as string));
      expect(got.map((m) => m.event)).toEqual(recorded.map((m) => m.event));
      for (const [i, m] of got.entries()) expect(keys(m), `${m.event} #${i}`).toEqual(keys(recorded[i] as AmiMessage));
      const noAnswer = got.find((m) => m.event === 'AgentRingNoAnswer') as AmiMessage;
      expect(noAnswer.get('Interface')).toBe('Local/802@agents/n');
      expect(noAnswer.get('DestChannel')).toMatch(/^Local\/802@agents-[0-9a-f]{8};1$/);
      // RingTime is in milliseconds: the member timeout of 10 s (plus whatever lag a loaded machine adds).
      expect(Number(noAnswer.get('RingTime'))).toBeGreaterThanOrEqual(10_000);
      expect(Number(noAnswer.get('RingTime'))).toBeLessThan(12_000);
      const abandon = got.find((m) => m.event === 'QueueCallerAbandon') as AmiMessage;
      expect([abandon.get('Position'), abandon.get('OriginalPosition')]).toEqual(['1', '1']);
      expect(Number(abandon.get('HoldTime'))).toBeGreaterThanOrEqual(14);
      expect(Number(abandon.get('HoldTime'))).toBeLessThanOrEqual(15);
      const cdrs = events(c).filter((m) => m.event === 'Cdr' && m.get('UniqueID') === call.uniqueid);
      expect(cdrs.length).toBe(2);
      expect(cdrs.every((m) => m.get('Disposition') === 'NO ANSWER')).toBe(true);
    });

    it('rings the lowest penalty first, skips members on a call (ringinuse=no), and keeps a caller waiting when nobody is free', async () => {
      const c = await connect();
      const busy = sim.inboundCall({ from: '801', to: '802' });
      await c.until(() => events(c).filter((m) => m.event === 'BridgeEnter').length === 2, '802 on a call');
      // 631: Local/802 (penalty 0) is in use through its StateInterface, so 806 (penalty 5) rings.
      const q1 = sim.queueCall({ from: '5550100', fromName: 'Customer', queue: '631', talkMs: 1000 });
      const called = await c.event('AgentCalled', { Linkedid: q1.linkedid });
      expect(called.get('MemberName')).toBe('Agent 806');
      await q1.done;
      await c.action({ Action: 'Hangup', Channel: busy.channel });
      await busy.done;
      // With 802 free again, the penalty-0 member is the one rung.
      const q2 = sim.queueCall({ from: '5550101', queue: '631', talkMs: 1000 });
      expect((await c.event('AgentCalled', { Linkedid: q2.linkedid })).get('MemberName')).toBe('Agent 802');
      await q2.done;
      // Everyone in 630 paused: the caller waits without any member rung, then gives up.
      for (const iface of [`${tech}/800`, `${tech}/801`]) await c.action({ Action: 'QueuePause', Interface: iface, Queue: '630', Paused: 'true' });
      const q3 = sim.queueCall({ from: '5550102', queue: '630', hangupAfterMs: 5000 });
      await q3.done;
      const abandon = await c.event('QueueCallerAbandon', { Linkedid: q3.linkedid });
      expect(Number(abandon.get('HoldTime'))).toBeGreaterThanOrEqual(5);
      expect(events(c).some((m) => m.event === 'AgentCalled' && m.get('Linkedid') === q3.linkedid)).toBe(false);
    });

    it('a member put on hold and taken off shows Hold/Unhold and the hint goes 16 and back to 1', async () => {
      const c = await connect();
      const call = sim.inboundCall({ from: '801', to: '802', talkMs: 60_000 });
      await c.until(() => events(c).filter((m) => m.event === 'BridgeEnter').length === 2, 'bridged');
      sim.hold('802', true);
      const held = await c.event('Hold');
      expect(held.get('Channel')).toMatch(new RegExp(`^${tech}/802-`));
      await c.until(() => extStatuses(c, '802').at(-1) === '16', '802 on hold');
      sim.hold('802', false);
      await c.event('Unhold');
      await c.until(() => extStatuses(c, '802').at(-1) === '1', '802 in use again');
      await c.action({ Action: 'Hangup', Channel: `/^${tech}\\/801-.*$/` });
      await call.done;
      await c.until(() => extStatuses(c, '802').at(-1) === '0', '802 idle');
      const hangups = events(c).filter((m) => m.event === 'Hangup');
      expect(hangups.map((m) => m.get('Channel')?.slice(0, tech.length + 4)).sort()).toEqual([`${tech}/801`, `${tech}/802`]);
    });

    it('a phone registering and unregistering raises the driver’s peer events and extension state', async () => {
      const c = await connect();
      sim.register('807', true);
      await c.until(() => extStatuses(c, '807').at(-1) === '0', '807 idle');
      sim.register('807', false);
      await c.until(() => extStatuses(c, '807').at(-1) === '4', '807 unavailable');
      const peer = events(c).filter((m) => m.event === 'PeerStatus');
      expect(peer.every((m) => m.get('Peer') === `${tech}/807` && m.get('ChannelType') === tech)).toBe(true);
      if (driver === 'sip') {
        expect(peer.map((m) => m.get('PeerStatus'))).toEqual(['Registered', 'Reachable', 'Unregistered']);
        expect(peer[2]?.get('Cause')).toBe('Expired');
      } else {
        expect(peer.map((m) => m.get('PeerStatus'))).toEqual(['Reachable', 'Unreachable']);
        expect(events(c).filter((m) => m.event === 'ContactStatus').map((m) => m.get('ContactStatus'))).toEqual(['NonQualified', 'Reachable', 'Removed']);
      }
    });

    it('a blind transfer by Redirect hangs up the other leg and the caller talks to the new party (transcript 13)', async () => {
      const c = await connect();
      const call = sim.inboundCall({ from: '801', to: '802' });
      await c.until(() => events(c).filter((m) => m.event === 'BridgeEnter').length === 2, 'bridged');
      const r = await c.action({ Action: 'Redirect', Channel: call.channel, Context: 'internal', Exten: '806', Priority: '1' });
      expect(r.response.get('Message')).toBe('Redirect successful');
      const gone = await c.event('Hangup');
      expect(gone.get('Channel')).toMatch(new RegExp(`^${tech}/802-`));
      await c.until(() => events(c).filter((m) => m.event === 'BridgeEnter').length === 4, 'bridged with 806');
      const dial = events(c).filter((m) => m.event === 'DialBegin').at(-1) as AmiMessage;
      expect([dial.get('Channel'), dial.get('DialString')]).toEqual([call.channel, '806']);
      await c.action({ Action: 'Hangup', Channel: call.channel });
      await call.done;
    });

    it('a supervisor spies on a call with ChanSpy(…,qE) and the spy ends with the call (transcript 14)', async () => {
      const c = await connect();
      const call = sim.inboundCall({ from: '801', to: '802' });
      await c.until(() => events(c).filter((m) => m.event === 'BridgeEnter').length === 2, 'bridged');
      const spy = await c.action({ Action: 'Originate', Channel: `${tech}/805`, Application: 'ChanSpy', Data: `${tech}/802,qE`, CallerID: '"Supervisor" <805>', Async: 'true' });
      const resp = await c.event('OriginateResponse', { ActionID: spy.response.actionId as string });
      const recorded = recordedEvents(fixtures, '14_originate_chanspy.txt');
      expect(keys(resp)).toEqual(keys(recorded.find((m) => m.event === 'OriginateResponse') as AmiMessage));
      const start = await c.event('ChanSpyStart');
      expect(keys(start)).toEqual(keys(recorded.find((m) => m.event === 'ChanSpyStart') as AmiMessage));
      expect([start.get('SpyerChannel'), start.get('SpyeeChannel')?.startsWith(`${tech}/802-`)]).toEqual([resp.get('Channel'), true]);
      await c.action({ Action: 'Hangup', Channel: call.channel });
      await c.event('ChanSpyStop');
      await c.event('Hangup', { Channel: resp.get('Channel') as string });
      await call.done;
    });

    it('originate failures report the recorded Reason codes', async () => {
      const c = await connect();
      const reasons: Record<string, string | undefined> = {};
      for (const [target, extra] of [
        [`${tech}/807`, {}],
        [`${tech}/803`, {}],
        [`${tech}/804`, { Timeout: '5000' }],
        ['Local/nosuch@internal', {}],
        ['FOO/1', {}],
      ] as const) {
        const from = c.messages.length;
        const r = await c.action({ Action: 'Originate', Channel: target, Context: 'test', Exten: 'answer', Priority: '1', Async: 'true', ...extra });
        const ev = await c.event('OriginateResponse', { ActionID: r.response.actionId as string }, from);
        expect(ev.get('Response')).toBe('Failure');
        expect(ev.get('Channel')).toBe(target);
        reasons[target] = ev.get('Reason');
      }
      expect(Object.values(reasons)).toEqual(['0', '5', '3', '0', '0']);
      const missing = await c.action({ Action: 'Originate', Channel: `${tech}/805`, Context: 'internal', Exten: '12345', Priority: '1', Async: 'true' });
      expect(missing.response.get('Message')).toBe('Extension does not exist.');
      const sync = await c.action({ Action: 'Originate', Channel: `${tech}/808`, Context: 'test', Exten: 'answer', Priority: '1' });
      expect([sync.response.get('Response'), sync.response.get('Message')]).toEqual(['Error', 'Originate failed']);
    });
  });
}

describe('directed pickup, both drivers at once, and an old Asterisk', () => {
  let sim: PbxSim | undefined;
  let client: AmiTestClient | undefined;
  afterEach(async () => {
    await client?.close();
    await sim?.close();
    client = undefined;
    sim = undefined;
  });
  async function start(o: Parameters<typeof startPbxSim>[0]): Promise<[PbxSim, AmiTestClient]> {
    sim = await startPbxSim({ timeScale: 0.05, ...o });
    client = await AmiTestClient.open(sim.port);
    await client.login('coocenter', 'coocenter');
    return [sim, client];
  }
  const evs = (c: AmiTestClient) => c.messages.filter((m) => m.event !== undefined && !m.actionId);

  it('806 dialing *8804 takes the call ringing on 804: the masquerade swaps Uniqueid and Linkedid, Pickup names both', async () => {
    const [s, c] = await start({ driver: 'sip' });
    const call = s.inboundCall({ from: '805', to: '804' });
    const ringing = await c.event('DialState', { Channel: call.channel });
    const target = ringing.get('DestChannel') as string;
    const u804 = ringing.get('DestUniqueid') as string;
    const picker = s.pickup({ by: '806', target: '804', talkMs: 2000 });
    const pickupEv = await c.event('Pickup');
    expect([pickupEv.get('Channel'), pickupEv.get('Uniqueid'), pickupEv.get('Linkedid'), pickupEv.get('CallerIDNum')]).toEqual([picker.channel, picker.uniqueid, picker.uniqueid, '806']);
    expect([pickupEv.get('TargetChannel'), pickupEv.get('TargetUniqueid'), pickupEv.get('TargetLinkedid'), pickupEv.get('TargetCallerIDNum')]).toEqual([target, u804, call.linkedid, '804']);
    await call.done;
    await picker.done;
    await c.until(() => evs(c).filter((m) => m.event === 'Hangup').length === 3, 'caller, picker and 804 hung up');
    const all = evs(c);
    const gone804 = all.find((m) => m.event === 'Hangup' && m.get('Channel') === target) as AmiMessage;
    expect([gone804.get('Uniqueid'), gone804.get('Linkedid'), gone804.get('Cause'), gone804.get('Cause-txt')]).toEqual([u804, call.linkedid, '26', 'Answered elsewhere']);
    const end = all.find((m) => m.event === 'DialEnd' && m.get('Channel') === call.channel) as AmiMessage;
    expect([end.get('DestChannel'), end.get('DestUniqueid'), end.get('DestLinkedid'), end.get('DialStatus')]).toEqual([picker.channel, picker.uniqueid, picker.uniqueid, 'ANSWER']);
    const enters = all.filter((m) => m.event === 'BridgeEnter');
    expect(enters.map((m) => [m.get('Uniqueid'), m.get('Linkedid')])).toEqual([
      [picker.uniqueid, picker.uniqueid],
      [call.uniqueid, call.linkedid],
    ]);
    // From the bridge on, the picker's channel carries the caller's (older) Linkedid.
    const after = all.slice(all.indexOf(enters[1] as AmiMessage)).filter((m) => m.get('Uniqueid') === picker.uniqueid);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((m) => m.get('Linkedid') === call.linkedid)).toBe(true);
  });

  it('a queue member picked up by another phone reports AgentConnect with the picker as Dest', async () => {
    const [s, c] = await start({ driver: 'pjsip' });
    s.setPhone('800', { answerAfterMs: null });
    s.setPhone('801', { answerAfterMs: null });
    const call = s.queueCall({ from: '805', queue: '630', hangupAfterMs: 20_000 });
    await c.event('AgentCalled', { Interface: 'PJSIP/800' });
    const r = await c.action({ Action: 'SimPickup', Phone: '806', Target: '800', TalkTime: '1000' });
    expect(r.response.get('Message')).toBe('Scenario started');
    const connect = await c.event('AgentConnect');
    expect([connect.get('Interface'), connect.get('DestChannel'), connect.get('DestUniqueid')]).toEqual(['PJSIP/800', r.response.get('Channel'), r.response.get('Uniqueid')]);
    await call.done;
    expect((await c.action({ Action: 'SimPickup', Phone: '806', Target: '804' })).response.get('Response')).toBe('Error');
  });

  it('a mixed box gives each extension its own technology in channels, hints, peer lists and queue members', async () => {
    const [s, c] = await start({ driver: 'sip', drivers: { '805': 'pjsip', '806': 'pjsip', '807': 'pjsip', '808': 'pjsip', '809': 'pjsip' } });
    const hints = await c.action({ Action: 'ExtensionStateList' });
    const hint = (e: string) => hints.events.find((m) => m.get('Exten') === e)?.get('Hint');
    expect([hint('800'), hint('805'), hint('trunk')]).toEqual(['SIP/800', 'PJSIP/805', undefined]);
    const peers = await c.action({ Action: 'SIPpeers' });
    expect(peers.events.filter((m) => m.event === 'PeerEntry').map((m) => m.get('ObjectName'))).toEqual(['800', '801', '802', '803', '804', 'trunk']);
    const eps = await c.action({ Action: 'PJSIPShowEndpoints' });
    expect(eps.events.filter((m) => m.event === 'EndpointList').map((m) => m.get('ObjectName'))).toEqual(['805', '806', '807', '808', '809']);
    const members = await c.action({ Action: 'QueueStatus', Queue: '631' });
    expect(members.events.filter((m) => m.event === 'QueueMember').map((m) => m.get('Location'))).toEqual(['Local/802@agents/n', 'PJSIP/806']);
    // A PJSIP phone calls a SIP one; Status and CoreShowChannels list both.
    const call = s.inboundCall({ from: '805', to: '802' });
    await c.until(() => evs(c).filter((m) => m.event === 'BridgeEnter').length === 2, 'bridged');
    expect(call.channel).toMatch(/^PJSIP\/805-/);
    const st = await c.action({ Action: 'Status' });
    expect(st.events.filter((m) => m.event === 'Status').map((m) => m.get('Channel')?.split('-')[0]).sort()).toEqual(['PJSIP/805', 'SIP/802']);
    expect((await c.action({ Action: 'CoreShowChannels' })).events.filter((m) => m.event === 'CoreShowChannel').length).toBe(2);
    await c.action({ Action: 'Hangup', Channel: call.channel });
    await call.done;
    for (const [iface, queue] of [
      ['PJSIP/807', '630'],
      ['SIP/803', '630'],
    ] as const) {
      expect((await c.action({ Action: 'QueueAdd', Queue: queue, Interface: iface })).response.get('Message')).toBe('Added interface to queue');
      expect((await c.action({ Action: 'QueuePause', Queue: queue, Interface: iface, Paused: 'true' })).response.get('Message')).toBe('Interface paused successfully');
      expect((await c.action({ Action: 'QueueRemove', Queue: queue, Interface: iface })).response.get('Message')).toBe('Removed interface from queue');
    }
    for (const tech of ['SIP/801', 'PJSIP/806']) {
      const o = await c.action({ Action: 'Originate', Channel: tech, Context: 'test', Exten: 'answer', Priority: '1', Async: 'true' });
      const resp = await c.event('OriginateResponse', { ActionID: o.response.actionId as string });
      expect(resp.get('Channel')).toMatch(new RegExp(`^${tech}-`));
      const r = await c.action({ Action: 'Redirect', Channel: resp.get('Channel') as string, Context: 'test', Exten: 'congestion', Priority: '1' });
      expect(r.response.get('Message')).toBe('Redirect successful');
    }
    await c.until(() => s.pbx.channels.size === 0, 'originated calls over');
    const spy = await c.action({ Action: 'Originate', Channel: 'PJSIP/805', Application: 'ChanSpy', Data: 'SIP/802,qS', Async: 'true' });
    expect((await c.event('OriginateResponse', { ActionID: spy.response.actionId as string })).get('Response')).toBe('Success');
  });

  it('an Asterisk older than 13.8 reports its version and writes none of the newer headers', async () => {
    const [s, c] = await start({ driver: 'pjsip', asteriskVersion: '11.25.3' });
    const settings = await c.action({ Action: 'CoreSettings' });
    expect(settings.response.get('AsteriskVersion')).toBe('11.25.3');
    const version = await c.action({ Action: 'Command', Command: 'core show version' });
    expect(version.response.get('Output')).toMatch(/^Asterisk 11\.25\.3 /);
    const status = await c.action({ Action: 'QueueStatus', Queue: '630' });
    await c.action({ Action: 'QueuePause', Queue: '630', Interface: 'PJSIP/800', Paused: 'true', Reason: 'lunch' });
    s.inboundCall({ from: '801', to: '803' });
    await c.event('Hangup');
    await c.until(() => s.pbx.channels.size === 0, 'call over');
    const members = [...status.events, ...evs(c)];
    expect(members.some((m) => m.event === 'QueueMember' || m.event === 'QueueMemberPause')).toBe(true);
    for (const m of members) for (const k of ['PausedReason', 'Wrapuptime', 'LoginTime', 'TechCause']) expect(m.has(k), `${m.event} ${k}`).toBe(false);
  });
});
