import type { AmiMessage } from '../ami/message.ts';
import type { CcCdrEvent } from '../../shared/events/cc-cdr.ts';
import { extensionOf } from '../../shared/toolbar/events.ts';
import { channelDevice, ExtensionDirectory, isLocalChannel, type HintEntry } from '../extensions.ts';
import { inferDirection } from './direction.ts';
import { IVR_CHOICE_STEP, MIXMONITOR_FILENAME, TRANSFER_VARIABLE, USER_EVENT } from './dialplan.ts';
import { field } from './fields.ts';
import { applyMemberEvent, countMembers, MEMBER_EVENTS, memberInterfaceOf, type QueueMembers } from './queue-members.ts';
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
  /** `[enable] pausetime=yes`: an answered call's record waits for its agent's wrap-up. */
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
      /** An agent's own part of an answered call ended (their leg hung up, or they transferred it). */
      kind: 'answered-call-ended';
      callId: string;
      /** The member's extension, its queue interface and the queue that connected the call ("" if direct). */
      agent: string;
      interface: string;
      queue: string;
      /** Event time the agent's part ended (epoch ms). */
      endedAt: number;
      /** True when the call's record waits for this wrap-up: completeWrapup(callId, pauseSeconds, interface). */
      held: boolean;
    };

type Location = CcCdrEvent['cdrState'];

/** An answered leg of a queue member: its end starts that member's wrap-up. */
export interface AgentLeg {
  iface: string;
  ext: string;
  done?: boolean;
}

/** Everything known about one live call (plain JSON: it is saved to disk as it is). */
export interface CallState {
  /** The call's Linkedid; the channel with this Uniqueid is the customer (the call's first channel). */
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
  /** Other Linkedids that joined this call (a pickup, a consult call bridged in). */
  merged?: string[];
  /** Channels that were ever in a bridge with someone (for the side of an unanswered call's end). */
  talkers: string[];
  location: Location;
  direction: '' | 'inbound' | 'outbound';
  /** The direction came from the dialplan (UserEvent trunk), which inference never overrides. */
  directionByDialplan?: boolean;
  trunkNumber: string;
  queueCode: string;
  queueJoinMs?: number;
  queueS: number;
  queueOpen: boolean;
  /** The queue the Queue app was started for, until the caller joins (a refused caller never does). */
  queueAsked?: string;
  /** QUEUESTATUS of a caller the queue refused (JOINEMPTY, FULL, ...). */
  queueRefused?: string;
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
  /** The queue interface of the first member who answered. */
  agentIface: string;
  answered: boolean;
  /** Answered legs of queue members by Uniqueid; the first is the one whose wrap-up holds the record. */
  legs?: Record<string, AgentLeg>;
  primaryLeg?: string;
  /** The primary leg's wrap-up: under way, or done with its pause in seconds. */
  wrapup?: 'open' | 'done';
  pauseS?: number;
  /** The extension that picked the call up (directed or group pickup), and its channel's Uniqueid. */
  pickupBy?: string;
  pickupUid?: string;
  talkMs: number;
  /**
   * Talk, hold and conversations counted when the queue connected the first agent: their part of the
   * talk is then Asterisk's own TalkTime (as queue_log has it) less the hold within it.
   */
  atConnect?: { talkMs: number; holdMs: number; conversations: number } | null;
  /** The conversation whose rest TalkTime already counted (AgentComplete comes just before the bridge ends). */
  talkCountedFor?: number;
  /** Bridge id -> channels of this call in it. */
  bridges: Record<string, string[]>;
  /** Bridge id -> how many channels it holds, as its last event said. */
  bridgeSize?: Record<string, number>;
  /** The bridge the customer is in. */
  customerBridge?: string;
  /** Numbers of this call's channels while they are in a bridge, and of the party that last joined the customer. */
  bridgeNums?: Record<string, string>;
  partyNum?: string;
  /** An attended transfer whose target is the next party the customer talks to. */
  forwardPending?: boolean;
  /** The customer is bridged with someone; conversations counts them. */
  conversation?: boolean;
  conversations?: number;
  /** Who ended the last conversation: the customer, or the party they talked to (its Uniqueid in hangupBy). */
  conversationEndedBy?: '' | 'customer' | 'party';
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
  /** For a call that never became a conversation: the side whose hangup came first. */
  hangupSide: string;
  /** Uniqueid of the channel whose hangup ended the call; its Hangup gives hangupCause. */
  hangupBy?: string;
  hangupCause: string;
}

