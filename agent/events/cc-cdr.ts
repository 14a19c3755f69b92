import type { AmiMessage } from '../ami/message.ts';
import type { CcCdrEvent } from '../../shared/events/cc-cdr.ts';
import { IVR_CHOICE_STEP, MIXMONITOR_FILENAME, USER_EVENT } from './dialplan.ts';
import { field } from './fields.ts';
import { applyMemberEvent, countMembers, MEMBER_EVENTS, memberExtension, type QueueMembers } from './queue-members.ts';
import { recordingPath } from './recording-path.ts';
import { eventTimeMs, formatPbxTime, seconds } from './time.ts';

export interface CcCdrOptions {
  mac: string;
  /** The PBX's IANA zone, for startTime/endTime. */
  timeZone: string;
  /** The recordings folder; filePath is relative to it. */
  monitorDir: string;
  /** Wall clock (epoch ms), for receive times and expiry. */
  now: () => number;
  /** `[enable] pausetime=yes`: an answered queue call's record waits for completeWrapup(). */
  holdForWrapup?: boolean;
  /** A call with no event for this long is finished with what is known (default 4 h). */
  idleMs?: number;
  /** A held record whose wrap-up never completes is released after this long, pauseTime 0 (default 1 h). */
  maxHeldMs?: number;
  /** Most calls followed at once; past it the longest-silent call is finished early (default 5000). */
  maxCalls?: number;
}

/** What the machine hands out: finished records, and the hook the wrap-up logic listens to. */
export type CcCdrOutput =
  | { kind: 'cc_cdr'; record: CcCdrEvent }
  | {
      kind: 'answered-call-ended';
      callId: string;
      /** The member's extension, its queue interface and the queue that connected it. */
      agent: string;
      interface: string;
      queue: string;
      /** Event time the call ended (epoch ms). */
      endedAt: number;
      /** True when the record waits for completeWrapup(callId, pauseSeconds). */
      held: boolean;
    };

type Location = CcCdrEvent['cdrState'];

/** Everything known about one live call (plain JSON: it is saved to disk as it is). */
export interface CallState {
  id: string;
  firstMs: number;
  lastMs: number;
  /** Receive time of the last event, for expiry. */
  seenAt: number;
  caller: string;
  dialed: string;
  called: string;
  /** Live channels by Uniqueid. */
  channels: string[];
  /**
   * Channels already hung up: an event about them that arrives after their Hangup (AgentComplete
   * can trail the member's Hangup across topics) must not bring them back and keep the call open.
   */
  gone?: string[];
  /** Channels that were ever in a bridge with someone (their hangup ends the conversation). */
  talkers: string[];
  location: Location;
  direction: '' | 'inbound' | 'outbound';
  trunkNumber: string;
  queueCode: string;
  queueJoinMs?: number;
  queueS: number;
  queueOpen: boolean;
  /** When an unanswered caller left the queue: members stop ringing then. */
  queueLeftMs?: number;
  /** Members present at the last join, when the queue's membership was known. */
  membersAtJoin?: { loggedIn: number; free: number };
  agentsCalled: number;
  abandonHoldS?: number;
  /** Open ring attempts (queue interface or dialled Uniqueid) -> start; one round while any is open. */
  ringing: Record<string, number>;
  roundStartMs?: number;
  /** Longest ring Asterisk reported in the open round (ms). */
  roundReportedMs?: number;
  ringMs: number;
  agentIface: string;
  answered: boolean;
  talkMs: number;
  talkAtConnectMs?: number;
  /** Bridge id -> channels of this call in it. */
  bridges: Record<string, string[]>;
  talkOpenMs?: number;
  holdMs: number;
  holds: Record<string, number>;
  ivrStartMs?: number;
  ivrEndMs?: number;
  ivrId: string;
  ivrName: string;
  ivrDtmf: string;
  feedbackStartMs?: number;
  feedbackEndMs?: number;
  score: string;
  voicemailState: string;
  fwType: string;
  forwardNumber: string;
  filePath: string;
  hangupSide: string;
  /** Uniqueid of the channel whose hangup ended the call; its Hangup gives hangupCause. */
  hangupBy?: string;
  hangupCause: string;
}

export interface HeldRecord {
  record: CcCdrEvent;
  endedAt: number;
  heldAt: number;
}

export interface CcCdrStats {
  /** Calls finished by expiry (no event for idleMs) or by the maxCalls bound. */
  expired: number;
  /** Held records released without their wrap-up completing. */
  wrapupTimedOut: number;
  /** Channels, rings, holds or bridges not followed because a per-call bound was reached. */
  capped: number;
}

