import { describe, expect, it } from 'vitest';
import { AmiMessage } from '../../agent/ami/message.ts';
import { CcCdrMachine, CcCdrStateError } from '../../agent/events/cc-cdr.ts';
import { CcCdrEvent } from '../../shared/events/cc-cdr.ts';
import { MAC, MONITOR, chan, ev, recordedEvents, recordedMessages, run } from '../support/ami-events.ts';

const DRIVERS = ['chan_sip', 'pjsip'] as const;

describe.each(DRIVERS)('cc_cdr from the %s recordings', (driver) => {
  const one = (name: string) => {
    const r = run(recordedMessages(driver, name));
    expect(r.machine.openCalls).toBe(0);
    for (const rec of r.records) expect(CcCdrEvent.parse(rec)).toEqual(rec);
    return r;
  };

  it('20 answered direct call: bridged, the callee (a queue member) hung up', () => {
    const { records, outputs } = one('20_call_answered_hangup.txt');
    // 802 is a member of queue 631 through Local/802@agents/n with StateInterface 802 (QueueMemberStatus
    // in the recording): a direct call it answers is an agent's call, with its wrap-up.
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ uuid: recordedEvents(driver, '20_call_answered_hangup.txt', 'DialBegin')[0]?.get('Linkedid'), caller: '801', called: '802', queueCode: '', agentCode: '802', callType: 'internal', cdrState: 'bridged', hangupSide: 'agent', hangupCause: 'NORMAL_CLEARING', missCause: '', mac: MAC });
    expect(outputs.filter((o) => o.kind === 'answered-call-ended')).toEqual([expect.objectContaining({ agent: '802', interface: 'Local/802@agents/n', queue: '' })]);
  });

  it.each([
    ['21_call_busy.txt', '803'],
    ['22_call_noanswer.txt', '804'],
    ['23_call_caller_cancel.txt', '802'],
  ])('%s: one unanswered record, ended by the caller side, never bridged', (name, called) => {
    const { records } = one(name);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ caller: '801', called, cdrState: '', hangupSide: 'caller', talkingTime: '0', missCause: '' });
  });

  it('24 queue answered: agent, queue, and Asterisk’s own HoldTime, RingTime and TalkTime', () => {
    const { records, outputs } = one('24_queue_answered.txt');
    const connect = recordedEvents(driver, '24_queue_answered.txt', 'AgentConnect')[0]!;
    const complete = recordedEvents(driver, '24_queue_answered.txt', 'AgentComplete')[0]!;
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      uuid: connect.get('Linkedid'),
      caller: '806',
      called: '800',
      queueCode: '630',
      agentCode: '800',
      cdrState: 'bridged',
      hangupSide: 'agent',
      queueTime: connect.get('HoldTime'),
      ringTime: connect.get('RingTime'),
      talkingTime: complete.get('TalkTime'),
      missCause: '',
    });
    expect(outputs[0]).toMatchObject({ kind: 'answered-call-ended', callId: connect.get('Linkedid'), agent: '800', interface: connect.get('Interface'), queue: '630', held: false });
  });

  it('25 abandoned after 14 s while members rang: NO_AGENT_ANSWER, not MEMBER_CANCEL', () => {
    const { records } = one('25_queue_abandoned.txt');
    const abandon = recordedEvents(driver, '25_queue_abandoned.txt', 'QueueCallerAbandon')[0]!;
    expect(Number(abandon.get('HoldTime'))).toBeGreaterThanOrEqual(10);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ queueCode: '631', agentCode: '802', called: '802', cdrState: 'queue', hangupSide: 'caller', queueTime: abandon.get('HoldTime'), missCause: 'NO_AGENT_ANSWER', talkingTime: '0' });
    // The first round rang 10 s (AgentRingNoAnswer RingTime 10000 ms), then the retry rang until the caller left.
    expect(Number(records[0]!.ringTime)).toBeGreaterThanOrEqual(10);
  });

  it('27 ivr then queue: dtmf kept, ivr time counted, answered by 800, caller hung up', () => {
    const { records } = one('27_ivr_userevent.txt');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ caller: '805', queueCode: '630', agentCode: '800', ivrDtmf: '1', cdrState: 'bridged', hangupSide: 'caller' });
    expect(records[0]!.ivrTime).toMatch(/^\d+$/);
  });

  it('28 blacklisted: rejected by the dialplan, cause as Asterisk names it', () => {
    const { records } = one('28_blacklist_block.txt');
    const hangup = recordedEvents(driver, '28_blacklist_block.txt', 'Hangup')[0]!;
    expect(hangup.get('Cause')).toBe('21');
    expect(records).toEqual([expect.objectContaining({ caller: '806', called: '802', cdrState: '', hangupSide: 'caller', hangupCause: 'CALL_REJECTED' })]);
  });

  it('30 local channels: one record per call, not per half', () => {
    const { records } = one('30_local_channel_call_cdr.txt');
    expect(records.map((r) => r.called)).toEqual(['answer', 'busy']);
  });

  it('32 click-to-call: the recording is relative to the monitor folder', () => {
    const { records } = one('32_click_to_call_mixmonitor.txt');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ called: '802', cdrState: 'bridged', filePath: 'astpeer-test-call.wav' });
  });

  it('snapshot and restore in the middle of a call give the same record as an uninterrupted run', () => {
    const msgs = recordedMessages(driver, '24_queue_answered.txt');
    const whole = run(msgs).records;
    const half = Math.floor(msgs.length / 2);
    const first = run(msgs.slice(0, half));
    expect(first.machine.openCalls).toBe(1);
    const saved = JSON.parse(JSON.stringify(first.machine.snapshot()));
    const restored = CcCdrMachine.restore(saved, { mac: MAC, timeZone: 'UTC', monitorDir: MONITOR, now: () => 0 });
    let now = Date.UTC(2026, 10, 26, 6, 0, 0) + half * 100;
    const records = msgs.slice(half).flatMap((m) => restored.feed(m, (now += 100))).flatMap((o) => (o.kind === 'cc_cdr' ? [o.record] : []));
    expect(records).toEqual(whole);
  });
});