export interface HeldRecord {
  record: CcCdrEvent;
  endedAt: number;
  heldAt: number;
  /** The interface whose wrap-up the record waits for. */
  iface?: string;
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
  /** Uniqueid of every followed channel -> its call. */
  channels?: Record<string, string>;
  /** Linkedid that joined another call -> that call. */
  aliases?: Record<string, string>;
  /** The box's hints, for telling trunks from extensions. */
  hints?: HintEntry[];
  /**
   * Record ids (agent/backfill/record-events.ts) of the cdr and cc_cdr events sent lately, live or
   * backfilled, so a backfill after a gap never sends one of them again.
   */
  recordIds?: string[];
}

export class CcCdrStateError extends Error {
  readonly code = 'CC_CDR_STATE';
}

/** Abandons up to this long after joining are MEMBER_CANCEL (document: 排队10秒内挂机). */
const MEMBER_CANCEL_S = 10;
const MAX_PER_CALL = 64;
const MAX_FINISHED = 2000;
/** A gap's backfill overlaps live reading by seconds (the agent's last alive mark): a few thousand records cover it. */
const MAX_RECORD_IDS = 2000;

/** Every AMI event the machine reads; translate.ts lets these through its noise filter. */
export const CC_CDR_EVENTS: ReadonlySet<string> = new Set([
  'Newchannel',
  'Newexten',
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
  'BlindTransfer',
  'AttendedTransfer',
  'Pickup',
  'QueueCallerJoin',
  'QueueCallerLeave',
  'QueueCallerAbandon',
  'AgentCalled',
  'AgentRingNoAnswer',
  'AgentConnect',
  'AgentComplete',
  ...MEMBER_EVENTS,
]);

/** The channel variables whose VarSet matters (the rest, half the AMI stream, is noise). */
export const CC_CDR_VARIABLES: ReadonlySet<string> = new Set([MIXMONITOR_FILENAME, 'QUEUESTATUS', TRANSFER_VARIABLE]);

/** QUEUESTATUS values of a caller the Queue app turned away without a QueueCallerJoin. */
const REFUSED = new Set(['JOINEMPTY', 'JOINUNAVAIL', 'FULL', 'LEAVEEMPTY', 'LEAVEUNAVAIL']);

/**
 * The per-call state machine behind `cc_cdr`. Feed it every AMI event in order. A call is the set of
 * channels that share a Linkedid or came to share one: channels are followed by Uniqueid, and when a
 * channel shows up with another call's Linkedid (a pickup, a consult call bridged into the customer's)
 * the two calls merge. A call is finished when its last channel hangs up. Durations come from event
 * times (Asterisk's `Timestamp` header when present, else the receive time recorded once with the
 * event) and from what Asterisk reports (HoldTime, RingTime), never from a clock read at finish, so
 * the same traffic gives the same record.
 */
export class CcCdrMachine {
  private state: CcCdrState;
  private readonly opts: Required<CcCdrOptions>;
  private directory: ExtensionDirectory;

