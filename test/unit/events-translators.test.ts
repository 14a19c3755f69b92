import { describe, expect, it } from 'vitest';
import { AmiMessage } from '../../agent/ami/message.ts';
import { AmiParser } from '../../agent/ami/parser.ts';
import { EventTranslator, isNoise } from '../../agent/events/translate.ts';
import { formatPbxTime } from '../../agent/events/time.ts';
import { DocumentedEvent } from '../../shared/events/index.ts';
import { MAC, MONITOR, ev, chan, recordedEvents, recordedMessages, run } from '../support/ami-events.ts';

const DRIVERS = [
  ['chan_sip', 'SIP'],
  ['pjsip', 'PJSIP'],
] as const;

const of = <E extends DocumentedEvent['event']>(events: DocumentedEvent[], name: E) =>
  events.filter((e): e is Extract<DocumentedEvent, { event: E }> => e.event === name);

describe.each(DRIVERS)('documented events from the %s recordings', (driver, tech) => {
  it('every event matches its schema and carries the mac', () => {
    for (const name of ['20_call_answered_hangup.txt', '24_queue_answered.txt', '27_ivr_userevent.txt', '30_local_channel_call_cdr.txt', '32_click_to_call_mixmonitor.txt']) {
      const { events } = run(recordedMessages(driver, name));
      expect(events.length).toBeGreaterThan(0);
      for (const e of events) {
        expect(DocumentedEvent.parse(e)).toEqual(e);
        expect(e.mac).toBe(MAC);
      }
    }
  });

  it('20 answered call: dialbegein, dialend ANSWER, one hangup per channel, one cdr, all with the Linkedid', () => {
    const { events } = run(recordedMessages(driver, '20_call_answered_hangup.txt'));
    const linkedid = recordedEvents(driver, '20_call_answered_hangup.txt', 'DialBegin')[0]?.get('Linkedid');
    const [begin] = of(events, 'dialbegein');
    const amiBegin = recordedEvents(driver, '20_call_answered_hangup.txt', 'DialBegin')[0];
    expect(begin).toMatchObject({ calleridnum: '801', destcalleridnum: '802', dialstring: amiBegin?.get('DialString'), uniqueid: linkedid });
    expect(begin?.channel).toMatch(new RegExp(`^${tech}/801-`));
    expect(begin?.destchannel).toMatch(new RegExp(`^${tech}/802-`));
    expect(begin?.timestamp).toMatch(/^\d{10}\.\d{6}$/);
    expect(of(events, 'dialend').map((e) => e.dialstatus)).toEqual(['ANSWER']);
    const hangups = of(events, 'hangup');
    expect(hangups.map((h) => h.channel.split('-')[0]).sort()).toEqual([`${tech}/801`, `${tech}/802`]);
    expect(new Set(hangups.map((h) => h.uniqueid))).toEqual(new Set([linkedid]));
    const caller = hangups.find((h) => h.channel.startsWith(`${tech}/801`));
    expect(caller).toMatchObject({ calleridnum: '801', calleridname: 'Agent 801', connectedlinenum: '802', connectedlinename: 'Bob 802' });
    const cdrs = of(events, 'cdr');
    const amiCdr = recordedEvents(driver, '20_call_answered_hangup.txt', 'Cdr')[0];
    expect(cdrs).toEqual([
      {
        event: 'cdr',
        callerid: '"Agent 801" <801>',
        source: '801',
        destination: '802',
        starttime: amiCdr?.get('StartTime'),
        answertime: amiCdr?.get('AnswerTime'),
        endtime: amiCdr?.get('EndTime'),
        disposition: 'ANSWERED',
        duration: amiCdr?.get('Duration'),
        billableseconds: amiCdr?.get('BillableSeconds'),
        calltype: '',
        recordfile: '',
        uniqueid: linkedid,
        mac: MAC,
      },
    ]);
  });

  it.each([
    ['21_call_busy.txt', 'BUSY', 'BUSY'],
    ['22_call_noanswer.txt', 'NOANSWER', 'NO ANSWER'],
    ['23_call_caller_cancel.txt', 'CANCEL', 'NO ANSWER'],
  ])('%s: dialend says %s as Asterisk does, every Cdr record is a cdr', (name, dialstatus, disposition) => {
    const { events } = run(recordedMessages(driver, name));
    expect(of(events, 'dialend').map((e) => e.dialstatus)).toEqual([dialstatus]);
    const amiCdrs = recordedEvents(driver, name, 'Cdr');
    const cdrs = of(events, 'cdr');
    expect(cdrs.length).toBe(amiCdrs.length);
    expect(cdrs[0]?.disposition).toBe(disposition);
    expect(cdrs.map((c) => c.duration)).toEqual(amiCdrs.map((c) => c.get('Duration')));
  });

  it('24 queue call: a dialbegein per member rung and both cdr records with the same uniqueid', () => {
    const { events } = run(recordedMessages(driver, '24_queue_answered.txt'));
    expect(of(events, 'dialbegein').map((e) => e.destcalleridnum).sort()).toEqual(['800', '801']);
    const statuses = of(events, 'dialend').map((e) => `${e.destcalleridnum}:${e.dialstatus}`);
    expect(statuses).toContain('800:ANSWER');
    expect(statuses).toContain('801:CANCEL');
    const cdrs = of(events, 'cdr');
    expect(cdrs.map((c) => c.disposition).sort()).toEqual(['ANSWERED', 'NO ANSWER']);
    expect(new Set(cdrs.map((c) => c.uniqueid)).size).toBe(1);
  });

  it('27 ivr: the choice step gives one ivr event; the dialplan header wins over the channel snapshot', () => {
    const { events } = run(recordedMessages(driver, '27_ivr_userevent.txt'));
    const ivrs = of(events, 'ivr');
    const choice = recordedEvents(driver, '27_ivr_userevent.txt', 'UserEvent').find((m) => m.get('Step') === 'choice');
    expect(ivrs).toHaveLength(1);
    expect(ivrs[0]).toMatchObject({ uuid: choice?.get('Linkedid'), caller: '805', ivrDtmf: '1', queueCode: '630', callType: 'INTERNAL' });
    // The AMI UserEvent action in the same file (ActionID, no channel) is not an IVR step.
    expect(ivrs[0]!.startTime <= ivrs[0]!.endTime).toBe(true);
  });

  it('28 blacklisted caller: no dial, the hangup says who was refused', () => {
    const { events } = run(recordedMessages(driver, '28_blacklist_block.txt'));
    expect(of(events, 'dialbegein')).toEqual([]);
    expect(of(events, 'hangup').map((h) => h.calleridnum)).toEqual(['806']);
    expect(of(events, 'ivr')).toEqual([]);
  });

  it('29 extension status: one event per unsolicited change, in order', () => {
    const { events } = run(recordedMessages(driver, '29_extension_status_changes.txt'));
    const expected = recordedEvents(driver, '29_extension_status_changes.txt', 'ExtensionStatus')
      .filter((m) => !m.has('ActionID'))
      .map((m) => ({ event: 'extensionstatus', exten: m.get('Exten'), status: m.get('Status'), statustext: m.get('StatusText'), mac: MAC }));
    expect(of(events, 'extensionstatus')).toEqual(expected);
    const s807 = of(events, 'extensionstatus').filter((e) => e.exten === '807').map((e) => e.status);
    expect(s807[0]).toBe('0');
    expect(s807.at(-1)).toBe('4');
  });

  it('07 ExtensionStateList replies (with ActionID) are not events', () => {
    const replies = recordedEvents(driver, '07_extensionstatelist.txt', 'ExtensionStatus');
    expect(replies.length).toBeGreaterThan(5);
    expect(run(replies).events).toEqual([]);
  });

  it('30 local channels: one cdr per half, each with its own UniqueID', () => {
    const { events } = run(recordedMessages(driver, '30_local_channel_call_cdr.txt'));
    const cdrs = of(events, 'cdr');
    expect(cdrs.map((c) => c.uniqueid).sort()).toEqual(recordedEvents(driver, '30_local_channel_call_cdr.txt', 'Cdr').map((c) => c.get('UniqueID')).sort());
    expect(new Set(cdrs.map((c) => c.uniqueid)).size).toBe(4);
    expect(cdrs.filter((c) => c.disposition === 'BUSY')).toHaveLength(2);
  });

  it('32 click-to-call: the originate leg has only the Dest side, then the real dial; cdr has the recording', () => {
    const { events } = run(recordedMessages(driver, '32_click_to_call_mixmonitor.txt'));
    const [leg, dial] = of(events, 'dialbegein');
    expect(leg).toMatchObject({ channel: '', calleridnum: '', destcalleridnum: '802' });
    expect(leg?.destchannel).toMatch(new RegExp(`^${tech}/805-`));
    expect(leg?.uniqueid).toBe(leg?.destuniqueid);
    expect(dial?.channel).toBe(leg?.destchannel);
    expect(dial?.destchannel).toMatch(new RegExp(`^${tech}/802-`));
    expect(dial?.uniqueid).toBe(leg?.uniqueid);
    expect(of(events, 'cdr').map((c) => c.recordfile)).toEqual(['astpeer-test-call.wav']);
  });

  it('drops more than half of a call stream as noise before any work', () => {
    const msgs = recordedMessages(driver, '24_queue_answered.txt').filter((m) => m.event);
    const noise = msgs.filter(isNoise);
    expect(noise.length / msgs.length).toBeGreaterThan(0.5);
    expect(noise.some((m) => m.event === 'VarSet')).toBe(true);
    expect(noise.some((m) => m.event === 'Newexten')).toBe(true);
    expect(msgs.filter((m) => !isNoise(m)).some((m) => m.event === 'AgentConnect')).toBe(true);
  });
});