// Synthetic calls, in the recordings' header shapes, for what no recording has.
const T0 = 1541415931; // 2018-11-05 19:05:31 in Asia/Shanghai
const CALLER = chan('SIP/trunk-00000001', '1541415929.807', '1541415929.807', '85322361', '张三');
const member = (ext: string, uid: string) => chan(`SIP/${ext}-0000000${ext.at(-1)}`, uid, '1541415929.807', ext, `Agent ${ext}`);
const queued = (...p: Record<string, string>[]) => Object.assign({}, CALLER, { Context: 'queues', Exten: '630' }, ...p);
const dest = (ext: string, uid: string) => chan(`SIP/${ext}-0000000${ext.at(-1)}`, uid, '1541415929.807', ext, `Agent ${ext}`, 'Dest');
const iface = (ext: string) => ({ Queue: '630', Interface: `SIP/${ext}`, MemberName: `Agent ${ext}` });
const queueStatus = (...members: [string, string, string][]) => [
  AmiMessage.from([['Event', 'QueueParams'], ['Queue', '630'], ['ActionID', 'queuestatus-1']]),
  ...members.map(([ext, status, paused]) =>
    AmiMessage.from([['Event', 'QueueMember'], ['Queue', '630'], ['Name', `Agent ${ext}`], ['Location', `SIP/${ext}`], ['Status', status], ['Paused', paused], ['ActionID', 'queuestatus-1']]),
  ),
];
const shanghai = { timeZone: 'Asia/Shanghai' };

function answeredQueueCall(extra: AmiMessage[], hangupAt: number): AmiMessage[] {
  return [
    ev('Newchannel', T0, CALLER),
    ev('QueueCallerJoin', T0 + 1, queued({ Queue: '630', Position: '1', Count: '1' })),
    ev('AgentCalled', T0 + 1, queued(), dest('800', '2.1'), iface('800')),
    ev('QueueCallerLeave', T0 + 4, queued({ Queue: '630', Position: '1', Count: '0' })),
    ev('AgentConnect', T0 + 4, queued(), dest('800', '2.1'), iface('800'), { HoldTime: '3', RingTime: '3' }),
    ev('BridgeEnter', T0 + 4, { BridgeUniqueid: 'b1', BridgeNumChannels: '1' }, member('800', '2.1')),
    ev('BridgeEnter', T0 + 4, { BridgeUniqueid: 'b1', BridgeNumChannels: '2' }, queued()),
    ...extra,
    ev('HangupRequest', hangupAt, member('800', '2.1')),
    ev('Hangup', hangupAt, member('800', '2.1'), { Cause: '16', 'Cause-txt': 'Normal Clearing' }),
    ev('Hangup', hangupAt, queued(), { Cause: '16', 'Cause-txt': 'Normal Clearing' }),
  ];
}

