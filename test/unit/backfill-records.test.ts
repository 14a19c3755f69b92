import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { planBackfill } from '../../agent/backfill/backfill.ts';
import { CdrCsvSource, parseCdrCsvLine, splitCsvLine } from '../../agent/backfill/cdr-csv.ts';
import { parseQueueLogLine, readQueueLog } from '../../agent/backfill/queue-log.ts';
import { ccCdrFromQueueLog, ccCdrRecordId, cdrFromRecord, cdrRecordId, queueCalls, type RecordContext } from '../../agent/backfill/record-events.ts';
import { ExtensionDirectory } from '../../agent/extensions.ts';
import { parsePbxTime } from '../../agent/events/time.ts';

const TZ = 'Asia/Shanghai';
const MAC = '68:69:2e:03:8b:3e';
const directory = new ExtensionDirectory([
  { exten: '800', devices: 'SIP/800' },
  { exten: '801', devices: 'SIP/801' },
  { exten: '802', devices: 'SIP/802' },
]);
const ctx: RecordContext = { mac: MAC, timeZone: TZ, monitorDir: '/var/spool/asterisk/monitor', directory };
const dir = mkdtempSync(join(tmpdir(), 'coo-backfill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const at = (local: string) => parsePbxTime(local, TZ);
const sec = (local: string) => String(at(local) / 1000);
/** A Master.csv line as cdr_csv writes it with loguniqueid, loguserfield and newcdrcolumns. */
function csvLine(o: { src: string; dst: string; clid?: string; channel: string; dstchannel?: string; start: string; answer?: string; end: string; billsec: number; disposition: string; uniqueid: string; linkedid?: string; app?: string }): string {
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const duration = Math.round((at(o.end) - at(o.start)) / 1000);
  return [
    q(''), q(o.src), q(o.dst), q('from-trunk'), q(o.clid ?? `"" <${o.src}>`), q(o.channel), q(o.dstchannel ?? ''), q(o.app ?? 'Queue'), q('630'),
    q(o.start), o.answer ? q(o.answer) : '', q(o.end), String(duration), String(o.billsec), q(o.disposition), q('DOCUMENTATION'),
    q(o.uniqueid), q(''), q(''), q(o.linkedid ?? o.uniqueid), '1',
  ].join(',');
}

describe('Master.csv as cdr_csv writes it', () => {
  it('splits quoted text with doubled quotes, bare numbers and an unset date', () => {
    expect(splitCsvLine('"a","say ""hi"", ok","",,12,"x"')).toEqual(['a', 'say "hi", ok', '', '', '12', 'x']);
  });

  it('reads the column variants by their count, and the times in the box zone', () => {
    const base = '"","801","802","internal","""Bob"" <801>","SIP/801-00000001","SIP/802-00000002","Dial","SIP/802","2026-11-30 10:00:00","2026-11-30 10:00:03","2026-11-30 10:00:13",13,10,"ANSWERED","DOCUMENTATION"';
    const plain = parseCdrCsvLine(base, TZ)!;
    expect(plain).toMatchObject({ clid: '"Bob" <801>', uniqueid: '', userfield: '', linkedid: '', duration: 13, billsec: 10, disposition: 'ANSWERED' });
    expect(plain.endMs).toBe(Date.UTC(2026, 10, 30, 2, 0, 13));
    expect(parseCdrCsvLine(`${base},"1764468000.5"`, TZ)).toMatchObject({ uniqueid: '1764468000.5', userfield: '' });
    expect(parseCdrCsvLine(`${base},"vip"`, TZ)).toMatchObject({ uniqueid: '', userfield: 'vip' });
    expect(parseCdrCsvLine(`${base},"1764468000.5","vip"`, TZ)).toMatchObject({ uniqueid: '1764468000.5', userfield: 'vip' });
    expect(parseCdrCsvLine(`${base},"1764468000.5","vip","","1764468000.4",3`, TZ)).toMatchObject({ uniqueid: '1764468000.5', userfield: 'vip', linkedid: '1764468000.4' });
    expect(parseCdrCsvLine('not,a,record', TZ)).toBeNull();
  });
});

describe('queue_log as app_queue writes it', () => {
  it('reads a line into its fields, and refuses what is not one', () => {
    expect(parseQueueLogLine('1764468000|1764467990.7|630|SIP/800|CONNECT|10|1764468000.9|4')).toEqual({
      at: 1764468000_000, callid: '1764467990.7', queue: '630', agent: 'SIP/800', event: 'CONNECT', data: ['10', '1764468000.9', '4'],
    });
    expect(parseQueueLogLine('garbage')).toBeNull();
  });
});

/** queue_log lines of one call, as `epoch|callid|queue|agent|event|data...`. */
const ql = (local: string, callid: string, agent: string, event: string, ...data: string[]) => [sec(local), callid, '630', agent, event, ...data].join('|');

describe('cc_cdr from queue_log and the CDRs', () => {
  const answeredCall = [
    ql('2026-11-30 10:00:00', '1764468000.1', 'NONE', 'ENTERQUEUE', '', '13800138000', '1'),
    ql('2026-11-30 10:00:06', '1764468000.1', 'SIP/801', 'RINGNOANSWER', '4000'),
    ql('2026-11-30 10:00:10', '1764468000.1', 'SIP/800', 'CONNECT', '10', '1764468006.3', '2'),
    ql('2026-11-30 10:01:10', '1764468000.1', 'SIP/800', 'COMPLETECALLER', '10', '60', '1'),
  ];
  const callerRecords = [
    parseCdrCsvLine(
      csvLine({ src: '13800138000', dst: '95555', channel: 'SIP/trunk-00000001', dstchannel: 'SIP/800-00000003', start: '2026-11-30 09:59:58', answer: '2026-11-30 10:00:10', end: '2026-11-30 10:01:10', billsec: 60, disposition: 'ANSWERED', uniqueid: '1764468000.1' }),
      TZ,
    )!,
  ];

  it('an answered queue call: who, where, the queue, ring and talk times; what the records cannot say is named', () => {
    const [call] = queueCalls(answeredCall.map((l) => parseQueueLogLine(l)!));
    const { event, endMs } = ccCdrFromQueueLog(call!, callerRecords, ctx);
    expect(endMs).toBe(at('2026-11-30 10:01:10'));
    expect(event).toMatchObject({
      event: 'cc_cdr', uuid: '1764468000.1', caller: '13800138000', called: '95555', queueCode: '630', agentCode: '800', callType: 'incoming',
      cdrState: 'bridged', hangupSide: 'caller', hangupCause: '', startTime: '2026-11-30 09:59:58', endTime: '2026-11-30 10:01:10', duration: '72',
      queueTime: '10', ringTime: '6', talkingTime: '60', holdTime: 0, pauseTime: 0, fwType: '', trunkNumber: '95555', missCause: '', mac: MAC, backfilled: true,
    });
    expect(event.unknown).toEqual(expect.arrayContaining(['hangupCause', 'holdTime', 'pauseTime', 'ivrId', 'filePath']));
    expect(event.unknown).not.toContain('agentCode');
  });

  it('missed calls get the live miss causes: under 10 s, ringing nobody answered, an empty queue', () => {
    const miss = (lines: string[]) => ccCdrFromQueueLog(queueCalls(lines.map((l) => parseQueueLogLine(l)!))[0]!, [], ctx).event;
    const enter = ql('2026-11-30 11:00:00', '1764471600.1', 'NONE', 'ENTERQUEUE', '', '801', '1');
    expect(miss([enter, ql('2026-11-30 11:00:04', '1764471600.1', 'NONE', 'ABANDON', '1', '1', '4')])).toMatchObject({ cdrState: 'queue', missCause: 'MEMBER_CANCEL', queueTime: '4', hangupSide: 'caller' });
    expect(
      miss([enter, ql('2026-11-30 11:00:15', '1764471600.1', 'SIP/800', 'RINGNOANSWER', '15000'), ql('2026-11-30 11:00:25', '1764471600.1', 'NONE', 'ABANDON', '1', '1', '25')]),
    ).toMatchObject({ missCause: 'NO_AGENT_ANSWER', queueTime: '25', ringTime: '15' });
    expect(miss([enter, ql('2026-11-30 11:00:01', '1764471600.1', 'NONE', 'EXITEMPTY', '1', '1', '1')])).toMatchObject({ missCause: 'NO_AGENT_LOGIN' });
    expect(miss([enter, ql('2026-11-30 11:01:00', '1764471600.1', 'NONE', 'EXITWITHTIMEOUT', '1', '1', '60')])).toMatchObject({ missCause: 'NO_ASSIGN', hangupSide: '' });
  });

  it('transfers: blind names the number, attended is read from the right of its variable-length data', () => {
    const enter = ql('2026-11-30 12:00:00', '1764475200.1', 'NONE', 'ENTERQUEUE', '', '801', '1');
    const connect = ql('2026-11-30 12:00:05', '1764475200.1', 'SIP/800', 'CONNECT', '5', '1764475205.2', '1');
    const blind = ccCdrFromQueueLog(
      queueCalls([enter, connect, ql('2026-11-30 12:00:35', '1764475200.1', 'SIP/800', 'BLINDTRANSFER', '802', 'from-internal', '5', '30', '1')].map((l) => parseQueueLogLine(l)!))[0]!,
      [],
      ctx,
    ).event;
    expect(blind).toMatchObject({ fwType: 'blind', forwardNumber: '802', talkingTime: '30', hangupSide: '' });
    const attended = ccCdrFromQueueLog(
      queueCalls([enter, connect, ql('2026-11-30 12:00:45', '1764475200.1', 'SIP/800', 'ATTENDEDTRANSFER', 'BRIDGE', '5d7a-bridge', '5', '40', '1')].map((l) => parseQueueLogLine(l)!))[0]!,
      [],
      ctx,
    ).event;
    expect(attended).toMatchObject({ fwType: 'attended', forwardNumber: '', talkingTime: '40' });
    expect(attended.unknown).toContain('forwardNumber');
  });

  it('a cdr keeps the record as Asterisk wrote it, tells inbound from the trunk channel, and has a stable id', () => {
    const r = callerRecords[0]!;
    const cdr = cdrFromRecord(r, ctx);
    expect(cdr).toMatchObject({
      event: 'cdr', source: '13800138000', destination: '95555', starttime: '2026-11-30 09:59:58', answertime: '2026-11-30 10:00:10', endtime: '2026-11-30 10:01:10',
      duration: '72', billableseconds: '60', disposition: 'ANSWERED', calltype: 'inbound', uniqueid: '1764468000.1', backfilled: true,
    });
    expect(cdrRecordId(r)).toMatch(/^bf_[0-9a-f]{32}$/);
    expect(cdrRecordId({ ...r })).toBe(cdrRecordId(r));
    expect(cdrRecordId({ ...r, dstchannel: 'SIP/801-00000004' })).not.toBe(cdrRecordId(r));
    expect(ccCdrRecordId('1764468000.1')).not.toBe(ccCdrRecordId('1764468000.2'));
  });
});

describe('planning a gap backfill from the files', () => {
  const qlog = join(dir, 'queue_log');
  const master = join(dir, 'Master.csv');
  const gap = { from: at('2026-11-30 10:00:30'), to: at('2026-11-30 10:05:00') };
  // Joined before the gap, ended in it: backfilled. Ended before the gap: the agent saw it live.
  const lines = [
    ql('2026-11-30 09:59:00', '1764467940.1', 'NONE', 'ENTERQUEUE', '', '801', '1'),
    ql('2026-11-30 09:59:10', '1764467940.1', 'NONE', 'ABANDON', '1', '1', '10'),
    ql('2026-11-30 10:00:00', '1764468000.1', 'NONE', 'ENTERQUEUE', '', '13800138000', '1'),
    ql('2026-11-30 10:00:10', '1764468000.1', 'SIP/800', 'CONNECT', '10', '1764468006.3', '2'),
    ql('2026-11-30 10:01:10', '1764468000.1', 'SIP/800', 'COMPLETECALLER', '10', '60', '1'),
  ];

  it('sends the cdr and cc_cdr of calls that ended in the gap, in the order they ended, reading rotated copies too', async () => {
    // The older half was rotated away and compressed; the live file has the rest.
    writeFileSync(`${qlog}.1.gz`, gzipSync(`${lines.slice(0, 3).join('\n')}\n`));
    writeFileSync(qlog, `${lines.slice(3).join('\n')}\n`);
    writeFileSync(
      master,
      [
        csvLine({ src: '801', dst: '630', channel: 'SIP/801-00000001', start: '2026-11-30 09:59:00', end: '2026-11-30 09:59:10', billsec: 0, disposition: 'NO ANSWER', uniqueid: '1764467940.1' }),
        csvLine({ src: '13800138000', dst: '95555', channel: 'SIP/trunk-00000001', dstchannel: 'SIP/800-00000003', start: '2026-11-30 10:00:00', answer: '2026-11-30 10:00:10', end: '2026-11-30 10:01:10', billsec: 60, disposition: 'ANSWERED', uniqueid: '1764468000.1' }),
        csvLine({ src: '802', dst: '801', channel: 'SIP/802-00000005', dstchannel: 'SIP/801-00000006', start: '2026-11-30 10:02:00', answer: '2026-11-30 10:02:02', end: '2026-11-30 10:02:30', billsec: 28, disposition: 'ANSWERED', uniqueid: '1764468120.5', app: 'Dial' }),
        '',
      ].join('\n'),
    );
    const plan = await planBackfill(gap, { cdr: new CdrCsvSource(master, TZ), queueLog: qlog }, ctx, 24 * 3600_000);
    expect(plan.events.map((e) => `${e.type} ${JSON.parse(e.body).uniqueid ?? JSON.parse(e.body).uuid}`)).toEqual([
      'cdr 1764468000.1',
      'cc_cdr 1764468000.1',
      'cdr 1764468120.5',
    ]);
    expect(plan.calls).toEqual(['1764468000.1']);
    expect(plan.report).toMatchObject({ state: 'filled', cdr: 2, ccCdr: 1, detail: '' });
    expect(JSON.parse(plan.events[2]!.body)).toMatchObject({ calltype: '', destination: '801' });
    // A second read of the same gap gives the same ids: a receiver sees the same events.
    const again = await planBackfill(gap, { cdr: new CdrCsvSource(master, TZ), queueLog: qlog }, ctx, 24 * 3600_000);
    expect(again.events.map((e) => e.id)).toEqual(plan.events.map((e) => e.id));
  });

  it('does not open a rotated file last written before the window', async () => {
    writeFileSync(`${qlog}.2`, 'not a queue_log line\n');
    const old = (at('2026-11-30 09:00:00') - 4 * 3600_000 - 60_000) / 1000;
    utimesSync(`${qlog}.2`, old, old);
    const { unreadable } = await readQueueLog(qlog, gap.from - 4 * 3600_000, gap.to);
    expect(unreadable).toBe(0);
  });

  it('reports a gap longer than the bound without reading, and a source it cannot read without crashing', async () => {
    const long = await planBackfill({ from: 0, to: 25 * 3600_000 }, { cdr: null, queueLog: qlog }, ctx, 24 * 3600_000);
    expect(long).toMatchObject({ events: [], report: { state: 'skipped' } });
    expect(long.report.detail).toMatch(/gap of 25 h is longer than \[backfill\] max_window \(24 h\)/);
    const broken = await planBackfill(gap, { cdr: new CdrCsvSource(join(dir, 'missing', 'Master.csv'), TZ), queueLog: qlog }, ctx, 24 * 3600_000);
    expect(broken.report.state).toBe('partial');
    expect(broken.report.detail).toMatch(/missing\/Master\.csv/);
    expect(broken.events.filter((e) => e.type === 'cc_cdr')).toHaveLength(1);
    expect(await planBackfill(gap, { cdr: null, queueLog: null }, ctx, 1)).toMatchObject({ report: { state: 'none' } });
  });

  it('--check names a Master.csv without uniqueids and what to set', async () => {
    const bare = join(dir, 'bare.csv');
    writeFileSync(bare, '"","801","802","internal","","SIP/801-1","SIP/802-2","Dial","","2026-11-30 10:00:00","","2026-11-30 10:00:05",5,0,"NO ANSWER","DOCUMENTATION"\n');
    await expect(new CdrCsvSource(bare, TZ).check()).rejects.toThrow(/loguniqueid=yes/);
    await expect(new CdrCsvSource(join(dir, 'nope.csv'), TZ).check()).rejects.toThrow(/does not exist/);
    await expect(new CdrCsvSource(master, TZ).check()).resolves.toMatch(/^3 records, newest ended 2026-11-30 10:02:30$/);
  });
});