/** The machine's whole state: JSON, so the agent can keep it on disk and restore it after kill -9. */
export interface CcCdrState {
  version: 1;
  calls: Record<string, CallState>;
  held: Record<string, HeldRecord>;
  queues: QueueMembers;
  /** Ids of calls finished lately: their stragglers (late DialEnd, BridgeLeave) must not reopen them. */
  finished: string[];
  stats: CcCdrStats;
}

export class CcCdrStateError extends Error {
  readonly code = 'CC_CDR_STATE';
}

/** Abandons up to this long after joining are MEMBER_CANCEL (document: 排队10秒内挂机). */
const MEMBER_CANCEL_S = 10;
const MAX_PER_CALL = 64;
const MAX_FINISHED = 2000;

/** Every AMI event the machine reads; translate.ts lets these through its noise filter. */
export const CC_CDR_EVENTS: ReadonlySet<string> = new Set([
  'Newchannel',
  'Hangup',
  'HangupRequest',
  'SoftHangupRequest',
  'DialBegin',
  'DialEnd',
  'BridgeEnter',
  'BridgeLeave',
  'Hold',
  'Unhold',
  'UserEvent',
  'VarSet',
  'QueueCallerJoin',
  'QueueCallerLeave',
  'QueueCallerAbandon',
  'AgentCalled',
  'AgentRingNoAnswer',
  'AgentConnect',
  'AgentComplete',
  ...MEMBER_EVENTS,
]);

/**
 * The per-call state machine behind `cc_cdr`. Feed it every AMI event in order; a call (one Linkedid)
 * is finished when its last channel hangs up. Durations come from what Asterisk reports (HoldTime,
 * RingTime, TalkTime of the queue events) and otherwise from event times (Asterisk's `Timestamp`
 * header when present, else the receive time recorded once with the event), never from a clock read
 * at finish, so the same traffic gives the same record.
 */
export class CcCdrMachine {
  private state: CcCdrState;
  private readonly opts: Required<CcCdrOptions>;

  constructor(options: CcCdrOptions, state?: CcCdrState) {
    this.opts = { holdForWrapup: false, idleMs: 4 * 3600_000, maxHeldMs: 3600_000, maxCalls: 5000, ...options };
    this.state = state ?? { version: 1, calls: {}, held: {}, queues: {}, finished: [], stats: { expired: 0, wrapupTimedOut: 0, capped: 0 } };
  }

  /** Rebuilds a machine from a snapshot read back from disk. */
  static restore(state: unknown, options: CcCdrOptions): CcCdrMachine {
    const s = state as Partial<CcCdrState> | null;
    if (!s || typeof s !== 'object' || s.version !== 1 || typeof s.calls !== 'object' || typeof s.held !== 'object' || typeof s.queues !== 'object' || !Array.isArray(s.finished) || typeof s.stats !== 'object') {
      throw new CcCdrStateError('cc_cdr state is not a version 1 snapshot');
    }
    return new CcCdrMachine(options, JSON.parse(JSON.stringify(s)) as CcCdrState);
  }

  /** A deep copy of the state, safe to serialise while the machine goes on. */
  snapshot(): CcCdrState {
    return JSON.parse(JSON.stringify(this.state)) as CcCdrState;
  }

  get stats(): Readonly<CcCdrStats> {
    return this.state.stats;
  }

  /** Live calls followed right now. */
  get openCalls(): number {
    return Object.keys(this.state.calls).length;
  }

  /**
   * Seeds queue membership from a QueueStatus answer (QueueParams and QueueMember items), replacing
   * what was known of those queues: without it, NO_AGENT_LOGIN cannot be told from NO_ASSIGN until
   * members change.
   */
  seedQueueStatus(items: readonly AmiMessage[]): void {
    for (const item of items) if (item.event === 'QueueParams' && item.get('Queue')) delete this.state.queues[item.get('Queue') as string];
    for (const item of items) applyMemberEvent(this.state.queues, item);
  }

