import { Channel, type Bridge, type CdrRecord } from './channel.ts';
import type { SimClock } from './clock.ts';
import {
  defaultPhones,
  defaultQueues,
  INTERNAL,
  TRUNK,
  VERSION,
  type Driver,
  type PhoneBehaviour,
  type PhoneConfig,
  type QueueConfig,
} from './config.ts';
import { SimError } from './errors.ts';
import { dateFormatter, type CdrRow, type QueueLogEntry, type QueueLogOptions } from './record-files.ts';
import { silentWav } from './wav.ts';
import type { Pairs } from './wire.ts';

/** An event as the server writes it: `Event`, `Privilege`, then the body. */
export interface SimEvent {
  event: string;
  privilege: string;
  body: Pairs;
}

export interface Member {
  queue: string;
  name: string;
  location: string;
  stateInterface: string;
  membership: 'static' | 'dynamic';
  penalty: number;
  callsTaken: number;
  lastCall: number;
  lastPause: number;
  loginTime: number;
  inCall: boolean;
  paused: boolean;
  pausedReason: string;
  /** Last status reported in QueueMemberStatus, to send only changes. */
  status: number;
}

export interface QueueEntry {
  ch: Channel;
  joinedAt: number;
}

export interface QueueState {
  cfg: QueueConfig;
  members: Member[];
  callers: QueueEntry[];
  completed: number;
  abandoned: number;
  holdtime: number;
  talktime: number;
  /** rrmemory: index of the member to try first next time. */
  rrNext: number;
}

interface DeviceState {
  /** DeviceStateChange `State`. */
  name: string;
  /** ExtensionStatus code (0 idle, 1 in use, 4 unavailable, 8 ringing, 9, 16 hold). */
  ext: number;
  /** Queue member `Status` (ast_device_state: 1 not in use, 2 in use, 5 unavailable, 6 ringing ...). */
  member: number;
}

const EXT_TEXT: Record<number, string> = {
  [-1]: 'Unknown',
  0: 'Idle',
  1: 'InUse',
  2: 'Busy',
  4: 'Unavailable',
  8: 'Ringing',
  9: 'InUse&Ringing',
  16: 'Hold',
  17: 'InUse&Hold',
};

const CAUSE_TEXT: Record<number, string> = {
  0: 'Unknown',
  16: 'Normal Clearing',
  17: 'User busy',
  19: 'User alerting, no answer',
  21: 'Call Rejected',
  26: 'Answered elsewhere',
  34: 'Circuit/channel congestion',
  127: 'Interworking, unspecified',
};

/** Orders Uniqueids/Linkedids (`1796095456.37`) by creation: seconds, then sequence. */
export function compareIds(a: string, b: string): number {
  const [as = 0, aq = 0] = a.split('.').map(Number);
  const [bs = 0, bq = 0] = b.split('.').map(Number);
  return as - bs || aq - bq;
}

export interface PbxOptions {
  /** The box's channel driver; `drivers` overrides it per extension (both loaded at once). */
  driver: Driver;
  drivers?: Record<string, Driver>;
  /** SIP peers that are trunks (no hint, context from-trunk). Default `['trunk']`. */
  trunks?: string[];
  /** What CoreSettings and `core show version` report; below 13.8 newer headers are not written. */
  asteriskVersion?: string;
  clock: SimClock;
  phones?: PhoneConfig[];
  queues?: QueueConfig[];
  /** Where MixMonitor's files go (relative path, bytes); absent: recordings are not written. */
  writeRecording?: (relPath: string, data: Uint8Array) => void;
  /** queues.conf `[general]` options that change queue_log lines. */
  queueLog?: QueueLogOptions;
  /** Each queue_log entry, at the moment app_queue writes it (absent: nothing is logged). */
  onQueueLog?: (e: QueueLogEntry) => void;
  /** Each CDR, at the moment the CDR engine hands it to its backends (with the AMI `Cdr` event). */
  onCdr?: (r: CdrRow) => void;
  /** The box's zone: cdr_manager and cdr_csv both write the CDR times in it (the process's, when unset). */
  timeZone?: string;
}

/**
 * ast_callerid_merge's `"name" <num>`: the name goes through ast_escape_quoted, which puts a backslash
 * before `"`, `\` and control characters other than tab and vertical tab (main/callerid.c, main/utils.c).
 */