function missedCall(holdTime: number, rang: boolean): AmiMessage[] {
  return [
    ev('Newchannel', T0, CALLER),
    ev('QueueCallerJoin', T0 + 1, queued({ Queue: '630', Position: '1', Count: '1' })),
    ...(rang ? [ev('AgentCalled', T0 + 1, queued(), dest('800', '2.1'), iface('800'))] : []),
    ev('HangupRequest', T0 + 1 + holdTime, queued()),
    ev('QueueCallerAbandon', T0 + 1 + holdTime, queued({ Queue: '630', Position: '1', OriginalPosition: '1', HoldTime: String(holdTime) })),
    ev('QueueCallerLeave', T0 + 1 + holdTime, queued({ Queue: '630', Position: '1', Count: '0' })),
    ...(rang ? [ev('Hangup', T0 + 1 + holdTime, member('800', '2.1'), { Cause: '16', 'Cause-txt': 'Normal Clearing' })] : []),
    ev('Hangup', T0 + 1 + holdTime, queued(), { Cause: '16', 'Cause-txt': 'Normal Clearing' }),
  ];
}

function missed(msgs: AmiMessage[], seed: AmiMessage[] = queueStatus(['800', '1', '0'])) {
  const r = run([], shanghai);
  r.machine.seedQueueStatus(seed);
  return msgs.flatMap((m) => r.machine.feed(m, 0)).flatMap((o) => (o.kind === 'cc_cdr' ? [o.record] : []));
}