  feed(ami: AmiMessage, receivedAt: number = this.opts.now()): CcCdrOutput[] {
    const event = ami.event;
    if (event === undefined || !CC_CDR_EVENTS.has(event)) return [];
    if ((MEMBER_EVENTS as readonly string[]).includes(event)) {
      applyMemberEvent(this.state.queues, ami);
      return [];
    }
    if (event === 'VarSet' && ami.get('Variable') !== MIXMONITOR_FILENAME) return [];
    const id = ami.get('Linkedid') ?? ami.get('DestLinkedid');
    if (id === undefined) return [];
    const t = eventTimeMs(ami, receivedAt);
    let call = this.state.calls[id];
    const out: CcCdrOutput[] = [];
    if (!call) {
      if (event === 'Hangup' || this.state.finished.includes(id)) return [];
      call = this.open(id, t, receivedAt, out);
    }
    call.lastMs = Math.max(call.lastMs, t);
    call.seenAt = receivedAt;
    this.apply(call, ami, event, t);
    if (event === 'Hangup' && call.channels.length === 0) out.push(...this.finish(call, t));
    return out;
  }

  /** Finishes calls silent for idleMs and releases held records whose wrap-up never came. */
  expire(now: number = this.opts.now()): CcCdrOutput[] {
    const out: CcCdrOutput[] = [];
    for (const call of Object.values(this.state.calls)) {
      if (now - call.seenAt < this.opts.idleMs) continue;
      this.state.stats.expired++;
      out.push(...this.finish(call, call.lastMs));
    }
    for (const [id, held] of Object.entries(this.state.held)) {
      if (now - held.heldAt < this.opts.maxHeldMs) continue;
      this.state.stats.wrapupTimedOut++;
      delete this.state.held[id];
      out.push({ kind: 'cc_cdr', record: held.record });
    }
    return out;
  }

  /** The wrap-up of a held call ended: its record goes out with pauseTime filled in. */
  completeWrapup(callId: string, pauseSeconds: number): CcCdrOutput[] {
    const held = this.state.held[callId];
    if (!held) return [];
    delete this.state.held[callId];
    return [{ kind: 'cc_cdr', record: { ...held.record, pauseTime: Math.max(0, Math.round(pauseSeconds)) } }];
  }

  private open(id: string, t: number, receivedAt: number, out: CcCdrOutput[]): CallState {
    const calls = this.state.calls;
    if (Object.keys(calls).length >= this.opts.maxCalls) {
      let oldest: CallState | undefined;
      for (const c of Object.values(calls)) if (!oldest || c.seenAt < oldest.seenAt) oldest = c;
      if (oldest) {
        this.state.stats.expired++;
        out.push(...this.finish(oldest, oldest.lastMs));
      }
    }
    const call: CallState = {
      id,
      firstMs: t,
      lastMs: t,
      seenAt: receivedAt,
      caller: '',
      dialed: '',
      called: '',
      channels: [],
      talkers: [],
      location: '',
      direction: '',
      trunkNumber: '',
      queueCode: '',
      queueS: 0,
      queueOpen: false,
      agentsCalled: 0,
      ringing: {},
      ringMs: 0,
      agentIface: '',
      answered: false,
      talkMs: 0,
      bridges: {},
      holdMs: 0,
      holds: {},
      ivrId: '',
      ivrName: '',
      ivrDtmf: '',
      score: '0',
      voicemailState: '0',
      fwType: '',
      forwardNumber: '',
      filePath: '',
      hangupSide: '',
      hangupCause: '',
    };
    calls[id] = call;
    return call;
  }