  constructor(options: CcCdrOptions, state?: CcCdrState) {
    this.opts = { holdForWrapup: false, idleMs: 4 * 3600_000, maxHeldMs: 3600_000, maxCalls: 5000, ...options };
    this.state = state ?? { version: 1, calls: {}, held: {}, queues: {}, finished: [], stats: { expired: 0, wrapupTimedOut: 0, capped: 0 } };
    this.directory = new ExtensionDirectory(this.state.hints ?? []);
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
  /** Remembers that the record with this id was sent. */
  noteRecord(id: string): void {
    const ids = (this.state.recordIds ??= []);
    ids.push(id);
    // Trimmed in steps, not per record.
    if (ids.length > MAX_RECORD_IDS + 200) ids.splice(0, ids.length - MAX_RECORD_IDS);
  }

  wasSent(id: string): boolean {
    return this.state.recordIds?.includes(id) ?? false;
  }

  /**
   * Forgets a call that a backfill recorded from the box's files (it ended while events were not
   * read), so it never expires into a second, partial record. False when the call is not open.
   */
  dismiss(callId: string): boolean {
    const call = this.state.calls[this.state.aliases?.[callId] ?? callId];
    if (!call) return false;
    this.forget(call);
    return true;
  }

  get openCalls(): number {
    return Object.keys(this.state.calls).length;
  }

  /** The box's extensions as last seeded. */
  get extensions(): ExtensionDirectory {
    return this.directory;
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

  /** Seeds the box's hints (ExtensionStateList), so a trunk's channel is told from a phone's. */
  seedHints(hints: readonly HintEntry[]): void {
    this.directory = new ExtensionDirectory(hints);
    this.state.hints = this.directory.toHints();
  }

  feed(ami: AmiMessage, receivedAt: number = this.opts.now()): CcCdrOutput[] {
    const event = ami.event;
    if (event === undefined || !CC_CDR_EVENTS.has(event)) return [];
    if ((MEMBER_EVENTS as readonly string[]).includes(event)) {
      applyMemberEvent(this.state.queues, ami);
      return [];
    }
    if (event === 'VarSet' && !CC_CDR_VARIABLES.has(ami.get('Variable') ?? '')) return [];
    if (event === 'Newexten' && ami.get('Application') !== 'Queue') return [];
    const { uniqueid, linkedid } = subject(ami, event);
    if (linkedid === undefined) return [];
    const t = eventTimeMs(ami, receivedAt);
    const out: CcCdrOutput[] = [];
    const call = this.callOf(ami, event, uniqueid, linkedid, t, receivedAt, out);
    if (!call) return out;
    call.lastMs = Math.max(call.lastMs, t);
    call.seenAt = receivedAt;
    this.apply(call, ami, event, uniqueid, t, out);
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

  /**
   * A wrap-up ended. When it is the one the call's record waits for, the record goes out with
   * pauseTime filled in (or, the call still going on after a transfer, carries it when it ends).
   * Without `iface` (a journal from before per-agent wrap-ups) it is the record's own.
   */
  completeWrapup(callId: string, pauseSeconds: number, iface?: string): CcCdrOutput[] {
    const id = this.state.aliases?.[callId] ?? callId;
    const pause = Math.max(0, Math.round(pauseSeconds));
    const held = this.state.held[id];
    if (held) {
      if (iface !== undefined && held.iface !== undefined && held.iface !== iface) return [];
      delete this.state.held[id];
      return [{ kind: 'cc_cdr', record: { ...held.record, pauseTime: pause } }];
    }
    const call = this.state.calls[id];
    const primary = call?.primaryLeg !== undefined ? call.legs?.[call.primaryLeg] : undefined;
    if (call && primary && (iface === undefined || primary.iface === iface)) {
      call.wrapup = 'done';
      call.pauseS = pause;
    }
    return [];
  }

  /** The call an event belongs to, merging calls when a channel moved to another call's Linkedid. */
  private callOf(ami: AmiMessage, event: string, uniqueid: string | undefined, linkedid: string, t: number, receivedAt: number, out: CcCdrOutput[]): CallState | undefined {
    let call = this.byLinkedid(linkedid);
    const own = uniqueid === undefined ? undefined : this.byChannel(uniqueid);
    if (own && call && own !== call) call = this.merge(own, call);
    else if (own && !call) {
      call = own;
      if (!this.state.finished.includes(linkedid)) this.alias(linkedid, own);
    }
    // A channel rung by this call, or a transfer's consult call, is part of it from now on.
    for (const other of [ami.has('Channel') ? ami.get('DestUniqueid') : undefined, event === 'AttendedTransfer' ? ami.get('SecondTransfererUniqueid') : undefined]) {
      const joined = other === undefined ? undefined : this.byChannel(other);
      if (call && joined && joined !== call) call = this.merge(joined, call);
    }
    if (call) return call;
    if (event === 'Hangup' || this.state.finished.includes(linkedid)) return undefined;
    return this.open(linkedid, t, receivedAt, out);
  }

  private byLinkedid(linkedid: string): CallState | undefined {
    return this.state.calls[linkedid] ?? this.state.calls[this.state.aliases?.[linkedid] ?? ''];
  }

  private byChannel(uniqueid: string): CallState | undefined {
    const id = this.state.channels?.[uniqueid];
    return id === undefined ? undefined : this.state.calls[id];
  }

  private alias(linkedid: string, call: CallState): void {
    if (linkedid === call.id) return;
    (this.state.aliases ??= {})[linkedid] = call.id;
    if ((call.merged ??= []).length < MAX_PER_CALL && !call.merged.includes(linkedid)) call.merged.push(linkedid);
  }

  /** `from` joins `into`: its channels, bridges, holds and agent legs; its own record is never made. */
  private merge(from: CallState, into: CallState): CallState {
    for (const u of from.channels) this.addChannel(into, u);
    for (const u of from.gone ?? []) if (!into.channels.includes(u) && (into.gone ??= []).length < MAX_PER_CALL) into.gone.push(u);
    for (const u of from.talkers) if (!into.talkers.includes(u) && into.talkers.length < MAX_PER_CALL) into.talkers.push(u);
    for (const [b, members] of Object.entries(from.bridges)) {
      const list = (into.bridges[b] ??= []);
      for (const m of members) if (!list.includes(m)) list.push(m);
    }
    Object.assign((into.bridgeSize ??= {}), from.bridgeSize ?? {});
    Object.assign((into.bridgeNums ??= {}), from.bridgeNums ?? {});
    for (const [u, since] of Object.entries(from.holds)) into.holds[u] ??= since;
    for (const [u, leg] of Object.entries(from.legs ?? {})) (into.legs ??= {})[u] ??= leg;
    into.primaryLeg ??= from.primaryLeg;
    if (into.filePath === '') into.filePath = from.filePath;
    into.firstMs = Math.min(into.firstMs, from.firstMs);
    const channels = (this.state.channels ??= {});
    for (const u of [...from.channels, ...(from.gone ?? [])]) channels[u] = into.id;
    delete this.state.calls[from.id];
    for (const l of [from.id, ...(from.merged ?? [])]) this.alias(l, into);
    return into;
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

  private apply(call: CallState, ami: AmiMessage, event: string, uniqueid: string | undefined, t: number, out: CcCdrOutput[]): void {
    if (uniqueid !== undefined) {
      if (event !== 'Hangup') this.addChannel(call, uniqueid);
      // The channel whose Uniqueid is the Linkedid started the call: it is the caller.
      if (uniqueid === call.id && ami.has('CallerIDNum') && ami.has('Uniqueid')) {
        call.caller = field(ami, 'CallerIDNum');
        if (event === 'Newchannel' && !call.dialed) call.dialed = field(ami, 'Exten');
      }
    }
    const destUniqueid = ami.get('DestUniqueid');
    if (destUniqueid !== undefined && event !== 'DialEnd') this.addChannel(call, destUniqueid);
    if (event === 'Newchannel' || event === 'DialBegin') this.inferDirection(call, ami);

    switch (event) {
      case 'Hangup':
        this.onHangup(call, ami, uniqueid ?? '', t, out);
        break;
      case 'HangupRequest': // the far end hung up (BYE, CANCEL)
      case 'SoftHangupRequest': // Asterisk or an AMI Hangup asked
        this.hangupAsked(call, uniqueid ?? '');
        break;
      case 'DialBegin':
        // Queue calls are rung through AgentCalled; their DialBegins would count the same ring twice.
        if (call.queueCode === '' && destUniqueid !== undefined && ami.has('Channel')) {
          this.ringStart(call, destUniqueid, t);
          if (uniqueid === call.id && call.called === '') call.called = field(ami, 'DestCallerIDNum');
        }
        break;
      case 'DialEnd':
        if (destUniqueid !== undefined && call.ringing[destUniqueid] !== undefined) this.ringEnd(call, destUniqueid, t);
        // A member's phone answered a direct call (not an Originate, whose DialEnd has no caller).
        if (destUniqueid !== undefined && ami.get('DialStatus') === 'ANSWER' && ami.has('Channel')) {
          const iface = memberInterfaceOf(this.state.queues, channelDevice(field(ami, 'DestChannel')));
          if (iface !== undefined) this.answeredBy(call, destUniqueid, iface);
        }
        break;
      case 'BridgeEnter':
        this.onBridge(call, ami, uniqueid ?? '', t, +1);
        break;
      case 'BridgeLeave':
        this.onBridge(call, ami, uniqueid ?? '', t, -1);
        break;
      case 'Hold':
        if (uniqueid !== undefined && call.holds[uniqueid] === undefined && this.room(call.holds)) {
          this.syncTalk(call, t);
          call.holds[uniqueid] = t;
          this.syncTalk(call, t);
        }
        break;
      case 'Unhold':
        if (uniqueid !== undefined) this.unhold(call, uniqueid, t);
        break;
      case 'VarSet':
        this.onVariable(call, ami);
        break;
      case 'Newexten':
        call.queueAsked = (ami.get('AppData') ?? '').split(',')[0]?.trim() ?? '';
        break;
      case 'UserEvent':
        this.onUserEvent(call, ami, t);
        break;
      case 'BlindTransfer':
        if (ami.get('Result') !== 'Success') break;
        call.fwType = 'blind';
        call.forwardNumber = field(ami, 'Extension');
        this.endLeg(call, uniqueid ?? '', t, out);
        break;
      case 'AttendedTransfer': {
        if (ami.get('Result') !== 'Success') break;
        call.fwType = 'attended';
        // The target is whom the customer talks to now (the consult's party joins their bridge), or
        // once that bridge forms; meanwhile what the transferer's line was connected to.
        const connected = field(ami, 'SecondTransfererConnectedLineNum') || field(ami, 'TransfereeConnectedLineNum');
        if (call.conversation && call.partyNum) call.forwardNumber = call.partyNum;
        else {
          if (connected !== '' && connected !== call.caller) call.forwardNumber = connected;
          call.forwardPending = true;
        }
        this.endLeg(call, field(ami, 'OrigTransfererUniqueid'), t, out);
        this.endLeg(call, field(ami, 'SecondTransfererUniqueid'), t, out);
        break;
      }
      case 'Pickup': {
        const picker = field(ami, 'Channel');
        const ext = this.directory.extensionOf(picker) ?? (extensionOf(picker) || field(ami, 'CallerIDNum'));
        call.pickupBy = ext;
        call.pickupUid = uniqueid;
        call.answered = true;
        call.fwType = 'pickup';
        call.forwardNumber = ext;
        const iface = memberInterfaceOf(this.state.queues, channelDevice(picker));
        if (uniqueid !== undefined && iface !== undefined) this.answeredBy(call, uniqueid, iface);
        else if (uniqueid !== undefined && call.legs?.[uniqueid]) {
          // An AgentConnect ahead of this event took the picker's leg for the rung member's.
          delete call.legs[uniqueid];
          if (call.primaryLeg === uniqueid) call.primaryLeg = undefined;
        }
        break;
      }
      case 'QueueCallerJoin': {
        this.leaveQueue(call, call.queueLeftMs ?? t, NaN); // a second queue: the first stay is over
        call.queueCode = field(ami, 'Queue');
        call.queueAsked = undefined;
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
        const ringS = Number(field(ami, 'RingTime')); // seconds here
        if (Number.isFinite(ringS)) call.roundReportedMs = ringS * 1000;
        // A member's ringing phone picked up by another phone: the leg is the picker's, not the member's.
        if (destUniqueid !== undefined && destUniqueid !== call.pickupUid) this.answeredBy(call, destUniqueid, field(ami, 'Interface'));
        // The first connect only (null once its TalkTime was counted); a DialEnd ANSWER may come first.
        if (call.atConnect === undefined) {
          this.syncTalk(call, t);
          call.atConnect = { talkMs: call.talkMs, holdMs: this.holdSoFar(call, t), conversations: call.conversations ?? 0 };
        }
        call.answered = true;
        call.location = 'bridged';
        this.closeRound(call, t);
        this.leaveQueue(call, t, Number(field(ami, 'HoldTime')));
        break;
      }
      case 'AgentComplete':
        this.agentTalk(call, Number(field(ami, 'TalkTime')), t);
        if (ami.get('Reason') === 'transfer' && destUniqueid !== undefined) this.endLeg(call, destUniqueid, t, out);
        break;
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

  private onVariable(call: CallState, ami: AmiMessage): void {
    const value = ami.get('Value') ?? '';
    switch (ami.get('Variable')) {
      case MIXMONITOR_FILENAME: {
        const file = recordingPath(value, this.opts.monitorDir);
        if (file !== '') call.filePath = file;
        break;
      }
      case 'QUEUESTATUS':
        // The Queue app returned without the caller ever joining: the queue turned them away.
        if (REFUSED.has(value) && call.queueAsked) {
          call.queueCode = call.queueAsked;
          call.queueRefused = value;
          call.location = 'queue';
          const members = this.state.queues[call.queueCode];
          call.membersAtJoin = members ? countMembers(members) : undefined;
          call.queueAsked = undefined;
        }
        break;
      case TRANSFER_VARIABLE: // set by the agent's own transfer operation before its Redirect
        if (value !== '') {
          call.fwType = 'blind';
          call.forwardNumber = value;
        }
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
        if (direction === 'inbound' || direction === 'outbound') {
          call.direction = direction;
          call.directionByDialplan = true;
        }
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

  /** The first agent's part of the talk, from Asterisk's TalkTime (it counts their hold too). */
  private agentTalk(call: CallState, talkS: number, t: number): void {
    const at = call.atConnect;
    // Only while that part is the last conversation: a later one's talk is not in TalkTime.
    if (!at || !Number.isFinite(talkS) || (call.conversations ?? 0) > at.conversations + 1) return;
    call.atConnect = null;
    this.syncTalk(call, t);
    const held = this.holdSoFar(call, t) - at.holdMs;
    call.talkMs = at.talkMs + Math.max(0, talkS * 1000 - held);
    call.talkCountedFor = call.conversations ?? 0;
    call.talkOpenMs = undefined;
  }

  private holdSoFar(call: CallState, t: number): number {
    let ms = call.holdMs;
    for (const since of Object.values(call.holds)) ms += Math.max(0, t - since);
    return ms;
  }

  private inferDirection(call: CallState, ami: AmiMessage): void {
    if (call.directionByDialplan || call.direction !== '') return;
    const inferred = inferDirection(ami, this.directory);
    if (!inferred) return;
    call.direction = inferred.direction;
    if (call.trunkNumber === '') call.trunkNumber = inferred.trunkNumber;
  }

  /** A queue member's phone answered: their leg, and the call's agent if it is the first. */
  private answeredBy(call: CallState, uniqueid: string, iface: string): void {
    const legs = (call.legs ??= {});
    const known = legs[uniqueid];
    if (known) {
      known.iface = iface;
      known.ext = extensionOf(iface);
    } else {
      // One member can show up twice (a Local member and the phone it dials): one wrap-up.
      if (Object.values(legs).some((l) => l.iface === iface && !l.done)) return;
      if (!this.room(legs)) return;
      legs[uniqueid] = { iface, ext: extensionOf(iface) };
    }
    call.primaryLeg ??= uniqueid;
    if (!call.answered) {
      call.answered = true;
      call.agentIface = iface;
    }
  }

  /** An agent's own part of the call is over: their wrap-up starts now, not when the call ends. */
  private endLeg(call: CallState, uniqueid: string, t: number, out: CcCdrOutput[]): void {
    const leg = call.legs?.[uniqueid];
    if (!leg || leg.done) return;
    leg.done = true;
    const held = this.opts.holdForWrapup && uniqueid === call.primaryLeg;
    if (held) call.wrapup = 'open';
    out.push({ kind: 'answered-call-ended', callId: call.id, agent: leg.ext, interface: leg.iface, queue: call.queueCode, endedAt: t, held });
  }

  private onHangup(call: CallState, ami: AmiMessage, uniqueid: string, t: number, out: CcCdrOutput[]): void {
    call.channels = call.channels.filter((c) => c !== uniqueid);
    if ((call.gone ??= []).length < MAX_PER_CALL) call.gone.push(uniqueid);
    else if (this.state.channels) delete this.state.channels[uniqueid];
    if (call.ringing[uniqueid] !== undefined) this.ringEnd(call, uniqueid, t);
    this.unhold(call, uniqueid, t);
    this.hangupAsked(call, uniqueid);
    this.endLeg(call, uniqueid, t, out);
    if (uniqueid === call.hangupBy && call.hangupCause === '') call.hangupCause = causeName(field(ami, 'Cause-txt'), field(ami, 'Cause'));
  }

  /**
   * A hangup asked for (HangupRequest, SoftHangupRequest) or done. In a conversation, the first such
   * of the customer and the parties in their bridge ended it. Before any conversation, the first of
   * the caller and those it talked to decides, as before. Hangup events alone would mislead: Asterisk
   * often reports the bridge peer's Hangup before the channel that hung up (pjsip/20).
   */
  private hangupAsked(call: CallState, uniqueid: string): void {
    if (call.conversation) {
      if (call.conversationEndedBy) return;
      const inBridge = call.customerBridge !== undefined && (call.bridges[call.customerBridge] ?? []).includes(uniqueid);
      if (uniqueid !== call.id && !inBridge) return;
      call.conversationEndedBy = uniqueid === call.id ? 'customer' : 'party';
      call.hangupBy = uniqueid;
      call.hangupCause = '';
      return;
    }
    if ((call.conversations ?? 0) > 0 || call.hangupSide !== '' || (uniqueid !== call.id && !call.talkers.includes(uniqueid))) return;
    call.hangupSide = uniqueid === call.id ? 'caller' : call.answered ? 'agent' : 'callee';
    call.hangupBy = uniqueid;
  }

  private onBridge(call: CallState, ami: AmiMessage, uniqueid: string, t: number, delta: 1 | -1): void {
    const bridge = ami.get('BridgeUniqueid');
    if (bridge === undefined) return;
    const inBridge = Number(field(ami, 'BridgeNumChannels'));
    const sizes = (call.bridgeSize ??= {});
    const nums = (call.bridgeNums ??= {});
    if (delta < 0) {
      delete nums[uniqueid];
      const members = call.bridges[bridge];
      if (members) {
        call.bridges[bridge] = members.filter((m) => m !== uniqueid);
        if (call.bridges[bridge]?.length === 0) delete call.bridges[bridge];
      }
      if (uniqueid === call.id && call.customerBridge === bridge) call.customerBridge = undefined;
    } else {
      if (call.bridges[bridge] === undefined && !this.room(call.bridges)) return;
      const members = (call.bridges[bridge] ??= []);
      if (!members.includes(uniqueid) && members.length < MAX_PER_CALL) members.push(uniqueid);
      nums[uniqueid] = this.numberOf(field(ami, 'Channel'), field(ami, 'CallerIDNum'));
      if (uniqueid === call.id) call.customerBridge = bridge;
      if (call.customerBridge === bridge) {
        const party = uniqueid !== call.id ? uniqueid : members.find((m) => m !== call.id);
        if (party !== undefined && nums[party]) call.partyNum = nums[party];
      }
      if (inBridge >= 2) {
        for (const m of members) if (!call.talkers.includes(m) && call.talkers.length < MAX_PER_CALL) call.talkers.push(m);
        if (call.location !== 'feedback') call.location = 'bridged';
      }
    }
    if (Number.isFinite(inBridge) && inBridge > 0) sizes[bridge] = inBridge;
    else delete sizes[bridge];

    // The customer's conversation: they share a bridge with someone, whoever it is now.
    const talking = call.customerBridge !== undefined && (sizes[call.customerBridge] ?? 0) >= 2;
    if (talking && !call.conversation) {
      call.conversation = true;
      call.conversations = (call.conversations ?? 0) + 1;
      call.conversationEndedBy = '';
      if (call.forwardPending && call.partyNum) {
        call.forwardNumber = call.partyNum;
        call.forwardPending = false;
      }
      // A hold by someone who is no longer with the customer (a consult) ends when they talk again.
      const withCustomer = call.bridges[call.customerBridge ?? ''] ?? [];
      for (const holder of Object.keys(call.holds)) if (!withCustomer.includes(holder)) this.unhold(call, holder, t);
    } else if (!talking && call.conversation) {
      call.conversation = false;
      if (!call.conversationEndedBy) {
        call.conversationEndedBy = uniqueid === call.id ? 'customer' : 'party';
        call.hangupBy = uniqueid;
        call.hangupCause = '';
      }
    }
    this.syncTalk(call, t);
  }

  /** The number a party shows: its extension, the one a Local channel dials, else its caller ID. */
  private numberOf(channel: string, callerIdNum: string): string {
    if (isLocalChannel(channel)) return extensionOf(channel) || callerIdNum;
    return this.directory.extensionOf(channel) ?? callerIdNum;
  }

  /** Talk runs while the customer is in a conversation and nobody holds. */
  private syncTalk(call: CallState, t: number): void {
    const talking = call.conversation === true && Object.keys(call.holds).length === 0 && call.talkCountedFor !== call.conversations;
    if (talking && call.talkOpenMs === undefined) call.talkOpenMs = t;
    else if (!talking && call.talkOpenMs !== undefined) {
      call.talkMs += Math.max(0, t - call.talkOpenMs);
      call.talkOpenMs = undefined;
    }
  }

  private addChannel(call: CallState, uniqueid: string): void {
    if (call.channels.includes(uniqueid) || call.gone?.includes(uniqueid)) return;
    if (call.channels.length >= MAX_PER_CALL) {
      this.state.stats.capped++;
      return;
    }
    call.channels.push(uniqueid);
    (this.state.channels ??= {})[uniqueid] = call.id;
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
    this.syncTalk(call, t);
  }

  private forget(call: CallState): void {
    delete this.state.calls[call.id];
    const ids = [call.id, ...(call.merged ?? [])];
    for (const id of ids) {
      delete this.state.aliases?.[id];
      this.state.finished.push(id);
    }
    if (this.state.finished.length > MAX_FINISHED) this.state.finished.splice(0, this.state.finished.length - MAX_FINISHED);
    for (const u of [...call.channels, ...(call.gone ?? [])]) if (this.state.channels?.[u] === call.id) delete this.state.channels[u];
  }

  private finish(call: CallState, endMs: number): CcCdrOutput[] {
    const out: CcCdrOutput[] = [];
    this.forget(call);
    this.closeRound(call, call.queueLeftMs ?? endMs);
    this.leaveQueue(call, call.queueLeftMs ?? endMs, call.abandonHoldS ?? NaN);
    for (const uniqueid of Object.keys(call.holds)) this.unhold(call, uniqueid, endMs);
    call.conversation = false;
    this.syncTalk(call, endMs);
    // Legs whose Hangup never came (the call expired) end with it.
    for (const u of Object.keys(call.legs ?? {})) this.endLeg(call, u, endMs, out);

    const member = extensionOf(call.agentIface);
    const agent = call.pickupBy ?? member;
    const ivrEnd = call.ivrEndMs ?? endMs;
    const ended = call.conversationEndedBy ?? '';
    const hangupSide = (call.conversations ?? 0) === 0 || ended === '' ? call.hangupSide : ended === 'customer' ? 'caller' : agent !== '' ? 'agent' : 'callee';
    const record: CcCdrEvent = {
      event: 'cc_cdr',
      uuid: call.id,
      caller: call.caller,
      // A pickup keeps the number dialled; otherwise who answered, else who was called.
      called: (call.pickupBy === undefined ? member : '') || call.called || call.dialed,
      queueCode: call.queueCode,
      agentCode: agent,
      callType: call.direction === 'inbound' ? 'incoming' : call.direction === 'outbound' ? 'outgoing' : 'internal',
      cdrState: call.location,
      hangupSide,
      hangupCause: call.hangupCause,
      startTime: formatPbxTime(call.firstMs, this.opts.timeZone),
      endTime: formatPbxTime(endMs, this.opts.timeZone),
      duration: String(seconds(call.firstMs, endMs)),
      queueTime: String(call.queueS),
      feedbackTime: String(call.feedbackStartMs === undefined ? 0 : seconds(call.feedbackStartMs, call.feedbackEndMs ?? endMs)),
      ivrTime: call.ivrStartMs === undefined ? '' : String(seconds(call.ivrStartMs, ivrEnd)),
      ringTime: String(Math.round(call.ringMs / 1000)),
      holdTime: Math.round(call.holdMs / 1000),
      pauseTime: call.pauseS ?? 0,
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
    if (call.wrapup === 'open') {
      const primary = call.legs?.[call.primaryLeg ?? ''];
      this.state.held[call.id] = { record, endedAt: endMs, heldAt: this.opts.now(), ...(primary ? { iface: primary.iface } : {}) };
      return out;
    }
    out.push({ kind: 'cc_cdr', record });
    return out;
  }
}

/** The channel and call an event is about: transfer and pickup events name them with a prefix. */
function subject(ami: AmiMessage, event: string): { uniqueid: string | undefined; linkedid: string | undefined } {
  switch (event) {
    case 'BlindTransfer':
      return { uniqueid: ami.get('TransfererUniqueid'), linkedid: ami.get('TransfereeLinkedid') ?? ami.get('TransfererLinkedid') };
    case 'AttendedTransfer':
      return { uniqueid: ami.get('TransfereeUniqueid'), linkedid: ami.get('TransfereeLinkedid') ?? ami.get('OrigTransfererLinkedid') };
    case 'Pickup':
      // The picker joins the call it picked up.
      return { uniqueid: ami.get('Uniqueid'), linkedid: ami.get('TargetLinkedid') ?? ami.get('Linkedid') };
    default:
      return { uniqueid: ami.get('Uniqueid'), linkedid: ami.get('Linkedid') ?? ami.get('DestLinkedid') };
  }
}

/** Why a queue call was missed, in the documented order (docs/dialplan.md); "" when answered or never queued. */
function missCause(call: CallState): CcCdrEvent['missCause'] {
  if (call.queueCode === '' || call.answered) return '';
  if (call.queueRefused !== undefined) return (call.membersAtJoin?.loggedIn ?? 0) > 0 ? 'NO_ASSIGN' : 'NO_AGENT_LOGIN';
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