describe('cc_cdr on synthetic calls', () => {
  it('abandon within 10 s while a member rang: MEMBER_CANCEL, as in the document’s example', () => {
    const [rec] = missed(missedCall(7, true));
    expect(rec).toMatchObject({ uuid: '1541415929.807', caller: '85322361', called: '800', queueCode: '630', agentCode: '800', cdrState: 'queue', hangupSide: 'caller', hangupCause: 'NORMAL_CLEARING', startTime: '2018-11-05 19:05:31', endTime: '2018-11-05 19:05:39', duration: '8', queueTime: '7', ringTime: '7', holdTime: 0, pauseTime: 0, talkingTime: '0', missCause: 'MEMBER_CANCEL' });
  });

  it('nobody logged in: NO_AGENT_LOGIN comes first, even for a quick hang-up', () => {
    expect(missed(missedCall(3, false), queueStatus())[0]?.missCause).toBe('NO_AGENT_LOGIN');
    const removed = AmiMessage.from([['Event', 'QueueMemberRemoved'], ['Queue', '630'], ['Interface', 'SIP/800'], ['MemberName', 'Agent 800']]);
    expect(missed([removed, ...missedCall(30, false)])[0]?.missCause).toBe('NO_AGENT_LOGIN');
    // An unregistered phone is not someone who could answer.
    expect(missed(missedCall(30, false), queueStatus(['800', '5', '0']))[0]?.missCause).toBe('NO_AGENT_LOGIN');
  });

  it('members logged in but all busy or paused, nobody rung: NO_ASSIGN', () => {
    expect(missed(missedCall(30, false), queueStatus(['800', '2', '0'], ['801', '1', '1']))[0]?.missCause).toBe('NO_ASSIGN');
  });

  it('hold and unhold add up, a hold still open at hangup counts to the end', () => {
    const held = answeredQueueCall(
      [
        ev('Hold', T0 + 10, queued()),
        ev('Unhold', T0 + 25, queued()),
        ev('Hold', T0 + 30, member('800', '2.1')),
        ev('AgentComplete', T0 + 40, queued(), dest('800', '2.1'), iface('800'), { HoldTime: '3', TalkTime: '36', Reason: 'agent' }),
      ],
      T0 + 40,
    );
    const { records } = run(held, shanghai);
    // Talk is Asterisk's TalkTime (36 s, hold included) without the 25 s on hold.
    expect(records).toEqual([expect.objectContaining({ holdTime: 25, talkingTime: '11', queueTime: '3', ringTime: '3', agentCode: '800', hangupSide: 'agent', duration: '40' })]);
  });

  it('transfer: the agent’s TalkTime plus the talk with whoever the caller was transferred to', () => {
    const transferred = answeredQueueCall(
      [
        ev('AgentComplete', T0 + 24, queued(), dest('800', '2.1'), iface('800'), { HoldTime: '3', TalkTime: '20', Reason: 'transfer' }),
        ev('BridgeLeave', T0 + 24, { BridgeUniqueid: 'b1', BridgeNumChannels: '1' }, queued()),
        ev('Newchannel', T0 + 24, member('806', '2.2')),
        ev('BridgeEnter', T0 + 26, { BridgeUniqueid: 'b2', BridgeNumChannels: '1' }, member('806', '2.2')),
        ev('BridgeEnter', T0 + 26, { BridgeUniqueid: 'b2', BridgeNumChannels: '2' }, queued()),
        ev('BridgeLeave', T0 + 41, { BridgeUniqueid: 'b2', BridgeNumChannels: '1' }, queued()),
        ev('Hangup', T0 + 41, member('806', '2.2'), { Cause: '16', 'Cause-txt': 'Normal Clearing' }),
      ],
      T0 + 41,
    );
    const { records } = run(transferred, shanghai);
    expect(records[0]).toMatchObject({ talkingTime: '35', agentCode: '800', cdrState: 'bridged' });
  });

  it('pausetime=yes: the record waits for the wrap-up, survives a restart, then carries pauseTime', () => {
    const msgs = answeredQueueCall([], T0 + 20);
    const r = run(msgs, { ...shanghai, holdForWrapup: true });
    expect(r.records).toEqual([]);
    expect(r.outputs).toEqual([{ kind: 'answered-call-ended', callId: '1541415929.807', agent: '800', interface: 'SIP/800', queue: '630', endedAt: (T0 + 20) * 1000, held: true }]);
    const restored = CcCdrMachine.restore(JSON.parse(JSON.stringify(r.machine.snapshot())), { mac: MAC, timeZone: 'Asia/Shanghai', monitorDir: MONITOR, now: () => 0, holdForWrapup: true });
    const [out] = restored.completeWrapup('1541415929.807', 12);
    expect(out).toMatchObject({ kind: 'cc_cdr', record: { pauseTime: 12, agentCode: '800', duration: '20' } });
    expect(restored.completeWrapup('1541415929.807', 12)).toEqual([]);
  });

  it('a held record whose wrap-up never ends is released and counted', () => {
    const now = 0;
    const m = new CcCdrMachine({ mac: MAC, timeZone: 'UTC', monitorDir: MONITOR, now: () => now, holdForWrapup: true, maxHeldMs: 60_000 });
    for (const msg of answeredQueueCall([], T0 + 20)) m.feed(msg, now);
    expect(m.expire(59_000)).toEqual([]);
    expect(m.expire(60_000)).toEqual([expect.objectContaining({ kind: 'cc_cdr', record: expect.objectContaining({ pauseTime: 0 }) })]);
    expect(m.stats.wrapupTimedOut).toBe(1);
  });

  it('a call that never ends is finished with what is known after idleMs, and counted', () => {
    const now = 1_000;
    const m = new CcCdrMachine({ mac: MAC, timeZone: 'Asia/Shanghai', monitorDir: MONITOR, now: () => now, idleMs: 3600_000 });
    m.feed(ev('Newchannel', T0, CALLER), now);
    m.feed(ev('QueueCallerJoin', T0 + 1, queued({ Queue: '630', Position: '1', Count: '1' })), now);
    expect(m.expire(now + 3599_000)).toEqual([]);
    const [out] = m.expire(now + 3600_000);
    expect(out).toMatchObject({ kind: 'cc_cdr', record: { cdrState: 'queue', queueTime: '0', endTime: '2018-11-05 19:05:32', hangupSide: '' } });
    expect(m.stats.expired).toBe(1);
    expect(m.openCalls).toBe(0);
    // A straggler of the finished call does not open it again.
    expect(m.feed(ev('Hangup', T0 + 5, queued(), { Cause: '16', 'Cause-txt': 'Normal Clearing' }), now)).toEqual([]);
    expect(m.openCalls).toBe(0);
  });

  it('out of order: Cdr before Hangup and Idle before DialEnd change nothing', () => {
    const a = chan('SIP/801-0000000c', '5.1', '5.1', '801', '李四');
    const b = chan('SIP/802-0000000d', '5.2', '5.1', '802');
    const cdr = AmiMessage.from([['Event', 'Cdr'], ['Privilege', 'cdr,all'], ['Source', '801'], ['Destination', '802'], ['CallerID', '"李四" <801>'], ['Channel', 'SIP/801-0000000c'], ['StartTime', '2018-11-05 19:05:31'], ['AnswerTime', ''], ['EndTime', '2018-11-05 19:05:34'], ['Duration', '3'], ['BillableSeconds', '0'], ['Disposition', 'NO ANSWER'], ['UniqueID', '5.1']]);
    const idle = AmiMessage.from([['Event', 'ExtensionStatus'], ['Privilege', 'call,all'], ['Exten', '801'], ['Context', 'internal'], ['Hint', 'SIP/801'], ['Status', '0'], ['StatusText', 'Idle']]);
    const dialEnd = ev('DialEnd', T0 + 3, a, { ...chan('SIP/802-0000000d', '5.2', '5.1', '802', '802', 'Dest') }, { DialStatus: 'CANCEL' });
    const head = [ev('Newchannel', T0, a), ev('Newchannel', T0, b), ev('DialBegin', T0, a, chan('SIP/802-0000000d', '5.2', '5.1', '802', '802', 'Dest'), { DialString: 'SIP/802' })];
    const hangups = [ev('HangupRequest', T0 + 3, a), ev('Hangup', T0 + 3, b, { Cause: '16', 'Cause-txt': 'Normal Clearing' }), ev('Hangup', T0 + 3, a, { Cause: '0', 'Cause-txt': 'Unknown' })];
    const inOrder = run([...head, dialEnd, idle, ...hangups.slice(0, 2), ...hangups.slice(2), cdr], shanghai);
    const shuffled = run([...head, idle, dialEnd, ...hangups.slice(0, 2), cdr, ...hangups.slice(2)], shanghai);
    expect(shuffled.records).toEqual(inOrder.records);
    expect(shuffled.records[0]).toMatchObject({ caller: '801', called: '802', ringTime: '3', hangupSide: 'caller', duration: '3', missCause: '' });
    expect(shuffled.events.map((e) => e.event).sort()).toEqual(inOrder.events.map((e) => e.event).sort());
    expect(shuffled.events.find((e) => e.event === 'cdr')).toMatchObject({ callerid: '"李四" <801>', uniqueid: '5.1' });
  });

  it('dialplan facts: trunk, ivr, feedback, voicemail, forward, and a Chinese caller name on the way', () => {
    const c = queued();
    const { records } = run(
      [
        ev('Newchannel', T0, CALLER),
        ev('UserEvent', T0, c, { UserEvent: 'trunk', Direction: 'inbound', TrunkNumber: '02888886666' }),
        ev('UserEvent', T0, c, { UserEvent: 'ivr', Step: 'enter', IvrId: '610', IvrName: 'workingtime' }),
        ev('UserEvent', T0 + 4, c, { UserEvent: 'ivr', Step: 'choice', IvrId: '610', IvrName: 'workingtime', Choice: '2', Target: '630' }),
        ev('UserEvent', T0 + 5, c, { UserEvent: 'forward', FwType: 'noanswer', ForwardNumber: '13800138000' }),
        ev('UserEvent', T0 + 6, c, { UserEvent: 'voicemail', State: '1' }),
        ev('UserEvent', T0 + 30, c, { UserEvent: 'feedback', Step: 'start' }),
        ev('UserEvent', T0 + 36, c, { UserEvent: 'feedback', Step: 'end', Score: '5' }),
        ev('Hangup', T0 + 37, c, { Cause: '16', 'Cause-txt': 'Normal Clearing' }),
      ],
      shanghai,
    );
    expect(records[0]).toMatchObject({ callType: 'incoming', trunkNumber: '02888886666', ivrId: '610', ivrName: 'workingtime', ivrDtmf: '2', ivrTime: '4', fwType: 'noanswer', forwardNumber: '13800138000', voicemailState: '1', score: '5', feedbackTime: '6', cdrState: 'feedback', duration: '37' });
  });

  it('refuses a snapshot that is not one', () => {
    expect(() => CcCdrMachine.restore({ version: 2 }, { mac: MAC, timeZone: 'UTC', monitorDir: MONITOR, now: () => 0 })).toThrow(CcCdrStateError);
  });

  it('bounds the calls it follows: past maxCalls the longest-silent call is finished and counted', () => {
    const m = new CcCdrMachine({ mac: MAC, timeZone: 'UTC', monitorDir: MONITOR, now: () => 0, maxCalls: 2 });
    const out = ['1.1', '2.1', '3.1'].flatMap((id, i) => m.feed(ev('Newchannel', T0, chan(`SIP/80${i}-1`, id, id, `80${i}`)), i));
    expect(out.map((o) => (o.kind === 'cc_cdr' ? o.record.uuid : ''))).toEqual(['1.1']);
    expect(m.openCalls).toBe(2);
    expect(m.stats.expired).toBe(1);
  });
});