  private apply(call: CallState, ami: AmiMessage, event: string, t: number): void {
    const uniqueid = ami.get('Uniqueid');
    if (uniqueid !== undefined) {
      if (event !== 'Hangup') this.addChannel(call, uniqueid);
      // The channel whose Uniqueid is the Linkedid started the call: it is the caller.
      if (uniqueid === call.id && ami.has('CallerIDNum')) {
        call.caller = field(ami, 'CallerIDNum');
        if (event === 'Newchannel' && !call.dialed) call.dialed = field(ami, 'Exten');
      }
    }
    const destUniqueid = ami.get('DestUniqueid');
    if (destUniqueid !== undefined && event !== 'DialEnd') this.addChannel(call, destUniqueid);

    switch (event) {
      case 'Hangup':
        this.onHangup(call, ami, uniqueid ?? '', t);
        break;
      case 'HangupRequest': // the far end hung up (BYE, CANCEL)
      case 'SoftHangupRequest': // Asterisk or an AMI Hangup asked
        this.decideHangupSide(call, uniqueid ?? '');
        break;
      case 'DialBegin':
        // Queue calls are rung through AgentCalled; their DialBegins would count the same ring twice.
        if (call.queueCode === '' && destUniqueid !== undefined && ami.has('Channel')) {
          this.ringStart(call, destUniqueid, t);
          if (uniqueid === call.id) call.called = field(ami, 'DestCallerIDNum');
        }
        break;
      case 'DialEnd':
        if (destUniqueid !== undefined && call.ringing[destUniqueid] !== undefined) this.ringEnd(call, destUniqueid, t);
        break;
      case 'BridgeEnter':
        this.onBridge(call, ami, uniqueid ?? '', t, +1);
        break;
      case 'BridgeLeave':
        this.onBridge(call, ami, uniqueid ?? '', t, -1);
        break;
      case 'Hold':
        if (uniqueid !== undefined && call.holds[uniqueid] === undefined && this.room(call.holds)) call.holds[uniqueid] = t;
        break;
      case 'Unhold':
        if (uniqueid !== undefined) this.unhold(call, uniqueid, t);
        break;
      case 'VarSet': {
        const file = recordingPath(ami.get('Value') ?? '', this.opts.monitorDir);
        if (file !== '') call.filePath = file;
        break;
      }
      case 'UserEvent':
        this.onUserEvent(call, ami, t);
        break;
      case 'QueueCallerJoin': {
        this.leaveQueue(call, call.queueLeftMs ?? t, NaN); // a second queue: the first stay is over
        call.queueCode = field(ami, 'Queue');
        call.queueJoinMs = t;
        call.queueOpen = true;
        call.location = 'queue';
        call.abandonHoldS = undefined;
        call.queueLeftMs = undefined;
        const members = this.state.queues[call.queueCode];
        call.membersAtJoin = members ? countMembers(members) : undefined;
        if (call.ivrStartMs !== undefined && call.ivrEndMs === undefined) call.ivrEndMs = t;
        break;
      }
      case 'AgentCalled': {
        const iface = field(ami, 'Interface');
        call.agentsCalled++;
        if (!call.answered) call.agentIface = iface;
        this.ringStart(call, iface, t);
        break;
      }
      case 'AgentRingNoAnswer': {
        const iface = field(ami, 'Interface');
        const reported = Number(field(ami, 'RingTime')); // milliseconds here
        if (Number.isFinite(reported)) call.roundReportedMs = Math.max(call.roundReportedMs ?? 0, reported);
        this.ringEnd(call, iface, t);
        break;
      }
      case 'AgentConnect': {
        call.answered = true;
        call.agentIface = field(ami, 'Interface');
        call.location = 'bridged';
        const ringS = Number(field(ami, 'RingTime')); // seconds here
        if (Number.isFinite(ringS)) call.roundReportedMs = ringS * 1000;
        this.closeRound(call, t);
        this.leaveQueue(call, t, Number(field(ami, 'HoldTime')));
        call.talkAtConnectMs = call.talkMs;
        break;
      }
      case 'AgentComplete': {
        const talkS = Number(field(ami, 'TalkTime'));
        if (Number.isFinite(talkS) && call.talkAtConnectMs !== undefined) {
          call.talkMs = call.talkAtConnectMs + talkS * 1000;
          call.talkOpenMs = undefined; // the open bridge is what TalkTime measured
        }
        call.talkAtConnectMs = undefined;
        break;
      }
      case 'QueueCallerAbandon': {
        const holdS = Number(field(ami, 'HoldTime'));
        call.abandonHoldS = Number.isFinite(holdS) ? holdS : seconds(call.queueJoinMs ?? t, t);
        this.closeRound(call, t);
        this.leaveQueue(call, t, call.abandonHoldS);
        break;
      }
      case 'QueueCallerLeave':
        // On an answer Asterisk sends Leave before AgentConnect (whose HoldTime and RingTime are the
        // numbers to keep), so the stay and the ring round stay open until then or the end.
        if (call.queueOpen) call.queueLeftMs = t;
        break;
    }
  }

  private onUserEvent(call: CallState, ami: AmiMessage, t: number): void {
    switch (ami.get('UserEvent')) {
      case USER_EVENT.ivr: {
        call.ivrStartMs ??= t;
        call.location = 'ivr';
        const id = field(ami, 'IvrId');
        const name = field(ami, 'IvrName');
        if (id) call.ivrId = id;
        if (name) call.ivrName = name;
        if (field(ami, 'Step') === IVR_CHOICE_STEP) {
          call.ivrDtmf = field(ami, 'Choice');
          call.ivrEndMs = t;
        } else call.ivrEndMs = undefined;
        break;
      }
      case USER_EVENT.trunk: {
        const direction = field(ami, 'Direction');
        if (direction === 'inbound' || direction === 'outbound') call.direction = direction;
        const trunk = field(ami, 'TrunkNumber');
        if (trunk) call.trunkNumber = trunk;
        break;
      }
      case USER_EVENT.feedback:
        call.location = 'feedback';
        if (field(ami, 'Step') === 'end') {
          call.feedbackEndMs = t;
          call.score = field(ami, 'Score') || call.score;
        } else call.feedbackStartMs ??= t;
        break;
      case USER_EVENT.voicemail:
        call.voicemailState = field(ami, 'State') || '1';
        break;
      case USER_EVENT.forward:
        call.fwType = field(ami, 'FwType');
        call.forwardNumber = field(ami, 'ForwardNumber');
        break;
    }
  }