describe('translator details', () => {
  it('timestamp is Asterisk’s Timestamp header when present, else the receive time with 6 decimals', () => {
    const t = new EventTranslator({ mac: MAC, timeZone: 'UTC', monitorDir: MONITOR });
    const dial = (ts?: string) => {
      const m = ev('DialBegin', 0, chan('SIP/801-1', '1.1', '1.1', '801'), chan('SIP/802-2', '1.2', '1.1', '802', '802', 'Dest'), { DialString: 'SIP/802' });
      return AmiMessage.from([...m.entries()].filter(([k]) => k !== 'Timestamp').concat(ts ? [['Timestamp', ts]] : []));
    };
    expect(t.translate(dial('1534993059.785012'), 1)).toMatchObject({ timestamp: '1534993059.785012' });
    expect(t.translate(dial(), 1534993059785)).toMatchObject({ timestamp: '1534993059.785000' });
  });

  it('formats document times in the PBX zone', () => {
    const at = Date.UTC(2018, 10, 5, 11, 5, 31);
    expect(formatPbxTime(at, 'Asia/Shanghai')).toBe('2018-11-05 19:05:31');
    expect(formatPbxTime(at, 'UTC')).toBe('2018-11-05 11:05:31');
  });

  it('keeps a Chinese caller name split across TCP chunks', () => {
    const wire = Buffer.from(
      'Event: Hangup\r\nPrivilege: call,all\r\nChannel: SIP/trunk-00000001\r\nCallerIDNum: 13800138000\r\nCallerIDName: 张三客服\r\n' +
        'ConnectedLineNum: 800\r\nConnectedLineName: 李四\r\nUniqueid: 9.1\r\nLinkedid: 9.1\r\nCause: 16\r\nCause-txt: Normal Clearing\r\n\r\n',
      'utf8',
    );
    const cut = wire.indexOf(Buffer.from('张', 'utf8')) + 2;
    const parser = new AmiParser();
    const msgs = [...parser.push(wire.subarray(0, cut)), ...parser.push(wire.subarray(cut))].flatMap((f) => (f.kind === 'message' ? [f.message] : []));
    const e = new EventTranslator({ mac: MAC, timeZone: 'UTC', monitorDir: MONITOR }).translate(msgs[0]!, 0);
    expect(JSON.parse(JSON.stringify(e))).toMatchObject({ event: 'hangup', calleridname: '张三客服', connectedlinename: '李四', calleridnum: '13800138000' });
  });

  it('reads ivr and trunk facts from the dialplan contract', () => {
    const t0 = 1541643689;
    const c = chan('SIP/trunk-1', '1541643689.15', '1541643689.15', '810');
    const { events } = run([
      ev('Newchannel', t0, c),
      ev('UserEvent', t0, c, { UserEvent: 'trunk', Direction: 'inbound', TrunkNumber: '123456' }),
      ev('UserEvent', t0, c, { UserEvent: 'ivr', Step: 'enter', IvrId: '610', IvrName: 'workingtime' }),
      ev('UserEvent', t0 + 3, c, { UserEvent: 'ivr', Step: 'choice', IvrId: '610', IvrName: 'workingtime', Choice: '0', Target: '630' }),
    ], { timeZone: 'Asia/Shanghai' });
    expect(of(events, 'ivr')).toEqual([
      {
        event: 'ivr',
        uuid: '1541643689.15',
        caller: '810',
        called: '',
        callType: 'IN',
        queueCode: '630',
        startTime: '2018-11-08 10:21:29',
        endTime: '2018-11-08 10:21:32',
        duration: '3',
        ivrId: '610',
        ivrName: 'workingtime',
        ivrDtmf: '0',
        trunkNumber: '123456',
        mac: MAC,
      },
    ]);
  });
});