export function callerIdMerge(name: string, num: string): string {
  const escaped = name.replace(/[\x00-\x08\x0a\x0c-\x1f"\\\x7f]/g, (c) => `\\${c}`);
  return `"${escaped}" <${num}>`;
}

/**
 * The call center's state and the primitive changes that emit events: channels, device and extension
 * state, bridges, hangup with its CDRs, queues and AstDB. Dialplan and actions build on these.
 */
export class Pbx {
  readonly driver: Driver;
  /** The default technology (`SIP` or `PJSIP`); an extension's own is `techOf(ext)`. */
  readonly tech: 'SIP' | 'PJSIP';
  readonly drivers: Readonly<Record<string, Driver>>;
  readonly trunks: readonly string[];
  readonly version: string;
  readonly clock: SimClock;
  readonly startedAt: number;
  readonly phones = new Map<string, PhoneConfig>();
  readonly queues = new Map<string, QueueState>();
  /** AstDB, keyed by the full path `/family/key`. */
  readonly db = new Map<string, string>();
  readonly globals = new Map<string, string>();
  readonly channels = new Map<string, Channel>();
  readonly queueLogOptions: Readonly<Required<QueueLogOptions>>;
  processedCalls = 0;
  /** cdr.c's global_cdr_sequence: every channel's first CDR object, and every one appended, takes the next. */
  private cdrSeq = 0;
  private readonly listeners = new Set<(e: SimEvent) => void>();
  /** CDR times as the box writes them, in its zone. */
  private readonly cdrDate: (ms: number) => string;
  private readonly deviceStates = new Map<string, string>();
  /** Last `Queue:<name>_avail` state sent: NOT_INUSE while some member could take a call. */
  private readonly queueAvail = new Map<string, string>();
  private seq = 0;
  private readonly chanCounters = new Map<string, number>();
  /** Waiters for "no channel matching this is left", for scenario handles. */
  private readonly goneWaiters = new Set<{ match: (ch: Channel) => boolean; resolve: () => void }>();

  constructor(private readonly options: PbxOptions) {
    this.cdrDate = dateFormatter(options.timeZone);
    this.driver = options.driver;
    this.tech = options.driver === 'sip' ? 'SIP' : 'PJSIP';
    this.drivers = { ...options.drivers };
    this.trunks = options.trunks ?? [TRUNK];
    this.version = options.asteriskVersion ?? VERSION;
    this.clock = options.clock;
    this.startedAt = this.clock.now();
    this.queueLogOptions = { logMembernameAsAgent: false, logCallerIdName: false, ...options.queueLog };
    this.reset();
  }

  /** Back to the configured phones and queues, no calls, empty AstDB. Live channels are dropped silently. */
  reset(): void {
    for (const ch of this.channels.values()) ch.markHungUp();
    this.channels.clear();
    for (const w of this.goneWaiters) w.resolve();
    this.goneWaiters.clear();
    this.phones.clear();
    for (const p of this.options.phones ?? defaultPhones()) this.phones.set(p.ext, { ...p });
    this.queues.clear();
    const login = Math.floor(this.clock.now() / 1000);
    for (const q of this.options.queues ?? defaultQueues()) {
      const members = q.members.map(
        (m): Member => ({
          queue: q.name,
          name: m.name,
          location: this.withTech(m.location),
          stateInterface: this.withTech(m.stateInterface),
          membership: 'static',
          penalty: m.penalty,
          callsTaken: 0,
          lastCall: 0,
          lastPause: 0,
          loginTime: login,
          inCall: false,
          paused: false,
          pausedReason: '',
          status: 0,
        }),
      );
      this.queues.set(q.name, { cfg: q, members, callers: [], completed: 0, abandoned: 0, holdtime: 0, talktime: 0, rrNext: 0 });
      for (const m of members) m.status = this.deviceState(m.stateInterface).member;
    }
    this.db.clear();
    this.deviceStates.clear();
    this.queueAvail.clear();
    for (const q of this.queues.values()) this.queueAvail.set(q.cfg.name, this.availState(q));
    for (const p of this.phones.values()) this.deviceStates.set(this.deviceOf(p.ext), this.deviceState(this.deviceOf(p.ext)).name);
  }

  // ---- channel drivers ----

  /** The driver an extension (or trunk) uses: its own in a mixed box, else the box's. */
  driverOf(ext: string): Driver {
    return this.drivers[ext] ?? this.driver;
  }

  techOf(ext: string): 'SIP' | 'PJSIP' {
    return this.driverOf(ext) === 'sip' ? 'SIP' : 'PJSIP';
  }

  /** `SIP/800` or `PJSIP/805`: the device (and hint, and dial string) of an extension. */
  deviceOf(ext: string): string {
    return `${this.techOf(ext)}/${ext}`;
  }

  /** The driver a channel belongs to (Local channels: the box's). */
  driverOfChannel(ch: Channel): Driver {
    if (ch.name.startsWith('PJSIP/')) return 'pjsip';
    if (ch.name.startsWith('SIP/')) return 'sip';
    return this.driver;
  }

  /** Whether any phone or trunk uses this driver (its actions are then loaded). */
  hasDriver(d: Driver): boolean {
    return this.driver === d || Object.values(this.drivers).includes(d);
  }

  /** Phones of one driver, in configuration order. */
  phonesOf(d: Driver): PhoneConfig[] {
    return [...this.phones.values()].filter((p) => this.driverOf(p.ext) === d);
  }

  /** `{tech}/801` -> `SIP/801` or `PJSIP/801`, by that extension's driver. */
  private withTech(iface: string): string {
    return iface.replace(/\{tech\}\/([^@/]+)/, (_, ext: string) => this.deviceOf(ext));
  }

  onEvent(fn: (e: SimEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(event: string, privilege: string, body: Pairs): void {
    const e = { event, privilege, body };
    for (const l of this.listeners) l(e);
  }

  now(): number {
    return this.clock.now();
  }

  /**
   * ast_queue_log(queuename, callid, agent, event, data...): one queue_log line, stamped with the
   * simulated `time(NULL)` (whole epoch seconds).
   */
  queueLog(queue: string, callid: string, agent: string, event: string, data: (string | number)[] = ['']): void {
    this.options.onQueueLog?.({ time: Math.floor(this.now() / 1000), callid, queue, agent, event, data });
  }

  /** Resolves after everything already scheduled for now has run (timers are FIFO). */
  tick(): Promise<void> {
    return new Promise((resolve) => this.clock.after(0, resolve));
  }

  /** Resolves after simMs, or early with false when ch hangs up first. */
  sleep(ch: Channel | undefined, simMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (ch?.gone) return resolve(false);
      const off = ch?.onHangup(() => {
        timer.cancel();
        resolve(false);
      });
      const timer = this.clock.after(simMs, () => {
        off?.();
        resolve(true);
      });
    });
  }

  // ---- phones and device state ----

  phoneOf(device: string | undefined): PhoneConfig | undefined {
    if (!device) return undefined;
    const [tech, ext] = device.split('/');
    return ext && tech === this.techOf(ext) ? this.phones.get(ext) : undefined;
  }

  setPhone(ext: string, change: Partial<PhoneBehaviour>): void {
    const p = this.phones.get(ext);
    if (!p) throw new SimError('SIM_NO_PHONE', `no phone ${ext}`);
    Object.assign(p, change);
  }

  deviceState(device: string): DeviceState {
    const phone = this.phoneOf(device);
    let ringing = false;
    let inuse = false;
    let hold = false;
    for (const ch of this.channels.values()) {
      if (ch.device !== device || ch.hungUp) continue;
      if (ch.onHold) hold = true;
      else if (ch.outbound && ch.state !== 6) ringing = true;
      else inuse = true;
    }
    if (hold) return { name: 'ONHOLD', ext: inuse ? 17 : 16, member: 8 };
    if (ringing && inuse) return { name: 'RINGINUSE', ext: 9, member: 7 };
    if (ringing) return { name: 'RINGING', ext: 8, member: 6 };
    if (inuse) return { name: 'INUSE', ext: 1, member: 2 };
    if (phone && !phone.registered) return { name: 'UNAVAILABLE', ext: 4, member: 5 };
    return { name: 'NOT_INUSE', ext: 0, member: 1 };
  }

  /** Emits DeviceStateChange, QueueMemberStatus and ExtensionStatus for a device whose state changed. */
  refreshDevice(device: string | undefined): void {
    if (!device) return;
    const st = this.deviceState(device);
    if (this.deviceStates.get(device) === st.name) return;
    this.deviceStates.set(device, st.name);
    this.emit('DeviceStateChange', 'call,all', [
      ['Device', device],
      ['State', st.name],
    ]);
    for (const q of this.queues.values()) {
      for (const m of q.members) {
        if (m.stateInterface !== device || m.status === st.member) continue;
        m.status = st.member;
        this.emit('QueueMemberStatus', 'agent,all', this.memberEvent(m));
      }
    }
    const phone = this.phoneOf(device);
    if (phone) this.emit('ExtensionStatus', 'call,all', this.extensionStatus(phone.ext));
    this.refreshQueueAvail();
  }

  private availState(q: QueueState): string {
    return q.members.some((m) => !m.paused && m.status === 1) ? 'NOT_INUSE' : 'INUSE';
  }

  /** app_queue's `Queue:<name>_avail` device, which hints can watch to see if a queue has a free agent. */
  refreshQueueAvail(): void {
    for (const q of this.queues.values()) {
      const st = this.availState(q);
      if (this.queueAvail.get(q.cfg.name) === st) continue;
      this.queueAvail.set(q.cfg.name, st);
      this.emit('DeviceStateChange', 'call,all', [
        ['Device', `Queue:${q.cfg.name}_avail`],
        ['State', st],
      ]);
    }
  }

  extensionStatus(ext: string): Pairs {
    const phone = this.phones.get(ext);
    const code = phone ? this.deviceState(this.deviceOf(ext)).ext : -1;
    return [
      ['Exten', ext],
      ['Context', INTERNAL],
      ['Hint', phone ? this.deviceOf(ext) : ''],
      ['Status', String(code)],
      ['StatusText', EXT_TEXT[code] ?? 'Unknown'],
    ];
  }

  // ---- channels ----

  private nextUniqueid(): string {
    return `${Math.floor(this.now() / 1000)}.${this.seq++}`;
  }

  /** `SIP/805-00000000`: one counter per technology, 8 hex digits. */
  private nextSuffix(tech: string): string {
    const n = this.chanCounters.get(tech) ?? 0;
    this.chanCounters.set(tech, n + 1);
    return n.toString(16).padStart(8, '0');
  }

  /** Creates a phone channel and emits Newchannel. */
  newPhoneChannel(ext: string, context: string, exten: string, opts: { linkedid?: string; outbound?: boolean } = {}): Channel {
    const phone = this.phones.get(ext);
    const uid = this.nextUniqueid();
    const tech = this.techOf(ext);
    const ch = new Channel(
      `${tech}/${ext}-${this.nextSuffix(tech)}`,
      `${tech}/${ext}`,
      uid,
      opts.linkedid ?? uid,
      ext,
      phone?.name ?? ext,
      context,
      exten,
      this.now(),
    );
    ch.outbound = opts.outbound ?? false;
    this.addChannel(ch);
    return ch;
  }

  /** Creates an outside caller's channel (a trunk), e.g. `SIP/trunk-00000003`. */
  newTrunkChannel(callerNum: string, callerName: string, context: string, exten: string, opts: { linkedid?: string; outbound?: boolean } = {}): Channel {
    const uid = this.nextUniqueid();
    const trunk = this.trunks[0] ?? TRUNK;
    const tech = this.techOf(trunk);
    const ch = new Channel(`${tech}/${trunk}-${this.nextSuffix(tech)}`, `${tech}/${trunk}`, uid, opts.linkedid ?? uid, callerNum, callerName, context, exten, this.now());
    ch.outbound = opts.outbound ?? false;
    this.addChannel(ch);
    return ch;
  }

  /** Creates both halves of `Local/exten@context` and emits their Newchannel events. */
  newLocalPair(exten: string, context: string, linkedid?: string): [Channel, Channel] {
    const suffix = this.nextSuffix('Local');
    const base = `Local/${exten}@${context}-${suffix}`;
    const u1 = this.nextUniqueid();
    const one = new Channel(`${base};1`, undefined, u1, linkedid ?? u1, '<unknown>', '<unknown>', context, exten, this.now());
    const two = new Channel(`${base};2`, undefined, this.nextUniqueid(), linkedid ?? u1, '<unknown>', '<unknown>', context, exten, this.now());
    // Local channels hang up with cause 0 unless their dialplan set one (Busy: 17), as chan_sip/30 shows.
    one.cause = 0;
    two.cause = 0;
    one.outbound = true;
    one.localPeer = two;
    two.localPeer = one;
    this.addChannel(one);
    this.addChannel(two);
    return [one, two];
  }

  private addChannel(ch: Channel): void {
    ch.cdrSequence = this.cdrSeq++;
    this.channels.set(ch.name, ch);
    this.processedCalls++;
    this.emit('Newchannel', 'call,all', ch.snapshot());
    this.refreshDevice(ch.device);
  }

  setState(ch: Channel, state: number): void {
    if (ch.state === state || ch.hungUp) return;
    ch.state = state;
    this.emit('Newstate', 'call,all', ch.snapshot());
    this.refreshDevice(ch.device);
    if (state === 5 && ch.onRinging) {
      const f = ch.onRinging;
      ch.onRinging = undefined;
      f();
    }
  }

  setCallerId(ch: Channel, num: string, name: string): void {
    ch.callerNum = num;
    ch.callerName = name;
    this.emit('NewCallerid', 'call,all', [...ch.snapshot(), ['CID-CallingPres', '0 (Presentation Allowed, Not Screened)']]);
  }

  setConnected(ch: Channel, num: string, name: string): void {
    if (ch.connectedNum === num && ch.connectedName === name) return;
    ch.connectedNum = num;
    ch.connectedName = name;
    this.emit('NewConnectedLine', 'call,all', ch.snapshot());
  }

  /** Answer(): the channel goes Up and starts counting billable time. */
  answer(ch: Channel): void {
    if (ch.state === 6 || ch.hungUp) return;
    ch.answeredAt = this.now();
    ch.outbound = false;
    for (const r of ch.cdrs) if (r.end === undefined) r.answer ??= ch.answeredAt;
    ch.onAnswer?.();
    this.setState(ch, 6);
  }

  /** Finds a live channel by exact name, or by `/regex/` like the Hangup action. */
  findChannels(spec: string): Channel[] {
    if (spec.length > 2 && spec.startsWith('/') && spec.endsWith('/')) {
      let re: RegExp;
      try {
        re = new RegExp(spec.slice(1, -1));
      } catch {
        return [];
      }
      return [...this.channels.values()].filter((c) => re.test(c.name));
    }
    const ch = this.channels.get(spec);
    return ch ? [ch] : [];
  }

  /** The record still open on a channel (the one LastApplication goes to), if any. */
  private openRecord(ch: Channel): CdrRecord | undefined {
    const last = ch.cdrs[ch.cdrs.length - 1];
    return last && last.end === undefined ? last : undefined;
  }

  /** Records the current application, as LastApplication/LastData of the open CDR. */
  setApp(ch: Channel, app: string, data: string): void {
    ch.app = app;
    ch.appData = data;
    if (ch.cdrs.length === 0) this.pushCdr(ch, ch.createdAt, '');
    const open = this.openRecord(ch);
    if (open && !open.destinationChannel) {
      open.lastApp = app;
      open.lastData = data;
    }
  }

  /** Starts the CDR record of one Dial (or one queue member rung) from ch to destChannel. */
  cdrDial(ch: Channel, destChannel: string, app: string, data: string): CdrRecord {
    const open = this.openRecord(ch);
    if (open && !open.destinationChannel) {
      // The same CDR object goes on into the dial: it keeps its sequence.
      ch.cdrs.pop();
      return this.pushCdr(ch, open.start, destChannel, app, data, open.sequence);
    }
    return this.pushCdr(ch, ch.cdrs.length === 0 ? ch.createdAt : this.now(), destChannel, app, data);
  }

  /**
   * Closes a Dial's record. After a failed Dial, cdr_manager writes a second record for the rest of
   * the dialplan with the same disposition (chan_sip/21, 22); after an answered one it does not.
   */
  cdrDialEnd(ch: Channel, rec: CdrRecord, disposition: NonNullable<CdrRecord['disposition']>, continues: boolean): void {
    rec.end = this.now();
    rec.disposition = disposition;
    if (continues && disposition !== 'ANSWERED' && !ch.gone) {
      const next = this.pushCdr(ch, this.now(), '', ch.app, ch.appData);
      next.disposition = disposition;
    }
  }

  /** Sets how the open record ends (an originate that fails: BUSY, NO ANSWER, FAILED). */
  setDisposition(ch: Channel, disposition: NonNullable<CdrRecord['disposition']>): void {
    if (ch.cdrs.length === 0) this.pushCdr(ch, ch.createdAt, '');
    const open = this.openRecord(ch);
    if (open) open.disposition = disposition;
  }

  private pushCdr(ch: Channel, start: number, destChannel: string, app = ch.app, data = ch.appData, sequence?: number): CdrRecord {
    let seq = sequence;
    if (seq === undefined && ch.cdrSequence !== undefined) {
      seq = ch.cdrSequence;
      ch.cdrSequence = undefined;
    }
    const rec: CdrRecord = {
      sequence: seq ?? this.cdrSeq++,
      start,
      // A record opened on a channel already up is answered when it starts (cdr.c
      // cdr_object_check_party_a_answer; 25: the second round's record).
      answer: ch.answeredAt === undefined ? undefined : Math.max(start, ch.answeredAt),
      destination: ch.exten,
      destinationContext: ch.context,
      destinationChannel: destChannel,
      lastApp: app,
      lastData: data,
    };
    ch.cdrs.push(rec);
    return rec;
  }

  private postCdrs(ch: Channel): void {
    if (!ch.postsCdr) return;
    if (ch.cdrs.length === 0) this.pushCdr(ch, ch.createdAt, '');
    const now = this.now();
    const num = ch.callerNum === '<unknown>' ? '' : ch.callerNum;
    const name = ch.callerName === '<unknown>' ? '' : ch.callerName;
    for (const r of ch.cdrs) {
      const end = r.end ?? now;
      const answer = r.answer !== undefined && r.answer <= end ? r.answer : undefined;
      const row: CdrRow = {
        accountCode: '',
        source: num,
        destination: r.destination,
        destinationContext: r.destinationContext,
        callerId: callerIdMerge(name, num),
        channel: ch.name,
        destinationChannel: r.destinationChannel,
        lastApp: r.lastApp,
        lastData: r.lastData,
        start: r.start,
        answer,
        end,
        // cdr_object_get_duration / _get_billsec: whole seconds of the ms between, cut (initiatedseconds=no).
        duration: Math.max(0, Math.trunc((end - r.start) / 1000)),
        billsec: answer !== undefined ? Math.max(0, Math.trunc((end - answer) / 1000)) : 0,
        disposition: r.disposition ?? (answer !== undefined ? 'ANSWERED' : ch.cause === 17 ? 'BUSY' : 'NO ANSWER'),
        amaFlags: 'DOCUMENTATION',
        uniqueid: ch.uniqueid,
        userField: '',
        peerAccount: '',
        linkedid: ch.linkedid,
        sequence: r.sequence,
      };
      // Every backend gets the same record: cdr_csv's line and cdr_manager's event.
      this.options.onCdr?.(row);
      this.emit('Cdr', 'cdr,all', [
        ['AccountCode', row.accountCode],
        ['Source', row.source],
        ['Destination', row.destination],
        ['DestinationContext', row.destinationContext],
        ['CallerID', row.callerId],
        ['Channel', row.channel],
        ['DestinationChannel', row.destinationChannel],
        ['LastApplication', row.lastApp],
        ['LastData', row.lastData],
        ['StartTime', this.cdrDate(row.start)],
        ['AnswerTime', row.answer === undefined ? '' : this.cdrDate(row.answer)],
        ['EndTime', this.cdrDate(row.end)],
        ['Duration', String(row.duration)],
        ['BillableSeconds', String(row.billsec)],
        ['Disposition', row.disposition],
        ['AMAFlags', row.amaFlags],
        ['UniqueID', row.uniqueid],
        ['UserField', row.userField],
      ]);
    }
  }

  /**
   * Hangs a channel up: it leaves its bridge (which dissolves, releasing the other party), posts its
   * CDRs, emits Hangup and updates its device. Waiters on the channel wake up.
   */
  hangup(ch: Channel, cause = ch.cause, techCause?: number): void {
    if (ch.hungUp) return;
    ch.cause = cause;
    if (techCause !== undefined) ch.techCause = techCause;
    // chan_sip reports a BYE'd channel's Hangup before the rest of its bridge breaks up (chan_sip/20);
    // PJSIP breaks the bridge up first.
    const bridge = ch.bridge;
    if (bridge && this.driverOfChannel(ch) === 'sip') {
      this.leave(bridge, ch);
      // The last one out of a bridge (the other party was transferred away) takes it down (33).
      if (bridge.channels.length === 0) this.destroy(bridge);
    }
    else if (bridge) this.dissolve(bridge, ch);
    // A phone's BYE to a channel running dialplan: the PBX's own soft hangup follows when the
    // application returns, just before the Hangup (chan_sip/27, 33, 38, 39).
    if (ch.byeInDialplan) {
      ch.byeInDialplan = false;
      this.emit('SoftHangupRequest', 'call,all', [...ch.snapshot(), ['Cause', '16']]);
    }
    this.stopRecording(ch);
    ch.markHungUp();
    this.postCdrs(ch);
    const body: Pairs = [...ch.snapshot(), ['Cause', String(cause)], ['Cause-txt', CAUSE_TEXT[cause] ?? 'Unknown']];
    if (this.driverOfChannel(ch) === 'pjsip' && ch.techCause !== undefined && ch.device) body.push(['TechCause', String(ch.techCause)]);
    this.emit('Hangup', 'call,all', body);
    if (bridge && bridge.channels.length > 0) this.dissolve(bridge);
    this.channels.delete(ch.name);
    this.refreshDevice(ch.device);
    // ;1 going takes ;2 along (its Dial ends first, chan_sip/25); ;2 ending before it answered leaves
    // ;1 to whoever dialed it.
    const peer = ch.localPeer;
    if (peer && !peer.gone && (ch.name.endsWith(';1') || peer.state === 6)) {
      // An answered ;2 in its Dial is asked to hang up like a phone that sent BYE (35).
      if (peer.running && peer.state === 6 && peer.inDialplan && peer.app === 'Dial') {
        this.emit('HangupRequest', 'call,all', [...peer.snapshot(), ['Cause', '16']]);
        peer.cause = 16;
        peer.byeInDialplan = true;
      }
      if (peer.running) {
        peer.hangupRequested = true;
        peer.interrupt();
      } else this.hangup(peer, peer.cause);
    }
    for (const w of [...this.goneWaiters]) {
      if ([...this.channels.values()].some(w.match)) continue;
      this.goneWaiters.delete(w);
      w.resolve();
    }
  }

  /**
   * A hangup asked for from outside (AMI Hangup, a phone's BYE). A channel with an owner is only
   * flagged: the owner cleans up first (Queue writes AgentComplete or QueueCallerAbandon before the
   * Hangup) and then hangs it up.
   */
  softHangup(ch: Channel, cause = 16, event: 'SoftHangupRequest' | 'HangupRequest' = 'SoftHangupRequest'): void {
    if (ch.gone) return;
    if (ch.onHangupRequest?.(event)) return;
    // A phone's request carries its SIP code first, and no Cause when it gave none (chan_sip/23, 25).
    const extra: Pairs = [];
    if (event === 'HangupRequest' && ch.techCause !== undefined && this.driverOfChannel(ch) === 'pjsip') extra.push(['TechCause', String(ch.techCause)]);
    if (event === 'SoftHangupRequest' || cause !== 0) extra.push(['Cause', String(cause)]);
    this.emit(event, 'call,all', [...ch.snapshot(), ...extra]);
    if (!ch.running) return this.hangup(ch, cause);
    ch.cause = cause;
    ch.hangupRequested = true;
    if (event === 'HangupRequest' && ch.inDialplan) ch.byeInDialplan = true;
    // AMI's soft hangup kicks the channel out of its bridge at once (chan_sip/32); a BYE does not.
    if (event === 'SoftHangupRequest' && ch.bridge) this.dissolve(ch.bridge, ch);
    ch.interrupt();
  }

  /** Resolves once every channel of a call (same Linkedid) has hung up. */
  whenCallEnds(linkedid: string): Promise<void> {
    return this.whenGone((c) => c.linkedid === linkedid);
  }

  /** Resolves once no live channel matches. */
  whenGone(match: (c: Channel) => boolean): Promise<void> {
    if (![...this.channels.values()].some(match)) return Promise.resolve();
    return new Promise((resolve) => this.goneWaiters.add({ match, resolve }));
  }

  // ---- dialplan noise the call flows need ----

  /** `Newexten` as pbx.c writes it when a channel runs an application. */
  newexten(ch: Channel, app: string, data: string): void {
    this.emit('Newexten', 'dialplan,all', [...ch.snapshot(), ['Extension', ch.exten], ['Application', app], ['AppData', data]]);
  }

  /** Sets a channel variable and writes its `VarSet`. */
  varSet(ch: Channel, name: string, value: string): void {
    ch.vars.set(name, value);
    this.emit('VarSet', 'dialplan,all', [...ch.snapshot(), ['Variable', name], ['Value', value]]);
  }

  // ---- recordings ----

  /** Running MixMonitors per channel (a channel may have several). */
  private readonly recording = new Map<Channel, { file: string; startedAt: number }[]>();

  startRecording(ch: Channel, file: string): void {
    const list = this.recording.get(ch) ?? [];
    list.push({ file, startedAt: this.now() });
    this.recording.set(ch, list);
    this.emit('MixMonitorStart', 'call,all', ch.snapshot());
  }

  /** Ends a channel's MixMonitors and writes each file: WAV silence as long as the recording (simulated). */
  stopRecording(ch: Channel): void {
    const list = this.recording.get(ch);
    if (!list) return;
    this.recording.delete(ch);
    this.emit('MixMonitorStop', 'call,all', ch.snapshot());
    for (const rec of list) this.options.writeRecording?.(rec.file, silentWav(Math.min(this.now() - rec.startedAt, 60_000)));
  }

  // ---- bridges ----

  private bridgeFields(b: Bridge): Pairs {
    return [
      ['BridgeUniqueid', b.id],
      ['BridgeType', 'basic'],
      ['BridgeTechnology', 'simple_bridge'],
      ['BridgeCreator', '<unknown>'],
      ['BridgeName', '<unknown>'],
      ['BridgeNumChannels', String(b.channels.length)],
      ['BridgeVideoSourceMode', 'none'],
    ];
  }

  /** Bridges two Up channels (callee enters first, as Dial does). */
  bridge(caller: Channel, callee: Channel): Bridge {
    const b = this.newBridge();
    for (const ch of [callee, caller]) this.enter(b, ch);
    for (const ch of [callee, caller]) ch.onBridged?.(b);
    return b;
  }

  newBridge(): Bridge {
    const b: Bridge = { id: crypto.randomUUID(), channels: [] };
    this.emit('BridgeCreate', 'call,all', this.bridgeFields(b));
    return b;
  }

  bridgeFieldsOf(b: Bridge, prefix = ''): Pairs {
    return this.bridgeFields(b).map(([k, v]): [string, string] => [prefix + k, v]);
  }

  /**
   * A channel enters a bridge. Once in, every channel of the bridge carries the oldest Linkedid among
   * them (a picked-up or transferred leg enters with its own and changes after its BridgeEnter).
   */
  enter(b: Bridge, ch: Channel): void {
    b.channels.push(ch);
    ch.bridge = b;
    ch.lastBridge = b;
    this.emit('BridgeEnter', 'call,all', [...this.bridgeFields(b), ...ch.snapshot()]);
    const oldest = b.channels.map((c) => c.linkedid).sort(compareIds)[0];
    if (oldest) for (const c of b.channels) c.linkedid = oldest;
    for (const w of this.bridgeWaiters.get(b) ?? []) w.watch(ch);
  }

  /** One channel leaves a bridge. */
  leave(b: Bridge, ch: Channel): void {
    b.channels.splice(b.channels.indexOf(ch), 1);
    ch.bridge = undefined;
    this.emit('BridgeLeave', 'call,all', [...this.bridgeFields(b), ...ch.snapshot()]);
  }

  /** A bridge with nobody left in it goes away. */
  destroy(b: Bridge): void {
    this.emit('BridgeDestroy', 'call,all', this.bridgeFields(b));
    this.wakeBridge(b);
  }

  /** Every channel leaves (`first`, the one ending it, before the others) and the bridge is destroyed. */
  dissolve(b: Bridge, first?: Channel): void {
    const members = first ? [first, ...b.channels.filter((c) => c !== first)] : [...b.channels];
    for (const ch of members) this.leave(b, ch);
    this.destroy(b);
  }

  private readonly bridgeWaiters = new Map<Bridge, { watch(ch: Channel): void; done(): void }[]>();

  private wakeBridge(b: Bridge): void {
    const list = this.bridgeWaiters.get(b) ?? [];
    this.bridgeWaiters.delete(b);
    for (const w of list) w.done();
  }

  /**
   * Resolves when the bridge dissolves (Redirect) or one of its parties is on its way out. A party a
   * transfer moved to another bridge no longer counts; one moved in does.
   */
  bridgeEnded(b: Bridge): Promise<void> {
    if (!b.channels.length || b.channels.some((c) => c.gone)) return Promise.resolve();
    return new Promise((resolve) => {
      const offs: (() => void)[] = [];
      let finished = false;
      const w = {
        done: () => {
          if (finished) return;
          finished = true;
          for (const off of offs) off();
          const list = this.bridgeWaiters.get(b);
          if (list) list.splice(list.indexOf(w), 1);
          resolve();
        },
        watch: (ch: Channel) => {
          offs.push(
            ch.onHangup(() => {
              // Still (or last) in this bridge: the call in it is over. Moved elsewhere: not ours.
              if (ch.bridge === b || (ch.bridge === undefined && ch.lastBridge === b)) w.done();
            }),
          );
        },
      };
      const list = this.bridgeWaiters.get(b) ?? [];
      list.push(w);
      this.bridgeWaiters.set(b, list);
      for (const ch of b.channels) w.watch(ch);
    });
  }

  // ---- queues ----

  /** Member headers as the async queue events write them (MemberName, Interface, Ringinuse). */
  memberEvent(m: Member, queue = m.queue): Pairs {
    return [
      ['Queue', queue],
      ['MemberName', m.name],
      ['Interface', m.location],
      ['StateInterface', m.stateInterface],
      ['Membership', m.membership],
      ['Penalty', String(m.penalty)],
      ['CallsTaken', String(m.callsTaken)],
      ['LastCall', String(m.lastCall)],
      ['LastPause', String(m.lastPause)],
      ['LoginTime', String(m.loginTime)],
      ['InCall', m.inCall ? '1' : '0'],
      ['Status', String(m.status)],
      ['Paused', m.paused ? '1' : '0'],
      ['PausedReason', m.pausedReason],
      ['Ringinuse', '0'],
      ['Wrapuptime', '0'],
    ];
  }

  addMember(queue: QueueState, m: Omit<Member, 'queue' | 'status' | 'callsTaken' | 'lastCall' | 'lastPause' | 'loginTime' | 'inCall' | 'membership'>): Member {
    const member: Member = {
      ...m,
      queue: queue.cfg.name,
      membership: 'dynamic',
      callsTaken: 0,
      lastCall: 0,
      lastPause: 0,
      loginTime: Math.floor(this.now() / 1000),
      inCall: false,
      status: this.deviceState(m.stateInterface).member,
    };
    queue.members.push(member);
    this.emit('DeviceStateChange', 'call,all', [
      ['Device', `Queue:${queue.cfg.name}_pause_${member.location}`],
      ['State', member.paused ? 'INUSE' : 'NOT_INUSE'],
    ]);
    this.refreshQueueAvail();
    this.emit('QueueMemberAdded', 'agent,all', this.memberEvent(member));
    return member;
  }

  /**
   * app_queue's set_queue_member_pause. An unpause with a reason carries it in its queue_log line and
   * its QueueMemberPause (PausedReason), then the member's reason is cleared.
   */
  pauseMember(m: Member, paused: boolean, reason: string): void {
    m.paused = paused;
    m.pausedReason = reason;
    if (paused) m.lastPause = Math.floor(this.now() / 1000);
    this.emit('DeviceStateChange', 'call,all', [
      ['Device', `Queue:${m.queue}_pause_${m.location}`],
      ['State', paused ? 'INUSE' : 'NOT_INUSE'],
    ]);
    this.refreshQueueAvail();
    this.queueLog(m.queue, 'NONE', m.name, paused ? 'PAUSE' : 'UNPAUSE', [reason]);
    this.emit('QueueMemberPause', 'agent,all', this.memberEvent(m));
    if (!paused) m.pausedReason = '';
  }
}

