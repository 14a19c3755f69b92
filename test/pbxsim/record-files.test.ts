import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AmiTestClient } from './ami-test-client.ts';
import type { SimClock } from './clock.ts';
import { startPbxSim, type PbxSim, type PbxSimOptions, type ScenarioHandle } from './index.ts';
import type { SimEvent } from './pbx.ts';
import { formatCdrCsvLine, formatQueueLogLine, type CdrRow } from './record-files.ts';
import { startSimCli } from './cli-process.ts';

/**
 * Simulated time that runs as fast as the simulator can go: each timer fires in its own macrotask, in
 * time order, once everything the last one set off has settled. Times, Uniqueids and durations come
 * out the same on every run, so the lines can be compared whole.
 */
function virtualClock(startMs: number): SimClock {
  let now = startMs;
  let seq = 0;
  const timers: { at: number; seq: number; fn: () => void }[] = [];
  let pending = false;
  const schedule = () => {
    if (pending || timers.length === 0) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const t = timers.shift();
      if (t) {
        now = Math.max(now, t.at);
        t.fn();
      }
      schedule();
    });
  };
  return {
    now: () => now,
    after(ms, fn) {
      const t = { at: now + ms, seq: seq++, fn };
      timers.push(t);
      schedule();
      return {
        cancel: () => {
          const i = timers.indexOf(t);
          if (i >= 0) timers.splice(i, 1);
        },
      };
    },
  };
}

/** 2026-11-26 06:15:52 UTC, 14:15:52 in Asia/Shanghai (no DST): every call below starts here. */
const T0 = Date.UTC(2026, 10, 26, 6, 15, 52);
const S = T0 / 1000;
/** The first channel's Uniqueid (the caller's, queue_log's callid), and the next ones. */
const uid = (n: number, secs = S) => `${secs}.${n}`;
const U0 = uid(0);
const STARTED = `${S}|NONE|NONE|NONE|QUEUESTART|`;
const ZONE = 'Asia/Shanghai';
const at = (secs: number) => {
  const d = new Date((S + secs + 8 * 3600) * 1000);
  return d.toISOString().slice(0, 19).replace('T', ' ');
};

interface Run {
  sim: PbxSim;
  clock: SimClock;
  dir: string;
  events: SimEvent[];
  queueLog(): string[];
  csv(): string[];
  /** The events of one kind, in order. */
  of(name: string): SimEvent[];
}

const runs: Run[] = [];
afterEach(async () => {
  for (const r of runs.splice(0)) {
    await r.sim.close();
    rmSync(r.dir, { recursive: true, force: true });
  }
});

/** The file's lines; the file must end with a newline (each write is one whole line). */
function fileLines(path: string): string[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

async function start(options: Partial<PbxSimOptions> = {}): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'pbxsim-records-'));
  const clock = virtualClock(T0);
  const queueLogFile = join(dir, 'log', 'queue_log');
  const cdrCsvFile = join(dir, 'log', 'cdr-csv', 'Master.csv');
  const sim = await startPbxSim({ clock, queueLogFile, cdrCsvFile, timeZone: ZONE, ...options });
  const events: SimEvent[] = [];
  sim.pbx.onEvent((e) => events.push(e));
  const run: Run = {
    sim,
    clock,
    dir,
    events,
    queueLog: () => fileLines(queueLogFile),
    csv: () => fileLines(cdrCsvFile),
    of: (name) => events.filter((e) => e.event === name),
  };
  runs.push(run);
  return run;
}

const get = (e: SimEvent | undefined, key: string) => e?.body.find(([k]) => k === key)?.[1];

/** Splits a Master.csv line: quoted text with `""` for `"`, bare numbers, nothing for an unset date. */
function splitCsv(line: string): string[] {
  const out: string[] = [];
  const re = /("(?:[^"]|"")*"|[^,]*)(,|$)/gy;
  for (;;) {
    const m = re.exec(line) as RegExpExecArray;
    const raw = m[1] as string;
    out.push(raw.startsWith('"') ? raw.slice(1, -1).replaceAll('""', '"') : raw);
    if (m[2] === '') return out;
  }
}

