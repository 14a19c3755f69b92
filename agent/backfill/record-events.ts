import { createHash } from 'node:crypto';
import type { CcCdrEvent } from '../../shared/events/cc-cdr.ts';
import type { CdrEvent } from '../../shared/events/cdr.ts';
import { extensionOf } from '../../shared/toolbar/events.ts';
import type { ExtensionDirectory } from '../extensions.ts';
import { recordingPath } from '../events/recording-path.ts';
import { formatPbxTime, seconds } from '../events/time.ts';
import type { CdrRecord } from './cdr-record.ts';
import type { QueueLogEntry } from './queue-log.ts';

/**
 * The id part of a record's webhook-id (`evt_<mac>_bf_<hash>`): the same record gives the same id
 * whenever and from whichever source it is read, so sending it twice is one event to the receiver.
 * A CDR is known by its channel's uniqueid, both channels and its start (one channel has several
 * records when it dialled several phones), the start as an instant so a file written in UTC
 * (cdr.conf usegmtime) names the same record as AMI's local time; a cc_cdr by its call.
 */
export function cdrRecordId(r: { uniqueid: string; channel: string; dstchannel: string; startMs: number }): string {
  return hashId(`cdr\n${r.uniqueid}\n${r.channel}\n${r.dstchannel}\n${Math.floor(r.startMs / 1000)}`);
}

export function ccCdrRecordId(uuid: string): string {
  return hashId(`cc_cdr\n${uuid}`);
}