  private onHangup(call: CallState, ami: AmiMessage, uniqueid: string, t: number): void {
    call.channels = call.channels.filter((c) => c !== uniqueid);
    if ((call.gone ??= []).length < MAX_PER_CALL) call.gone.push(uniqueid);
    if (call.ringing[uniqueid] !== undefined) this.ringEnd(call, uniqueid, t);
    this.unhold(call, uniqueid, t);
    this.decideHangupSide(call, uniqueid);
    if (uniqueid === call.hangupBy && call.hangupCause === '') call.hangupCause = causeName(field(ami, 'Cause-txt'), field(ami, 'Cause'));
  }

  /**
   * The first of the caller and the parties it talked to whose hangup is asked for (HangupRequest,
   * SoftHangupRequest) or done is the side that ended the call. Hangup events alone would mislead:
   * Asterisk often reports the bridge peer's Hangup before the channel that hung up (pjsip/20).
   */
  private decideHangupSide(call: CallState, uniqueid: string): void {
    if (call.hangupSide !== '' || (uniqueid !== call.id && !call.talkers.includes(uniqueid))) return;
    call.hangupSide = uniqueid === call.id ? 'caller' : call.answered ? 'agent' : 'callee';
    call.hangupBy = uniqueid;
  }

  private onBridge(call: CallState, ami: AmiMessage, uniqueid: string, t: number, delta: 1 | -1): void {
    const bridge = ami.get('BridgeUniqueid');
    if (bridge === undefined) return;
    const inBridge = Number(field(ami, 'BridgeNumChannels'));
    if (delta < 0) {
      const members = call.bridges[bridge];
      if (members) {
        call.bridges[bridge] = members.filter((m) => m !== uniqueid);
        if (call.bridges[bridge]?.length === 0) delete call.bridges[bridge];
      }
      if (inBridge < 2 && call.talkOpenMs !== undefined) {
        call.talkMs += Math.max(0, t - call.talkOpenMs);
        call.talkOpenMs = undefined;
      }
      return;
    }
    if (call.bridges[bridge] === undefined && !this.room(call.bridges)) return;
    const members = (call.bridges[bridge] ??= []);
    if (!members.includes(uniqueid) && members.length < MAX_PER_CALL) members.push(uniqueid);
    if (inBridge >= 2) {
      // Two parties meet: a conversation starts, and whoever of them hangs up first ends it.
      for (const m of members) if (!call.talkers.includes(m) && call.talkers.length < MAX_PER_CALL) call.talkers.push(m);
      call.talkOpenMs ??= t;
      if (call.location !== 'feedback') call.location = 'bridged';
    }
  }

  private addChannel(call: CallState, uniqueid: string): void {
    if (call.channels.includes(uniqueid) || call.gone?.includes(uniqueid)) return;
    if (call.channels.length >= MAX_PER_CALL) {
      this.state.stats.capped++;
      return;
    }
    call.channels.push(uniqueid);
  }

  private room(record: Record<string, unknown>): boolean {
    if (Object.keys(record).length < MAX_PER_CALL) return true;
    this.state.stats.capped++;
    return false;
  }

  private ringStart(call: CallState, key: string, t: number): void {
    if (call.ringing[key] !== undefined || !this.room(call.ringing)) return;
    if (Object.keys(call.ringing).length === 0) {
      call.roundStartMs = t;
      call.roundReportedMs = undefined;
    }
    call.ringing[key] = t;
  }

  private ringEnd(call: CallState, key: string, t: number): void {
    delete call.ringing[key];
    if (Object.keys(call.ringing).length === 0) this.closeRound(call, t);
  }

  /** Ends the ring round: Asterisk's reported ring time when it gave one, else the round's span. */
  private closeRound(call: CallState, t: number): void {
    if (call.roundStartMs === undefined) return;
    call.ringMs += call.roundReportedMs ?? Math.max(0, t - call.roundStartMs);
    call.ringing = {};
    call.roundStartMs = undefined;
    call.roundReportedMs = undefined;
  }

