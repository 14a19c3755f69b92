import type { Pairs } from './wire.ts';

const STATE_DESC: Record<number, string> = { 0: 'Down', 4: 'Ring', 5: 'Ringing', 6: 'Up' };

/** One CDR record a channel will post at hangup (a failed Dial followed by more dialplan makes two). */
export interface CdrRecord {
  start: number;
  answer?: number;
  end?: number;
  destination: string;
  destinationContext: string;
  destinationChannel: string;
  lastApp: string;
  lastData: string;
  disposition?: 'ANSWERED' | 'NO ANSWER' | 'BUSY' | 'FAILED';
  /** cdr.c's sequence of the CDR object (Master.csv's `sequence` column with newcdrcolumns). */
  sequence: number;
}

/** A live channel: its snapshot fields, and what its dialplan is waiting for. */
export class Channel {
  state = 0;
  priority = 1;
  answeredAt: number | undefined;
  hungUp = false;
  /** A hangup was asked for while the channel runs dialplan: it unwinds, then hangs up (Asterisk's soft hangup). */
  hangupRequested = false;
  /**
   * Something owns its teardown (its dialplan, or the Dial/Queue/Originate that created it), so a
   * hangup request only flags it and wakes that owner, which hangs it up in Asterisk's order.
   */
  running = false;
  onHold = false;
  /** An outgoing leg that is still alerting: its device reads RINGING, not INUSE. */
  outbound = false;
  bridge: Bridge | undefined;
  /** The bridge it was last in (a hangup that leaves first still ends the call there). */
  lastBridge: Bridge | undefined;
  /** False for a Dial's or a queue's outgoing leg: its call is on the caller's CDR, not its own. */
  postsCdr = true;
  /** The other half of a Local channel pair. */
  localPeer: Channel | undefined;
  app = '';
  appData = '';
  readonly vars = new Map<string, string>();
  readonly cdrs: CdrRecord[] = [];
  /** The sequence cdr.c gave the channel's CDR object when the channel appeared, until a record takes it. */
  cdrSequence: number | undefined;
  /** Hangup cause the channel will report. */
  cause = 16;
  techCause: number | undefined;
  /** Set by Redirect: the dialplan position to jump to instead of carrying on. */
  redirect: { context: string; exten: string } | undefined;
  /** Called when the channel is answered (a Local ;2 answering answers its ;1). */
  onAnswer: (() => void) | undefined;
  /** Waiting in, or connected by, the Queue application. */
  inQueue = false;
  /** Called when the dialplan signals busy without hanging up (Busy() in a Local ;2). */
  onBusy: (() => void) | undefined;
  /** Set while a phone leg rings: a directed pickup calls it to answer the leg in the phone's place. */
  pickedUp: (() => void) | undefined;
  /** The next dialplan step's Newexten reports the application the channel was running before (33). */
  staleNewexten = false;
  /** Runs dialplan (not a Dial's or a queue's outgoing leg). */
  inDialplan = false;
  /** Its phone hung up while it ran dialplan: a SoftHangupRequest precedes its Hangup. */
  byeInDialplan = false;
  /** The ;1 of an attended transfer's consult call: its Dial events carry Dest* only (35). */
  consultLeg = false;
  /** Called by Dial right after it creates the bridge (an attended transfer's ;2 answers its ;1 then). */
  onBridgeCreated: (() => void) | undefined;
  /**
   * Called instead of the usual handling when a hangup is asked for (a transferer in an attended
   * transfer completes it by hanging up); returns true when it took care of it.
   */
  onHangupRequest: ((event: 'SoftHangupRequest' | 'HangupRequest') => boolean) | undefined;
  /** Set on a bridged leg by app_queue: an AMI BlindTransfer of it ends the member's call with Reason transfer. */
  transferred = false;
  /** Called once when the channel starts ringing (state 5). */
  onRinging: (() => void) | undefined;
  /** Called when the channel enters a bridge (scenarios time the talk from here). */
  onBridged: ((b: Bridge) => void) | undefined;
  private readonly wakers = new Set<() => void>();

  constructor(
    /** Mutable only by a masquerade (directed pickup), which swaps names, ids and devices. */
    public name: string,
    /** `SIP/805`: the device this channel belongs to, for device and extension state. */
    public device: string | undefined,
    public uniqueid: string,
    public linkedid: string,
    public callerNum: string,
    public callerName: string,
    public context: string,
    public exten: string,
    readonly createdAt: number,
  ) {}

  connectedNum = '<unknown>';
  connectedName = '<unknown>';

  /** Hung up, or on its way out. */
  get gone(): boolean {
    return this.hungUp || this.hangupRequested;
  }

  get stateDesc(): string {
    return STATE_DESC[this.state] ?? 'Unknown';
  }

  /** The channel snapshot every call event carries, with an optional prefix (Dest, Spyer, LocalOne ...). */
  snapshot(prefix = ''): Pairs {
    return [
      [`${prefix}Channel`, this.name],
      [`${prefix}ChannelState`, String(this.state)],
      [`${prefix}ChannelStateDesc`, this.stateDesc],
      [`${prefix}CallerIDNum`, this.callerNum],
      [`${prefix}CallerIDName`, this.callerName],
      [`${prefix}ConnectedLineNum`, this.connectedNum],
      [`${prefix}ConnectedLineName`, this.connectedName],
      [`${prefix}Language`, 'en'],
      [`${prefix}AccountCode`, ''],
      [`${prefix}Context`, this.context],
      [`${prefix}Exten`, this.exten],
      [`${prefix}Priority`, String(this.priority)],
      [`${prefix}Uniqueid`, this.uniqueid],
      [`${prefix}Linkedid`, this.linkedid],
    ];
  }

  /** Calls fn once when the channel hangs up or is interrupted (at once if it already hung up); returns an unsubscribe. */
  onHangup(fn: () => void): () => void {
    if (this.hungUp) {
      fn();
      return () => {};
    }
    this.wakers.add(fn);
    return () => this.wakers.delete(fn);
  }

  /** Wakes whatever waits on this channel. Only the PBX's hangup path calls it. */
  markHungUp(): void {
    this.hungUp = true;
    this.interrupt();
  }

  /** Wakes whatever waits on this channel without hanging it up (Redirect does this). */
  interrupt(): void {
    const ws = [...this.wakers];
    this.wakers.clear();
    for (const w of ws) w();
  }
}

/** A transfer that moved a party out of (blind) or merged another bridge into (attended) a bridge. */
export type BridgeTransfer = { kind: 'blind'; exten: string; context: string } | { kind: 'attended'; destBridge: string };

export interface Bridge {
  id: string;
  channels: Channel[];
  /** The first successful transfer in this bridge (app_queue logs BLINDTRANSFER/ATTENDEDTRANSFER from it). */
  transfer?: BridgeTransfer;
  /** Called once an attended transfer has merged another bridge into this one (app_queue listens). */
  onAttendedTransfer?: () => void;
}