function hashId(key: string): string {
  return `bf_${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

export interface RecordContext {
  mac: string;
  timeZone: string;
  monitorDir: string;
  /** The box's extensions from its hints: tells trunk channels from phones. */
  directory: ExtensionDirectory;
}

/** A `cdr` as cdr_manager would have sent it for this record, marked as backfilled. */
export function cdrFromRecord(r: CdrRecord, ctx: RecordContext): CdrEvent {
  const unknown: string[] = [];
  let calltype = '';
  // Trunk or phone is told by the box's hints; before they were read, calltype is not known.
  if (!ctx.directory.known) unknown.push('calltype');
  else if (ctx.directory.isTrunk(r.channel)) calltype = 'inbound';
  else if (ctx.directory.isTrunk(r.dstchannel)) calltype = 'outbound';
  const recordfile = recordingOf(r, ctx);
  if (recordfile === '') unknown.push('recordfile');
  return {
    event: 'cdr',
    callerid: r.clid,
    source: r.src,
    destination: r.dst,
    starttime: r.start,
    answertime: r.answer,
    endtime: r.end,
    disposition: r.disposition,
    duration: String(r.duration),
    billableseconds: String(r.billsec),
    calltype,
    recordfile,
    uniqueid: r.uniqueid,
    mac: ctx.mac,
    backfilled: true,
    unknown,
  };
}

/**
 * FreePBX's recordingfile is a bare name under the day's folder (`monitor/2026/11/30/<name>`); a
 * path names itself. Master.csv keeps none.
 */
function recordingOf(r: CdrRecord, ctx: RecordContext): string {
  if (r.recordingfile === '') return '';
  if (r.recordingfile.includes('/')) return recordingPath(r.recordingfile, ctx.monitorDir);
  const day = r.start.slice(0, 10).split('-');
  return day.length === 3 ? `${day.join('/')}/${r.recordingfile}` : '';
}

/** queue_log events that end a caller's time in a queue (a transfer ends the queue's part). */
const QUEUE_ENDS = new Set(['COMPLETECALLER', 'COMPLETEAGENT', 'ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY', 'EXITWITHKEY', 'BLINDTRANSFER', 'ATTENDEDTRANSFER']);
/** Abandons up to this long after joining are MEMBER_CANCEL, as live. */
const MEMBER_CANCEL_S = 10;
/** What queue_log and a CDR never say, in every backfilled cc_cdr. */
const CC_UNKNOWN = ['hangupCause', 'holdTime', 'pauseTime', 'feedbackTime', 'ivrTime', 'ivrId', 'ivrName', 'ivrDtmf', 'voicemailState', 'score'];

/** One queue call as queue_log tells it: its entries, in order. */
export interface QueueLogCall {
  callid: string;
  entries: QueueLogEntry[];
  /** When its queue part ended (the last ending entry), epoch ms. */
  endedAt: number;
}

/** Groups queue_log entries by call; calls whose queue part has not ended are left out. */
export function queueCalls(entries: readonly QueueLogEntry[]): QueueLogCall[] {
  const byCall = new Map<string, QueueLogEntry[]>();
  for (const e of entries) {
    if (!/^\d+\.\d+$/.test(e.callid)) continue; // NONE, MANAGER, CLI, REALTIME: member changes
    const list = byCall.get(e.callid) ?? [];
    list.push(e);
    byCall.set(e.callid, list);
  }
  const calls: QueueLogCall[] = [];
  for (const [callid, list] of byCall) {
    const ends = list.filter((e) => QUEUE_ENDS.has(e.event));
    if (ends.length === 0 || !list.some((e) => e.event === 'ENTERQUEUE')) continue;
    calls.push({ callid, entries: list, endedAt: ends.at(-1)!.at });
  }
  return calls;
}

/**
 * A `cc_cdr` from a queue call's queue_log entries and its CDRs (those of the caller's channel, or
 * sharing its linkedid). Only what they say is filled; the rest is "" or 0 and named in `unknown`.
 */
export function ccCdrFromQueueLog(call: QueueLogCall, records: readonly CdrRecord[], ctx: RecordContext): { event: CcCdrEvent; endMs: number } {
  const { entries, callid } = call;
  const first = (name: string) => entries.find((e) => e.event === name);
  const enter = first('ENTERQUEUE')!;
  const connect = first('CONNECT');
  const end = entries.filter((e) => QUEUE_ENDS.has(e.event)).at(-1)!;
  const own = records.filter((r) => r.uniqueid === callid);
  const linkedid = own.find((r) => r.linkedid !== '')?.linkedid ?? callid;
  const ofCall = records.filter((r) => r.uniqueid === callid || (r.linkedid !== '' && r.linkedid === linkedid));
  const callerRecord = own[0];
  const unknown = [...CC_UNKNOWN];

  const startMs = Math.min(enter.at, ...own.map((r) => r.startMs));
  const endMs = Math.max(end.at, ...ofCall.map((r) => r.endMs));
  // The member's leg: CONNECT names its channel's uniqueid; the caller's answered record its channel.
  const answered = connect && (ofCall.find((r) => r.uniqueid === connect.data[1]) ?? own.find((r) => r.disposition === 'ANSWERED' && r.dstchannel !== ''));
  const memberChannel = answered ? (answered.uniqueid === connect?.data[1] ? answered.channel : answered.dstchannel) : '';
  const agentCode = connect ? (ctx.directory.extensionOf(memberChannel) ?? (extensionOf(memberChannel) || extensionOf(connect.agent))) : '';

  let callType = '';
  if (callerRecord && ctx.directory.known) callType = ctx.directory.isTrunk(callerRecord.channel) ? 'incoming' : 'internal';
  else unknown.push('callType');
  const did = first('DID')?.data[0] ?? callerRecord?.did ?? '';
  const trunkNumber = did || (callType === 'incoming' ? (callerRecord?.dst ?? '') : '');
  if (callType === 'incoming' && trunkNumber === '') unknown.push('trunkNumber');

  const n = (e: QueueLogEntry | undefined, i: number) => Number(e?.data[i] ?? 0) || 0;
  const fromEnd = (e: QueueLogEntry, back: number) => Number(e.data[e.data.length - back] ?? 0) || 0;
  const transfer = end.event === 'BLINDTRANSFER' ? 'blind' : end.event === 'ATTENDEDTRANSFER' ? 'attended' : '';
  const talk = end.event.startsWith('COMPLETE') ? n(end, 1) : transfer !== '' ? fromEnd(end, 2) : 0;
  const waited = connect ? n(connect, 0) : ['ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY'].includes(end.event) ? fromEnd(end, 1) : seconds(enter.at, end.at);
  // Rounds nobody answered: timed out (RINGNOANSWER) or cut short by the caller leaving (RINGCANCELED, Asterisk 15+).
  const rangUnanswered = entries.filter((e) => e.event === 'RINGNOANSWER' || e.event === 'RINGCANCELED');
  const ringS = (connect ? n(connect, 2) : 0) + Math.round(rangUnanswered.reduce((s, e) => s + n(e, 0), 0) / 1000);
  const forwardNumber = end.event === 'BLINDTRANSFER' ? (end.data[0] ?? '') : '';
  if (end.event === 'ATTENDEDTRANSFER') unknown.push('forwardNumber');
  const filePath = callerRecord ? recordingOf(callerRecord, ctx) : '';
  if (filePath === '') unknown.push('filePath');

  const event: CcCdrEvent = {
    event: 'cc_cdr',
    uuid: linkedid,
    caller: enter.data[1] || callerRecord?.src || '',
    called: callerRecord?.dst || enter.queue,
    queueCode: enter.queue,
    agentCode,
    callType,
    cdrState: connect ? 'bridged' : 'queue',
    hangupSide: end.event === 'COMPLETECALLER' || end.event === 'ABANDON' ? 'caller' : end.event === 'COMPLETEAGENT' ? 'agent' : '',
    hangupCause: '',
    startTime: formatPbxTime(startMs, ctx.timeZone),
    endTime: formatPbxTime(endMs, ctx.timeZone),
    duration: String(seconds(startMs, endMs)),
    queueTime: String(waited),
    feedbackTime: '',
    ivrTime: '',
    ringTime: String(ringS),
    holdTime: 0,
    pauseTime: 0,
    talkingTime: String(talk),
    voicemailState: '',
    ivrId: '',
    ivrName: '',
    ivrDtmf: '',
    fwType: transfer,
    score: '',
    trunkNumber,
    forwardNumber,
    filePath,
    missCause: connect ? '' : missCause(end, waited, rangUnanswered.length > 0),
    mac: ctx.mac,
    backfilled: true,
    unknown,
  };
  return { event, endMs };
}

/** The live rules (docs/dialplan.md), from what queue_log says of a call nobody answered. */
function missCause(end: QueueLogEntry, waitedS: number, agentsCalled: boolean): CcCdrEvent['missCause'] {
  if (end.event === 'EXITEMPTY') return 'NO_AGENT_LOGIN';
  if (end.event === 'ABANDON' && waitedS < MEMBER_CANCEL_S) return 'MEMBER_CANCEL';
  return agentsCalled ? 'NO_AGENT_ANSWER' : 'NO_ASSIGN';
}
