import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AmiMessage } from '../../agent/ami/message.ts';
import { CcCdrMachine } from '../../agent/events/cc-cdr.ts';
import { EventTranslator } from '../../agent/events/translate.ts';
import { CcCdrEvent } from '../../shared/events/cc-cdr.ts';
import type { DocumentedEvent } from '../../shared/events/index.ts';
import { MAC, MONITOR, chan, ev, recordedMessages } from '../support/ami-events.ts';
import type { Driver } from '../support/transcript.ts';

/** The lab box's hints (07) and queues (08), as the agent reads them after its AMI login. */
const hints = (driver: Driver) =>
  recordedMessages(driver, '07_extensionstatelist.txt')
    .filter((m) => m.event === 'ExtensionStatus' && m.actionId !== undefined)
    .map((m) => ({ exten: m.get('Exten') ?? '', devices: m.get('Hint') ?? '' }));
const queueStatus = (driver: Driver) => recordedMessages(driver, '08_queuestatus_queuesummary_idle.txt').filter((m) => m.event === 'QueueParams' || m.event === 'QueueMember');

interface Flow {
  events: DocumentedEvent[];
  records: CcCdrEvent[];
  wrapups: { agent: string; interface: string; endedAt: number; held: boolean }[];
  machine: CcCdrMachine;
}

/** Feeds messages as the agent's pipeline does: translator and machine, both seeded, 100 ms apart. */
function play(driver: Driver, messages: AmiMessage[], opts: { holdForWrapup?: boolean; seed?: AmiMessage[] } = {}): Flow {
  let now = Date.UTC(2026, 10, 26, 6, 0, 0);
  const machine = new CcCdrMachine({ mac: MAC, timeZone: 'UTC', monitorDir: MONITOR, now: () => now, holdForWrapup: opts.holdForWrapup ?? false });
  machine.seedQueueStatus([...queueStatus(driver), ...(opts.seed ?? [])]);
  machine.seedHints(hints(driver));
  const translator = new EventTranslator({ mac: MAC, timeZone: 'UTC', monitorDir: MONITOR });
  translator.setDirectory(machine.extensions);
  const flow: Flow = { events: [], records: [], wrapups: [], machine };
  for (const m of messages) {
    now += 100;
    const doc = translator.translate(m, now);
    if (doc) flow.events.push(doc);
    for (const o of machine.feed(m, now)) {
      if (o.kind === 'cc_cdr') flow.records.push(CcCdrEvent.parse(o.record));
      else flow.wrapups.push({ agent: o.agent, interface: o.interface, endedAt: o.endedAt, held: o.held });
    }
  }
  return flow;
}

const recorded = (name: string, opts: Parameters<typeof play>[2] = {}) => play('chan_sip', recordedMessages('chan_sip', name), opts);
/** A queue with no members (queues 632 and 633 of scenarios 37 and 38). */
const emptyQueue = (q: string) => AmiMessage.from([['Event', 'QueueParams'], ['Queue', q], ['ActionID', 'queuestatus-9']]);