/** A line says what the AMI Cdr of the same record says, column by column (dates in the AMI's zone). */
function expectSameAsCdr(line: string, cdr: SimEvent, dates: (s: string) => string = (s) => s): void {
  const f = splitCsv(line);
  const ami = ['AccountCode', 'Source', 'Destination', 'DestinationContext', 'CallerID', 'Channel', 'DestinationChannel', 'LastApplication', 'LastData', 'StartTime', 'AnswerTime', 'EndTime', 'Duration', 'BillableSeconds', 'Disposition', 'AMAFlags', 'UniqueID', 'UserField'];
  const want = ami.map((k) => get(cdr, k) ?? '');
  for (const i of [9, 10, 11]) f[i] = f[i] === '' ? '' : dates(f[i] as string);
  expect(f.slice(0, 18)).toEqual(want);
}

async function finish(h: ScenarioHandle): Promise<void> {
  await h.done;
  // Let the last dialplan steps (the caller's Hangup and its CDRs) run.
  await new Promise((r) => setTimeout(r, 10));
}

describe('queue_log and Master.csv as Asterisk writes them', () => {
  it('starts queue_log with QUEUESTART (NONE for callid, queue and agent); Master.csv waits for the first CDR', async () => {
    const r = await start();
    expect(r.queueLog()).toEqual([STARTED]);
    expect(existsSync(join(r.dir, 'log', 'cdr-csv', 'Master.csv'))).toBe(false);
  });

  it('an answered queue call (24): ENTERQUEUE, CONNECT, COMPLETEAGENT with the AMI times, and a record per member rung', async () => {
    const r = await start();
    const h = r.sim.queueCall({ from: '806', queue: '630', talkMs: 3000, hangupBy: 'callee' });
    expect(h.uniqueid).toBe(U0);
    await finish(h);
    // 800 answers after 1.5 s (801 loses) and hangs up 3 s later.
    expect(r.queueLog()).toEqual([
      STARTED,
      `${S}|${U0}|630|NONE|ENTERQUEUE||806|1`,
      `${S + 1}|${U0}|630|Agent 800|CONNECT|1|${uid(1)}|1`,
      `${S + 4}|${U0}|630|Agent 800|COMPLETEAGENT|1|3|1`,
    ]);
    const [connect] = r.of('AgentConnect');
    const [complete] = r.of('AgentComplete');
    expect([get(connect, 'Uniqueid'), get(connect, 'HoldTime'), get(connect, 'DestUniqueid'), get(connect, 'RingTime')]).toEqual([U0, '1', uid(1), '1']);
    expect([get(complete, 'HoldTime'), get(complete, 'TalkTime'), get(complete, 'Reason')]).toEqual(['1', '3', 'agent']);
    expect(r.csv()).toEqual([
      `"","806","630","queues","""Carol 806"" <806>","SIP/806-00000000","SIP/800-00000001","Queue","630,t,,,60","${at(0)}","${at(0)}","${at(4)}",4,4,"ANSWERED","DOCUMENTATION","${U0}","","","${U0}",0`,
      `"","806","630","queues","""Carol 806"" <806>","SIP/806-00000000","SIP/801-00000002","Queue","630,t,,,60","${at(0)}","${at(0)}","${at(1)}",1,1,"NO ANSWER","DOCUMENTATION","${U0}","","","${U0}",3`,
    ]);
    const cdrs = r.of('Cdr');
    expect(cdrs.length).toBe(2);
    r.csv().forEach((line, i) => {
      expectSameAsCdr(line, cdrs[i] as SimEvent);
    });
  });

  it('an abandoned queue call (25): RINGNOANSWER in ms, RINGCANCELED for the member still ringing, ABANDON with positions and wait', async () => {
    const r = await start();
    r.sim.setPhone('802', { answerAfterMs: null });
    const h = r.sim.queueCall({ from: '806', queue: '631', hangupAfterMs: 14_000 });
    await finish(h);
    // Local/802@agents/n rings 10 s, the retry waits 2 s, the caller leaves 2 s into the second round.
    expect(r.queueLog()).toEqual([
      STARTED,
      `${S}|${U0}|631|NONE|ENTERQUEUE||806|1`,
      `${S + 10}|${U0}|631|Agent 802|RINGNOANSWER|10000`,
      `${S + 14}|${U0}|631|Agent 802|RINGCANCELED|2000`,
      `${S + 14}|${U0}|631|NONE|ABANDON|1|1|14`,
    ]);
    expect(r.of('AgentRingNoAnswer').map((e) => [get(e, 'MemberName'), get(e, 'RingTime')])).toEqual([['Agent 802', '10000']]);
    const [abandon] = r.of('QueueCallerAbandon');
    expect([get(abandon, 'Uniqueid'), get(abandon, 'Position'), get(abandon, 'OriginalPosition'), get(abandon, 'HoldTime')]).toEqual([U0, '1', '1', '14']);
    // The caller's records: one per round, never answered by a member; the second one starts (and, as
    // the caller is up, is answered) when its round starts, as recording 25 shows.
    const own = r.csv().filter((l) => l.includes(`"SIP/806-00000000"`));
    expect(own).toEqual([
      `"","806","631","queues","""Carol 806"" <806>","SIP/806-00000000","Local/802@agents-00000000;1","Queue","631,t,,,60","${at(0)}","${at(0)}","${at(10)}",10,10,"NO ANSWER","DOCUMENTATION","${U0}","","","${U0}",0`,
      `"","806","631","queues","""Carol 806"" <806>","SIP/806-00000000","Local/802@agents-00000001;1","Queue","631,t,,,60","${at(12)}","${at(12)}","${at(14)}",2,2,"NO ANSWER","DOCUMENTATION","${U0}","","","${U0}",6`,
    ]);
    const cdrs = r.of('Cdr');
    expect(r.csv().length).toBe(cdrs.length);
    r.csv().forEach((line, i) => {
      expectSameAsCdr(line, cdrs[i] as SimEvent);
    });
    // The Local halves' records have no answer: an empty, unquoted field.
    for (const l of r.csv().filter((x) => x.includes('"Local/802@agents-0000000') && x.includes(';2"'))) expect(splitCsv(l)[10]).toBe('');
  });

  it('before Asterisk 15 there is no RINGCANCELED', async () => {
    const r = await start({ asteriskVersion: '13.38.3' });
    r.sim.setPhone('802', { answerAfterMs: null });
    await finish(r.sim.queueCall({ from: '806', queue: '631', hangupAfterMs: 4000 }));
    expect(r.queueLog().slice(1).map((l) => l.split('|')[4])).toEqual(['ENTERQUEUE', 'ABANDON']);
  });

  it('rings with no answer, then a member answers on the retry: RINGNOANSWER per member rung, CONNECT with the whole wait', async () => {
    const r = await start();
    r.sim.setPhone('800', { answerAfterMs: null });
    r.sim.setPhone('801', { answerAfterMs: null });
    r.clock.after(11_000, () => r.sim.setPhone('800', { answerAfterMs: 1500 }));
    const h = r.sim.queueCall({ from: '806', queue: '630', talkMs: 2000, hangupBy: 'caller' });
    await finish(h);
    // Ringall rings 800 before 801; the second round starts at 12 s, 800 answers at 13.5 s.
    expect(r.queueLog()).toEqual([
      STARTED,
      `${S}|${U0}|630|NONE|ENTERQUEUE||806|1`,
      `${S + 10}|${U0}|630|Agent 800|RINGNOANSWER|10000`,
      `${S + 10}|${U0}|630|Agent 801|RINGNOANSWER|10000`,
      `${S + 13}|${U0}|630|Agent 800|CONNECT|13|${uid(3, S + 12)}|1`,
      `${S + 15}|${U0}|630|Agent 800|COMPLETECALLER|13|2|1`,
    ]);
    expect(r.of('AgentRingNoAnswer').map((e) => [get(e, 'MemberName'), get(e, 'RingTime')])).toEqual([
      ['Agent 800', '10000'],
      ['Agent 801', '10000'],
    ]);
    const [connect] = r.of('AgentConnect');
    expect([get(connect, 'HoldTime'), get(connect, 'RingTime'), get(connect, 'DestUniqueid')]).toEqual(['13', '1', uid(3, S + 12)]);
    const [complete] = r.of('AgentComplete');
    expect([get(complete, 'HoldTime'), get(complete, 'TalkTime'), get(complete, 'Reason')]).toEqual(['13', '2', 'caller']);
    // The answered record comes first, then one per unanswered attempt (24, 27).
    expect(r.csv().map((l) => splitCsv(l).slice(6, 7).concat(splitCsv(l).slice(14, 15)).join(' '))).toEqual([
      'SIP/800-00000003 ANSWERED',
      'SIP/800-00000001 NO ANSWER',
      'SIP/801-00000002 NO ANSWER',
      'SIP/801-00000004 NO ANSWER',
    ]);
    r.csv().forEach((line, i) => {
      expectSameAsCdr(line, r.of('Cdr')[i] as SimEvent);
    });
  });

  it('a queue call nobody answers before the queue timeout: EXITWITHTIMEOUT with position, original position and wait', async () => {
    const r = await start();
    r.sim.setPhone('800', { answerAfterMs: null });
    r.sim.setPhone('801', { answerAfterMs: null });
    await finish(r.sim.queueCall({ from: '806', queue: '630' }));
    const lines = r.queueLog();
    // Five rounds of 10 s with 2 s between them, then Queue(630,t,,,60) gives up.
    expect(lines.filter((l) => l.includes('|RINGNOANSWER|')).length).toBe(10);
    expect(lines.at(-1)).toBe(`${S + 60}|${U0}|630|NONE|EXITWITHTIMEOUT|1|1|60`);
  });

  it('a direct call writes no queue_log line and one record; an unanswered one has an empty answer time', async () => {
    const r = await start();
    await finish(r.sim.inboundCall({ from: '801', to: '802', talkMs: 3000, hangupBy: 'callee' }));
    expect(r.queueLog()).toEqual([STARTED]);
    expect(r.csv()).toEqual([
      `"","801","802","internal","""Agent 801"" <801>","SIP/801-00000000","SIP/802-00000001","Dial","SIP/802,15","${at(0)}","${at(1)}","${at(4)}",4,3,"ANSWERED","DOCUMENTATION","${U0}","","","${U0}",0`,
    ]);
    expectSameAsCdr(r.csv()[0] as string, r.of('Cdr')[0] as SimEvent);

    const from = r.csv().length;
    const h = r.sim.inboundCall({ from: '801', to: '804' });
    await finish(h);
    const u = h.uniqueid;
    // Dial(SIP/804,15) rings out; cdr_manager's second record covers the rest of the dialplan (22).
    expect(r.csv().slice(from)).toEqual([
      `"","801","804","internal","""Agent 801"" <801>","SIP/801-00000002","SIP/804-00000003","Dial","SIP/804,15","${at(4)}",,"${at(19)}",15,0,"NO ANSWER","DOCUMENTATION","${u}","","","${u}",2`,
      `"","801","804","internal","""Agent 801"" <801>","SIP/801-00000002","","Hangup","","${at(19)}",,"${at(19)}",0,0,"NO ANSWER","DOCUMENTATION","${u}","","","${u}",4`,
    ]);
  });

  it('a blind-transferred queue call (33): BLINDTRANSFER with the extension, context, hold and talk time', async () => {
    const r = await start();
    const h = r.sim.queueCall({ from: '805', queue: '630' });
    r.clock.after(4500, () => r.sim.blindTransfer('800', '802'));
    r.clock.after(9000, () => r.sim.hangupPhone('805'));
    await finish(h);
    expect(r.queueLog()).toEqual([
      STARTED,
      `${S}|${U0}|630|NONE|ENTERQUEUE||805|1`,
      `${S + 1}|${U0}|630|Agent 800|CONNECT|1|${uid(1)}|1`,
      `${S + 4}|${U0}|630|Agent 800|BLINDTRANSFER|802|internal|1|3|1`,
    ]);
    const [blind] = r.of('BlindTransfer');
    expect([get(blind, 'TransfereeUniqueid'), get(blind, 'Extension'), get(blind, 'Context')]).toEqual([U0, '802', 'internal']);
    const [complete] = r.of('AgentComplete');
    expect([get(complete, 'HoldTime'), get(complete, 'TalkTime'), get(complete, 'Reason')]).toEqual(['1', '3', 'transfer']);
    // The caller's third record is its call with 802 after the transfer.
    expect(r.csv().map((l) => splitCsv(l).slice(5, 9).join(' '))).toEqual([
      'SIP/805-00000000 SIP/800-00000001 Queue 630,t,,,60',
      'SIP/805-00000000 SIP/801-00000002 Queue 630,t,,,60',
      'SIP/805-00000000 SIP/802-00000003 Dial SIP/802,15',
    ]);
    r.csv().forEach((line, i) => {
      expectSameAsCdr(line, r.of('Cdr')[i] as SimEvent);
    });
  });

  it('an attended-transferred queue call: ATTENDEDTRANSFER BRIDGE|<bridge> when the transfer completes, with its AgentComplete', async () => {
    const r = await start();
    const h = r.sim.queueCall({ from: '805', queue: '630' });
    r.clock.after(4500, () => r.sim.atxfer('800', '802'));
    r.clock.after(7000, () => r.sim.hangupPhone('800'));
    r.clock.after(10_000, () => r.sim.hangupPhone('805'));
    await finish(h);
    const [atxfer] = r.of('AttendedTransfer');
    const bridge = get(atxfer, 'DestBridgeUniqueid') as string;
    expect(get(atxfer, 'DestType')).toBe('Bridge');
    expect(r.queueLog()).toEqual([
      STARTED,
      `${S}|${U0}|630|NONE|ENTERQUEUE||805|1`,
      `${S + 1}|${U0}|630|Agent 800|CONNECT|1|${uid(1)}|1`,
      `${S + 7}|${U0}|630|Agent 800|ATTENDEDTRANSFER|BRIDGE|${bridge}|1|6|1`,
    ]);
    const [complete] = r.of('AgentComplete');
    expect([get(complete, 'HoldTime'), get(complete, 'TalkTime'), get(complete, 'Reason')]).toEqual(['1', '6', 'transfer']);
    // AgentComplete follows the transfer, not the end of the customer's call with 802.
    expect(r.events.indexOf(complete as SimEvent)).toBeLessThan(r.events.findIndex((e) => e.event === 'Hangup' && get(e, 'Uniqueid') === U0));
    r.csv().forEach((line, i) => {
      expectSameAsCdr(line, r.of('Cdr')[i] as SimEvent);
    });
  });

  it('quotes a caller name with " and , as cdr_csv does (after ast_callerid_merge escaped the quotes); log-caller-id-name adds it to ENTERQUEUE', async () => {
    const r = await start({ queueLog: { logCallerIdName: true } });
    const name = 'Smith, "Bob" | Sales';
    const h = r.sim.queueCall({ from: '13800138000', fromName: name, queue: '630', talkMs: 2000 });
    await finish(h);
    // app_queue replaces | in the name with _ so the line keeps its fields.
    expect(r.queueLog()[1]).toBe(`${S}|${U0}|630|NONE|ENTERQUEUE||13800138000|1|Smith, "Bob" _ Sales`);
    const [cdr] = r.of('Cdr');
    expect(get(cdr, 'CallerID')).toBe('"Smith, \\"Bob\\" | Sales" <13800138000>');
    const line = r.csv()[0] as string;
    expect(line.startsWith(`"","13800138000","630","queues","""Smith, \\""Bob\\"" | Sales"" <13800138000>","SIP/trunk-00000000",`)).toBe(true);
    expect(splitCsv(line)[4]).toBe(get(cdr, 'CallerID'));
    expectSameAsCdr(line, cdr as SimEvent);
  });

  it('without log-caller-id-name ENTERQUEUE has three fields, and a caller with no number leaves the second empty', async () => {
    const r = await start();
    await finish(r.sim.trunkCall({ from: '13800138000', did: '4001', talkMs: 1000 }));
    expect(r.queueLog()[1]).toBe(`${S}|${U0}|630|NONE|ENTERQUEUE||13800138000|1`);
    // Recording 39's caller has no name: `"" <number>`.
    expect(splitCsv(r.csv()[0] as string)[4]).toBe('"" <13800138000>');
  });

  it('member actions: ADDMEMBER/REMOVEMEMBER (MANAGER, the interface), PAUSE/UNPAUSE with the reason, PAUSEALL, PENALTY', async () => {
    const r = await start();
    const c = await AmiTestClient.open(r.sim.port);
    try {
      await c.login('coocenter', 'coocenter');
      await c.action({ Action: 'QueueAdd', Queue: '630', Interface: 'SIP/805', MemberName: 'Supervisor 805', Penalty: '1' });
      await c.action({ Action: 'QueuePause', Interface: 'SIP/800', Queue: '630', Paused: 'true', Reason: 'lunch' });
      await c.action({ Action: 'QueuePause', Interface: 'SIP/800', Queue: '630', Paused: 'false', Reason: 'back' });
      await c.action({ Action: 'QueuePause', Interface: 'SIP/801', Paused: 'true' });
      await c.action({ Action: 'QueuePenalty', Interface: 'SIP/805', Queue: '630', Penalty: '3' });
      await c.action({ Action: 'QueueRemove', Queue: '630', Interface: 'SIP/805' });
      await c.action({ Action: 'QueueAdd', Queue: '631', Interface: 'SIP/807', Paused: 'yes' });
      expect(r.queueLog()).toEqual([
        STARTED,
        `${S}|MANAGER|630|SIP/805|ADDMEMBER|`,
        `${S}|NONE|630|Agent 800|PAUSE|lunch`,
        `${S}|NONE|630|Agent 800|UNPAUSE|back`,
        `${S}|NONE|NONE|Agent 801|PAUSEALL|`,
        `${S}|NONE|630|Agent 801|PAUSE|`,
        `${S}|NONE|630|SIP/805|PENALTY|3`,
        `${S}|MANAGER|630|SIP/805|REMOVEMEMBER|`,
        `${S}|MANAGER|631|SIP/807|ADDMEMBER|PAUSED`,
      ]);
      // An unpause with a reason carries it in its QueueMemberPause too, then the member has none.
      const pauses = await c.until(() => {
        const l = c.messages.filter((m) => m.event === 'QueueMemberPause');
        return l.length === 3 ? l : undefined;
      }, 'three QueueMemberPause');
      expect(pauses.map((m) => [m.get('MemberName'), m.get('Paused'), m.get('PausedReason')])).toEqual([
        ['Agent 800', '1', 'lunch'],
        ['Agent 800', '0', 'back'],
        ['Agent 801', '1', ''],
      ]);
      const status = await c.action({ Action: 'QueueStatus', Queue: '630', Member: 'SIP/800' });
      expect(status.events.find((m) => m.event === 'QueueMember')?.get('PausedReason')).toBe('');
    } finally {
      await c.close();
    }
  });

  it('log_membername_as_agent names added and removed members by MemberName', async () => {
    const r = await start({ queueLog: { logMembernameAsAgent: true } });
    const c = await AmiTestClient.open(r.sim.port);
    try {
      await c.login('coocenter', 'coocenter', 'off');
      await c.action({ Action: 'QueueAdd', Queue: '630', Interface: 'SIP/805', MemberName: 'Supervisor 805' });
      await c.action({ Action: 'QueueRemove', Queue: '630', Interface: 'SIP/805' });
      await c.action({ Action: 'QueueAdd', Queue: '630', Interface: 'SIP/806' });
      expect(r.queueLog().slice(1)).toEqual([`${S}|MANAGER|630|Supervisor 805|ADDMEMBER|`, `${S}|MANAGER|630|Supervisor 805|REMOVEMEMBER|`, `${S}|MANAGER|630|SIP/806|ADDMEMBER|`]);
    } finally {
      await c.close();
    }
  });

  it('Master.csv columns: loguniqueid, loguserfield and newcdrcolumns each add theirs; usegmtime writes GMT', async () => {
    const row: CdrRow = {
      accountCode: '',
      source: '806',
      destination: '630',
      destinationContext: 'queues',
      callerId: '"Carol 806" <806>',
      channel: 'SIP/806-00000000',
      destinationChannel: 'SIP/800-00000001',
      lastApp: 'Queue',
      lastData: '630,t,,,60',
      start: T0,
      answer: undefined,
      end: T0 + 4500,
      duration: 4,
      billsec: 0,
      disposition: 'NO ANSWER',
      amaFlags: 'DOCUMENTATION',
      uniqueid: U0,
      userField: 'vip "gold"',
      peerAccount: 'peer',
      linkedid: uid(7),
      sequence: 12,
    };
    const fixed = `"","806","630","queues","""Carol 806"" <806>","SIP/806-00000000","SIP/800-00000001","Queue","630,t,,,60","${at(0)}",,"${at(4)}",4,0,"NO ANSWER","DOCUMENTATION"`;
    const none = { loguniqueid: false, loguserfield: false, newcdrcolumns: false };
    expect(formatCdrCsvLine(row, none, ZONE)).toBe(`${fixed}\n`);
    expect(formatCdrCsvLine(row, { ...none, loguniqueid: true }, ZONE)).toBe(`${fixed},"${U0}"\n`);
    expect(formatCdrCsvLine(row, { ...none, loguserfield: true }, ZONE)).toBe(`${fixed},"vip ""gold"""\n`);
    expect(formatCdrCsvLine(row, { ...none, newcdrcolumns: true }, ZONE)).toBe(`${fixed},"peer","${uid(7)}",12\n`);
    expect(formatCdrCsvLine(row, {}, ZONE)).toBe(`${fixed},"${U0}","vip ""gold""","peer","${uid(7)}",12\n`);
    expect(formatCdrCsvLine(row, { usegmtime: true }, ZONE)).toContain(`,"2026-11-26 06:15:52",,"2026-11-26 06:15:56",4,`);
    // A running box with the options off writes the sixteen columns only.
    const r = await start({ cdrCsv: none });
    await finish(r.sim.inboundCall({ from: '801', to: '802', talkMs: 1000 }));
    expect(splitCsv(r.csv()[0] as string).length).toBe(16);
  });

  it('dates in the box zone, as the AMI Cdr times (the process zone when unset), GMT with usegmtime', async () => {
    const r = await start({ timeZone: undefined });
    await finish(r.sim.inboundCall({ from: '801', to: '802', talkMs: 1000 }));
    const [cdr] = r.of('Cdr');
    const f = splitCsv(r.csv()[0] as string);
    expect([f[9], f[10], f[11]]).toEqual([get(cdr, 'StartTime'), get(cdr, 'AnswerTime'), get(cdr, 'EndTime')]);
    expectSameAsCdr(r.csv()[0] as string, cdr as SimEvent);

    const g = await start({ cdrCsv: { usegmtime: true } });
    await finish(g.sim.inboundCall({ from: '801', to: '802', talkMs: 1000 }));
    expect(splitCsv(g.csv()[0] as string).slice(9, 12)).toEqual(['2026-11-26 06:15:52', '2026-11-26 06:15:53', '2026-11-26 06:15:54']);
  });

  it('appends to files that already exist, and a line is there when the AMI event of the same moment arrives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbxsim-records-'));
    const queueLogFile = join(dir, 'queue_log');
    const cdrCsvFile = join(dir, 'Master.csv');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(queueLogFile, '1700000000|NONE|NONE|NONE|QUEUESTART|\n');
    const sim = await startPbxSim({ timeScale: 0.02, queueLogFile, cdrCsvFile });
    const c = await AmiTestClient.open(sim.port);
    try {
      await c.login('coocenter', 'coocenter');
      const h = sim.queueCall({ from: '806', queue: '630', talkMs: 1000, hangupBy: 'callee' });
      // Read the files in the same turn the event is parsed: the line must already be there (later
      // lines may be too, as the simulator runs 50x faster than the socket is read).
      const connectLine = await c.until(() => {
        const ev = c.messages.find((m) => m.event === 'AgentConnect');
        return ev ? { ev, line: fileLines(queueLogFile).find((l) => l.includes('|CONNECT|')) ?? '' } : undefined;
      }, 'AgentConnect');
      expect(connectLine.line).toMatch(/^\d+\|[\d.]+\|630\|Agent 800\|CONNECT\|/);
      const [, callid, , , , hold, peer, ring] = connectLine.line.split('|');
      expect([callid, hold, peer, ring]).toEqual([h.uniqueid, connectLine.ev.get('HoldTime'), connectLine.ev.get('DestUniqueid'), connectLine.ev.get('RingTime')]);
      const cdrLine = await c.until(() => {
        const ev = c.messages.find((m) => m.event === 'Cdr');
        return ev ? { ev, lines: fileLines(cdrCsvFile) } : undefined;
      }, 'Cdr');
      expect(cdrLine.lines.length).toBeGreaterThanOrEqual(1);
      expectSameAsCdr(cdrLine.lines[0] as string, { event: 'Cdr', privilege: 'cdr,all', body: [...cdrLine.ev.entries()] });
      await h.done;
      const lines = fileLines(queueLogFile);
      expect(lines.slice(0, 2).map((l) => l.split('|')[4])).toEqual(['QUEUESTART', 'QUEUESTART']);
      expect(lines[0]).toBe('1700000000|NONE|NONE|NONE|QUEUESTART|');
    } finally {
      await c.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('formats a queue_log line as ast_queue_log does: the fixed fields, then the data joined by |', () => {
    expect(formatQueueLogLine({ time: S, callid: 'NONE', queue: 'NONE', agent: 'NONE', event: 'QUEUESTART', data: [''] })).toBe(`${S}|NONE|NONE|NONE|QUEUESTART|\n`);
    expect(formatQueueLogLine({ time: S, callid: U0, queue: '630', agent: 'NONE', event: 'ENTERQUEUE', data: ['', '806', 1] })).toBe(`${S}|${U0}|630|NONE|ENTERQUEUE||806|1\n`);
  });
});