  private leaveQueue(call: CallState, t: number, reportedS: number): void {
    if (!call.queueOpen) return;
    call.queueOpen = false;
    call.queueLeftMs = undefined;
    call.queueS += Number.isFinite(reportedS) ? reportedS : seconds(call.queueJoinMs ?? t, t);
  }

  private unhold(call: CallState, uniqueid: string, t: number): void {
    const since = call.holds[uniqueid];
    if (since === undefined) return;
    call.holdMs += Math.max(0, t - since);
    delete call.holds[uniqueid];
  }

  private finish(call: CallState, endMs: number): CcCdrOutput[] {
    delete this.state.calls[call.id];
    this.state.finished.push(call.id);
    if (this.state.finished.length > MAX_FINISHED) this.state.finished.splice(0, this.state.finished.length - MAX_FINISHED);
    this.closeRound(call, call.queueLeftMs ?? endMs);
    this.leaveQueue(call, call.queueLeftMs ?? endMs, call.abandonHoldS ?? NaN);
    for (const uniqueid of Object.keys(call.holds)) this.unhold(call, uniqueid, endMs);
    if (call.talkOpenMs !== undefined) call.talkMs += Math.max(0, endMs - call.talkOpenMs);

    const agent = call.agentIface ? memberExtension(call.agentIface) : '';
    const ivrEnd = call.ivrEndMs ?? endMs;
    const record: CcCdrEvent = {
      event: 'cc_cdr',
      uuid: call.id,
      caller: call.caller,
      called: agent || call.called || call.dialed,
      queueCode: call.queueCode,
      agentCode: agent,
      callType: call.direction === 'inbound' ? 'incoming' : call.direction === 'outbound' ? 'outgoing' : 'internal',
      cdrState: call.location,
      hangupSide: call.hangupSide,
      hangupCause: call.hangupCause,
      startTime: formatPbxTime(call.firstMs, this.opts.timeZone),
      endTime: formatPbxTime(endMs, this.opts.timeZone),
      duration: String(seconds(call.firstMs, endMs)),
      queueTime: String(call.queueS),
      feedbackTime: String(call.feedbackStartMs === undefined ? 0 : seconds(call.feedbackStartMs, call.feedbackEndMs ?? endMs)),
      ivrTime: call.ivrStartMs === undefined ? '' : String(seconds(call.ivrStartMs, ivrEnd)),
      ringTime: String(Math.round(call.ringMs / 1000)),
      holdTime: Math.round(call.holdMs / 1000),
      pauseTime: 0,
      talkingTime: String(Math.round(call.talkMs / 1000)),
      voicemailState: call.voicemailState,
      ivrId: call.ivrId,
      ivrName: call.ivrName,
      ivrDtmf: call.ivrDtmf,
      fwType: call.fwType,
      score: call.score,
      trunkNumber: call.trunkNumber,
      forwardNumber: call.forwardNumber,
      filePath: call.filePath,
      missCause: missCause(call),
      mac: this.opts.mac,
    };
    if (!call.answered) return [{ kind: 'cc_cdr', record }];
    const held = this.opts.holdForWrapup;
    const signal: CcCdrOutput = { kind: 'answered-call-ended', callId: call.id, agent, interface: call.agentIface, queue: call.queueCode, endedAt: endMs, held };
    if (!held) return [signal, { kind: 'cc_cdr', record }];
    this.state.held[call.id] = { record, endedAt: endMs, heldAt: this.opts.now() };
    return [signal];
  }
}

/** Why a queue call was missed, in the SPEC's order; "" when answered or never queued. */
function missCause(call: CallState): CcCdrEvent['missCause'] {
  if (call.queueCode === '' || call.answered) return '';
  if (call.membersAtJoin?.loggedIn === 0) return 'NO_AGENT_LOGIN';
  if (call.abandonHoldS !== undefined && call.abandonHoldS < MEMBER_CANCEL_S) return 'MEMBER_CANCEL';
  if (call.agentsCalled > 0) return 'NO_AGENT_ANSWER';
  return 'NO_ASSIGN';
}

/** Asterisk's cause text as a constant (`Normal Clearing` -> NORMAL_CLEARING), the document's style. */
function causeName(text: string, code: string): string {
  const name = text.trim().toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_|_$/g, '');
  return name || (code ? `CAUSE_${code}` : '');
}