function expectNoLocalChannel(events: DocumentedEvent[]): void {
  for (const e of events) for (const [k, v] of Object.entries(e)) if (typeof v === 'string' && /channel/.test(k)) expect(v, `${e.event}.${k}`).not.toMatch(/^Local\//);
}

function expectNoDuplicateDialEnd(events: DocumentedEvent[]): void {
  const seen = events.filter((e) => e.event === 'dialend').map((e) => JSON.stringify({ ...e, timestamp: '' }));
  expect(new Set(seen).size).toBe(seen.length);
}

describe('real call flows, recorded on Asterisk 20 (chan_sip 33-40)', () => {
  it('33 queue call blind-transferred by the agent to 802: one record, the caller hung up, 800 wraps up at the transfer', () => {
    const msgs = recordedMessages('chan_sip', '33_queue_blind_transfer.txt');
    const flow = recorded('33_queue_blind_transfer.txt', { holdForWrapup: true });
    expect(flow.machine.openCalls).toBe(0);
    // pausetime=yes: the record waits for 800's wrap-up, which started when 800's part ended.
    expect(flow.records).toEqual([]);
    const transferAt = flow.wrapups[0]!.endedAt;
    expect(flow.wrapups[0]).toMatchObject({ agent: '800', interface: 'SIP/800', held: true });
    const [done] = flow.machine.completeWrapup(msgs.find((m) => m.event === 'QueueCallerJoin')!.get('Linkedid')!, 30, 'SIP/800');
    const record = done?.kind === 'cc_cdr' ? done.record : undefined;
    expect(record).toMatchObject({ queueCode: '630', agentCode: '800', called: '800', fwType: 'blind', forwardNumber: '802', hangupSide: 'caller', cdrState: 'bridged', missCause: '', pauseTime: 30 });
    // 802 (a member of 631 through its state interface) wraps up when its own leg ends, later.
    expect(flow.wrapups.map((w) => w.agent)).toEqual(['800', '802']);
    expect(flow.wrapups[1]!.endedAt).toBeGreaterThan(transferAt);
    // Talk: 800's TalkTime plus the time with 802.
    const talk800 = Number(msgs.find((m) => m.event === 'AgentComplete')!.get('TalkTime'));
    expect(Number(record!.talkingTime)).toBeGreaterThan(talk800);
    expectNoDuplicateDialEnd(flow.events);
    expect(flow.events.filter((e) => e.event === 'dialend' && e.dialstatus === 'CANCEL')).toHaveLength(1);
  });

  it('35 direct call, attended transfer to 802: consult on hold, talk before and after, no Local channel in any event', () => {
    const flow = recorded('35_direct_call_attended_transfer.txt');
    expect(flow.machine.openCalls).toBe(0);
    expect(flow.records).toHaveLength(1);
    const r = flow.records[0]!;
    expect(r).toMatchObject({ caller: '805', called: '800', agentCode: '800', fwType: 'attended', forwardNumber: '802', hangupSide: 'caller', cdrState: 'bridged' });
    expect(r.holdTime).toBeGreaterThan(0);
    expect(Number(r.talkingTime) + r.holdTime).toBeLessThanOrEqual(Number(r.duration));
    expectNoLocalChannel(flow.events);
    // One hangup per real phone; the consult's dial is told as the transferring phone's.
    expect(flow.events.filter((e) => e.event === 'hangup').map((e) => (e as { channel: string }).channel.replace(/-.*/, ''))).toEqual(['SIP/800', 'SIP/805', 'SIP/802']);
    expect(flow.events.filter((e) => e.event === 'dialbegein').map((e) => [(e as { channel: string }).channel.replace(/-.*/, ''), (e as { destchannel: string }).destchannel.replace(/-.*/, '')])).toEqual([
      ['SIP/805', 'SIP/800'],
      ['SIP/800', 'SIP/802'],
    ]);
    for (const e of flow.events) if (e.event === 'dialend') expect((e as { channel: string }).channel).not.toBe('');
    // Both agents' parts end: 800 at the transfer, 802 with the call.
    expect(flow.wrapups.map((w) => w.agent)).toEqual(['800', '802']);
  });

  it('37 caller refused by a queue with joinempty=no: a queue call nobody could take', () => {
    const flow = recorded('37_queue_joinempty_refused.txt', { seed: [emptyQueue('632')] });
    expect(flow.records).toEqual([expect.objectContaining({ queueCode: '632', cdrState: 'queue', missCause: 'NO_AGENT_LOGIN', agentCode: '', talkingTime: '0' })]);
    // Without knowing the queue's members, a refusal is still a queue call.
    expect(recorded('37_queue_joinempty_refused.txt').records[0]).toMatchObject({ queueCode: '632', cdrState: 'queue', missCause: 'NO_AGENT_LOGIN' });
    // Members there but none can take calls: NO_ASSIGN.
    const busy = AmiMessage.from([['Event', 'QueueMember'], ['Queue', '632'], ['Location', 'SIP/809'], ['Status', '2'], ['Paused', '1'], ['ActionID', 'queuestatus-9']]);
    expect(recorded('37_queue_joinempty_refused.txt', { seed: [emptyQueue('632'), busy] }).records[0]?.missCause).toBe('NO_ASSIGN');
  });

  it('38 caller waits in a queue with nobody logged in: NO_AGENT_LOGIN before MEMBER_CANCEL', () => {
    const flow = recorded('38_queue_empty_caller_waits.txt', { seed: [emptyQueue('633')] });
    expect(flow.records).toEqual([expect.objectContaining({ queueCode: '633', cdrState: 'queue', missCause: 'NO_AGENT_LOGIN', hangupSide: 'caller' })]);
  });

  it('39 trunk call to a DID, stock dialplan: incoming, the DID as trunkNumber, everywhere', () => {
    const flow = recorded('39_trunk_inbound_queue.txt');
    expect(flow.records).toEqual([expect.objectContaining({ caller: '13800138000', callType: 'incoming', trunkNumber: '4001', queueCode: '630', agentCode: '800', hangupSide: 'caller' })]);
    expect(flow.events.filter((e) => e.event === 'cdr').map((e) => (e as { calltype: string }).calltype)).toEqual(expect.arrayContaining(['inbound']));
    // Without hints nothing is called a trunk on a guess.
    const blind = new CcCdrMachine({ mac: MAC, timeZone: 'UTC', monitorDir: MONITOR, now: () => 0 });
    const out = recordedMessages('chan_sip', '39_trunk_inbound_queue.txt').flatMap((m) => blind.feed(m, 0));
    expect(out.find((o) => o.kind === 'cc_cdr')).toMatchObject({ record: { callType: 'internal', trunkNumber: '' } });
  });

  it('40 the agent hangs up: hangupSide agent, wrap-up from the agent’s hangup', () => {
    const flow = recorded('40_queue_agent_hangs_up.txt');
    expect(flow.records).toEqual([expect.objectContaining({ queueCode: '630', agentCode: '800', hangupSide: 'agent', fwType: '' })]);
    expect(flow.wrapups).toEqual([expect.objectContaining({ agent: '800', interface: 'SIP/800' })]);
  });

  it('24 and 33: a ringall queue’s duplicate DialEnd CANCEL is pushed once', () => {
    for (const name of ['24_queue_answered.txt', '33_queue_blind_transfer.txt', '39_trunk_inbound_queue.txt']) {
      const cancels = recordedMessages('chan_sip', name).filter((m) => m.event === 'DialEnd' && m.get('DialStatus') === 'CANCEL');
      const flow = recorded(name);
      expect(flow.events.filter((e) => e.event === 'dialend' && e.dialstatus === 'CANCEL')).toHaveLength(new Set(cancels.map((c) => c.get('DestUniqueid'))).size);
    }
  });
});

// Directed pickup as Asterisk does it (main/pickup.c ast_do_pickup, channel_do_masquerade): the
// ringing leg and the picker's channel swap names, Uniqueids and Linkedids; a Pickup event names both.
describe('a call picked up by another phone', () => {
  const T = 1796095600;
  const L = '1796095600.1';
  const caller = chan('SIP/805-00000001', L, L, '805');
  const ringing = chan('SIP/804-00000002', '1796095600.2', L, '804', '804', 'Dest');
  const pickerOwn = chan('SIP/806-00000003', '1796095603.3', '1796095603.3', '806');
  const pickerIn = chan('SIP/806-00000003', '1796095603.3', L, '806');
  const destPicker = chan('SIP/806-00000003', '1796095603.3', '1796095603.3', '806', '806', 'Dest');
  const target = Object.fromEntries(Object.entries(chan('SIP/804-00000002', '1796095600.2', L, '804')).map(([k, v]) => [`Target${k}`, v]));
  const msgs = [
    ev('Newchannel', T, caller, { Exten: '804' }),
    ev('Newchannel', T, chan('SIP/804-00000002', '1796095600.2', L, '804')),
    ev('DialBegin', T, caller, ringing, { DialString: '804' }),
    ev('Newchannel', T + 3, pickerOwn, { Exten: '*8804' }),
    ev('Pickup', T + 3, pickerOwn, target),
    ev('Hangup', T + 3, chan('SIP/804-00000002', '1796095600.2', L, '804'), { Cause: '26', 'Cause-txt': 'Answered elsewhere' }),
    ev('DialEnd', T + 3, caller, destPicker, { DialStatus: 'ANSWER' }),
    ev('BridgeEnter', T + 3, pickerOwn, { BridgeUniqueid: 'bp', BridgeNumChannels: '1' }),
    ev('BridgeEnter', T + 3, caller, { BridgeUniqueid: 'bp', BridgeNumChannels: '2' }),
    ev('HangupRequest', T + 13, pickerIn),
    ev('BridgeLeave', T + 13, pickerIn, { BridgeUniqueid: 'bp', BridgeNumChannels: '1' }),
    ev('Hangup', T + 13, pickerIn, { Cause: '16', 'Cause-txt': 'Normal Clearing' }),
    ev('BridgeLeave', T + 13, caller, { BridgeUniqueid: 'bp', BridgeNumChannels: '0' }),
    ev('Hangup', T + 13, caller, { Cause: '16', 'Cause-txt': 'Normal Clearing' }),
  ];
  const member806 = AmiMessage.from([['Event', 'QueueMember'], ['Queue', '630'], ['Location', 'SIP/806'], ['Status', '1'], ['Paused', '0'], ['ActionID', 'q']]);

  it('one record that says who answered; the picker’s own leg does not stay open', () => {
    const flow = play('chan_sip', msgs, { seed: [member806] });
    expect(flow.machine.openCalls).toBe(0);
    expect(flow.records).toHaveLength(1);
    expect(flow.records[0]).toMatchObject({ uuid: L, caller: '805', called: '804', agentCode: '806', fwType: 'pickup', forwardNumber: '806', hangupSide: 'agent', talkingTime: '10', cdrState: 'bridged' });
    // The picker is a queue member: its wrap-up starts when its leg ends.
    expect(flow.wrapups).toEqual([expect.objectContaining({ agent: '806', interface: 'SIP/806', endedAt: (T + 13) * 1000 })]);
  });

  it('the Linkedid move alone (no Pickup event) merges the calls too', () => {
    const flow = play('chan_sip', msgs.filter((m) => m.event !== 'Pickup'));
    expect(flow.machine.openCalls).toBe(0);
    expect(flow.records).toHaveLength(1);
    expect(flow.records[0]).toMatchObject({ uuid: L, caller: '805', talkingTime: '10' });
  });
});

describe('Asterisk before 13.8 (no PausedReason, Wrapuptime, LoginTime, TechCause)', () => {
  const OLD = new Set(['PausedReason', 'Wrapuptime', 'LoginTime', 'TechCause']);
  const strip = (m: AmiMessage) => {
    const p: string[] = [];
    for (let i = 0; i < m.pairs.length; i += 2) if (!OLD.has(m.pairs[i]!)) p.push(m.pairs[i]!, m.pairs[i + 1]!);
    return new AmiMessage(p);
  };
  it.each(['chan_sip', 'pjsip'] as const)('%s: every recorded flow gives the same events and records without them', (driver) => {
    const names = driver === 'chan_sip' ? FLOWS : FLOWS.filter((n) => Number(n.slice(0, 2)) <= 32);
    for (const name of names) {
      const msgs = recordedMessages(driver, name);
      const now = play(driver, msgs, { holdForWrapup: true });
      const old = play(driver, msgs.map(strip), { holdForWrapup: true });
      expect(old.events, name).toEqual(now.events);
      expect(old.records, name).toEqual(now.records);
      expect(old.wrapups, name).toEqual(now.wrapups);
    }
  });
});

/** Recordings of whole calls and how many customer calls each holds. */
const FLOWS = ['20_call_answered_hangup.txt', '21_call_busy.txt', '22_call_noanswer.txt', '23_call_caller_cancel.txt', '24_queue_answered.txt', '25_queue_abandoned.txt', '27_ivr_userevent.txt', '28_blacklist_block.txt', '32_click_to_call_mixmonitor.txt', '33_queue_blind_transfer.txt', '35_direct_call_attended_transfer.txt', '37_queue_joinempty_refused.txt', '38_queue_empty_caller_waits.txt', '39_trunk_inbound_queue.txt', '40_queue_agent_hangs_up.txt'];

/** A copy of a recording whose channels, ids and bridges are its own, so copies can run side by side. */
function copyOf(messages: AmiMessage[], tag: string): AmiMessage[] {
  return messages.map((m) => {
    const p = m.pairs.slice();
    for (let i = 0; i < p.length; i += 2) {
      const k = p[i]!;
      const v = p[i + 1]!;
      if (/(Uniqueid|Linkedid|UniqueID)$/.test(k) && v !== '') p[i + 1] = `${v}${tag}`;
      else if (/Channel$/.test(k) || (k === 'Value' && /^(SIP|PJSIP|Local)\//.test(v))) p[i + 1] = v.replace(/-([0-9a-f]{8})(;[12])?$/, `-$1${tag}$2`);
    }
    return new AmiMessage(p);
  });
}

const KEPT = ['caller', 'called', 'queueCode', 'agentCode', 'callType', 'cdrState', 'hangupSide', 'fwType', 'forwardNumber', 'trunkNumber', 'filePath'] as const;
const shape = (r: CcCdrEvent, tag: string) => ({ uuid: r.uuid.replace(tag, ''), ...Object.fromEntries(KEPT.map((k) => [k, r[k]])) });

describe('property: any interleaving of recorded calls', () => {
  it.each(['chan_sip', 'pjsip'] as const)('%s: one record per customer call, the same as alone, and no call left open', (driver) => {
    const names = driver === 'chan_sip' ? FLOWS : FLOWS.filter((n) => Number(n.slice(0, 2)) <= 32);
    const alone = new Map(names.map((n) => [n, play(driver, recordedMessages(driver, n)).records]));
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...names), { minLength: 2, maxLength: 5 }),
        fc.array(fc.nat(), { minLength: 20, maxLength: 400 }),
        (picked, choices) => {
          const streams = picked.map((n, i) => ({ name: n, tag: `x${i}`, msgs: copyOf(recordedMessages(driver, n), `x${i}`) }));
          const cursors = streams.map(() => 0);
          const merged: AmiMessage[] = [];
          let c = 0;
          for (;;) {
            const live = streams.map((_, i) => i).filter((i) => cursors[i]! < streams[i]!.msgs.length);
            if (live.length === 0) break;
            const i = live[(choices[c++ % choices.length] ?? 0) % live.length]!;
            merged.push(streams[i]!.msgs[cursors[i]!++]!);
          }
          const flow = play(driver, merged);
          expect(flow.machine.openCalls).toBe(0);
          expectNoLocalChannel(flow.events);
          for (const s of streams) {
            const mine = flow.records.filter((r) => r.uuid.endsWith(s.tag)).map((r) => shape(r, s.tag));
            expect(mine, s.name).toEqual(alone.get(s.name)!.map((r) => shape(r, '')));
          }
          expect(flow.records).toHaveLength(streams.reduce((n, s) => n + alone.get(s.name)!.length, 0));
        },
      ),
      { numRuns: 40 },
    );
  });
});