describe('coocenter-pbxsim CLI record files', () => {
  it('--queue-log, --cdr-csv, --cdr-csv-option and --time-zone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbxsim-records-'));
    const queueLogFile = join(dir, 'queue_log');
    const cdrCsvFile = join(dir, 'cdr-csv', 'Master.csv');
    const args = ['--port', '0', '--time-scale', '0.02', '--queue-log', queueLogFile, '--cdr-csv', cdrCsvFile, '--cdr-csv-option', 'loguserfield=no', '--cdr-csv-option', 'newcdrcolumns=no', '--time-zone', 'UTC'];
    const { child, line } = await startSimCli(args);
    try {
      const port = Number(/:(\d+)\n$/.exec(line)?.[1]);
      const c = await AmiTestClient.open(port);
      await c.login('coocenter', 'coocenter');
      const started = await c.action({ Action: 'SimQueueCall', From: '806', Queue: '630', TalkTime: '1000' });
      await c.event('SimScenarioComplete', { ActionID: started.response.actionId as string });
      await c.close();
      const events = fileLines(queueLogFile).map((l) => l.split('|')[4]);
      expect(events).toEqual(['QUEUESTART', 'ENTERQUEUE', 'CONNECT', 'COMPLETECALLER']);
      const record = splitCsv(fileLines(cdrCsvFile)[0] as string);
      // Sixteen columns and the uniqueid; dates in UTC.
      expect(record.length).toBe(17);
      expect(record[16]).toBe(started.response.get('Uniqueid'));
      expect(record[9]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      const code = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      expect(await code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
