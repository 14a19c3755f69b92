import type { Channel } from './channel.ts';
import { FROM_TRUNK, INTERNAL } from './config.ts';
import { SimError } from './errors.ts';
import { IVR_STEPS_VAR, runDialplan } from './dialplan.ts';
import type { Pbx } from './pbx.ts';
import { pickupTarget } from './pickup.ts';
import { atxfer, blindTransfer } from './transfer.ts';

export interface InboundCallOptions {
  /** A phone (`806`) or an outside number (`13800138000`, arrives on `SIP/trunk-...`). */
  from: string;
  /** Caller ID name of an outside number. */
  fromName?: string;
  /** What the caller dials in `internal`: an extension, a queue (630, 631) or the IVR (700). */
  to: string;
  /** The caller gives up this many simulated ms after dialing, if still on the line. */
  hangupAfterMs?: number;
  /** Once bridged, the call lasts this many simulated ms, then `hangupBy` hangs up. */
  talkMs?: number;
  hangupBy?: 'caller' | 'callee';
  /** IVR only: the UserEvent headers of each step; the last step's `Target` is the queue it goes to. */
  ivrSteps?: Record<string, string>[];
}

export interface ScenarioHandle {
  channel: string;
  uniqueid: string;
  linkedid: string;
  /** Resolves when every channel of the call has hung up. */
  done: Promise<void>;
}

export interface TrunkCallOptions extends Omit<InboundCallOptions, 'to' | 'ivrSteps'> {
  /** The number dialed (DID), run in context from-trunk: 4001 goes to queue 630. */
  did: string;
}

/** A call no AMI action starts: a phone or an outside caller dials into the dialplan. */
export function inboundCall(pbx: Pbx, o: InboundCallOptions): ScenarioHandle {
  const phone = pbx.phones.get(o.from);
  if (phone && !phone.registered) throw new SimError('SIM_NOT_REGISTERED', `phone ${o.from} is not registered`);
  const ch = phone ? pbx.newPhoneChannel(o.from, INTERNAL, o.to) : pbx.newTrunkChannel(o.from, o.fromName ?? o.from, INTERNAL, o.to);
  if (o.ivrSteps) ch.vars.set(IVR_STEPS_VAR, JSON.stringify(o.ivrSteps));
  pbx.setState(ch, 4);
  return play(pbx, ch, o, INTERNAL, o.to);
}

/**
 * A call from the `trunk` peer (a carrier or PSTN gateway) to a DID, as recording 39: context
 * from-trunk, the caller's number as CallerIDNum, no name unless given, and no UserEvent.
 */
export function trunkCall(pbx: Pbx, o: TrunkCallOptions): ScenarioHandle {
  const ch = pbx.newTrunkChannel(o.from, o.fromName ?? '<unknown>', FROM_TRUNK, o.did);
  return play(pbx, ch, o, FROM_TRUNK, o.did);
}

export interface PickupOptions {
  /** The phone that dials `*8<target>`. */
  by: string;
  /** The extension whose ringing leg it takes. */
  target: string;
  /** Once bridged, the call lasts this many simulated ms, then `hangupBy` hangs up (default: the picker). */
  talkMs?: number;
  hangupBy?: 'picker' | 'caller';
}

/** Directed pickup (pickup.ts): `by` dials `*8<target>` while `target` rings; throws when nothing rings there. */
export function pickup(pbx: Pbx, o: PickupOptions): ScenarioHandle {
  const leg = pickupTarget(pbx, pbx.deviceOf(o.target));
  if (!leg) throw new SimError('SIM_NO_CHANNEL', `nothing rings on ${pbx.deviceOf(o.target)}`);
  // The leg is moved to the picker's identity and answered; time the talk from its bridge.
  if (o.talkMs !== undefined) hangUpAfterTalk(pbx, leg, o.talkMs, o.hangupBy === 'caller');
  const linkedid = leg.linkedid;
  const h = inboundCall(pbx, { from: o.by, to: `*8${o.target}` });
  return { ...h, done: pbx.whenGone((c) => c.uniqueid === h.uniqueid || c.linkedid === linkedid || c.linkedid === h.linkedid) };
}

/** The live channel of a phone (its newest), or a channel by name. */
export function channelOf(pbx: Pbx, target: string): Channel {
  const ch = pbx.channels.get(target) ?? [...pbx.channels.values()].reverse().find((c) => c.device === pbx.deviceOf(target) && !c.gone);
  if (!ch) throw new SimError('SIM_NO_CHANNEL', `no live channel for ${target}`);
  return ch;
}

/** The phone hangs up (a BYE, or a CANCEL while it rings out): HangupRequest, as phones do. */
export function phoneHangup(pbx: Pbx, target: string): Channel {
  const ch = channelOf(pbx, target);
  bye(pbx, ch);
  return ch;
}

/** A BYE from the channel's phone; app_queue's caller hangs up with no cause of its own (chan_sip/25, 27). */
function bye(pbx: Pbx, ch: Channel): void {
  pbx.softHangup(ch, ch.inQueue ? 0 : 16, 'HangupRequest');
}

/** Once `ch` is bridged the call lasts `talkMs` (simulated), then `ch`, or the other party, hangs up. */
function hangUpAfterTalk(pbx: Pbx, ch: Channel, talkMs: number, otherHangsUp: boolean): void {
  ch.onBridged = (b) => {
    void pbx.sleep(ch, talkMs).then((alive) => {
      if (!alive || ch.bridge !== b) return;
      const other = b.channels.find((c) => c !== ch);
      bye(pbx, otherHangsUp && other ? other : ch);
    });
  };
}

/** AMI BlindTransfer / Atxfer of a phone's (or a named) channel, without going through AMI. */
export function transfer(pbx: Pbx, kind: 'blind' | 'attended', target: string, exten: string, context = INTERNAL): Channel {
  const ch = channelOf(pbx, target);
  if (kind === 'blind') {
    if (blindTransfer(pbx, ch, exten, context) !== 'Transfer succeeded') throw new SimError('SIM_NO_CHANNEL', `${ch.name} is not in a call`);
  } else if (!atxfer(pbx, ch, exten, context)) throw new SimError('SIM_NO_CHANNEL', `${ch.name} is not in a call`);
  return ch;
}

function play(pbx: Pbx, ch: Channel, o: Omit<InboundCallOptions, 'to'>, context: string, exten: string): ScenarioHandle {
  if (o.hangupAfterMs !== undefined) {
    void pbx.sleep(ch, o.hangupAfterMs).then((alive) => {
      if (!alive) return;
      if (ch.state === 6) return bye(pbx, ch);
      // A CANCEL before answer: chan_sip reports cause 0, PJSIP 127 with the 487 it answered (23).
      const pjsip = pbx.driverOfChannel(ch) === 'pjsip';
      if (pjsip) ch.techCause = 487;
      pbx.softHangup(ch, pjsip ? 127 : 0, 'HangupRequest');
    });
  }
  if (o.talkMs !== undefined) hangUpAfterTalk(pbx, ch, o.talkMs, o.hangupBy === 'callee');
  // Taken before the dialplan runs: a pickup's masquerade renames the struct at once.
  const handle = { channel: ch.name, uniqueid: ch.uniqueid, linkedid: ch.linkedid };
  void runDialplan(pbx, ch, context, exten);
  return { ...handle, done: pbx.whenCallEnds(handle.linkedid) };
}

/** Puts a phone's call on hold or takes it off (a re-INVITE with sendonly / sendrecv). */
export function hold(pbx: Pbx, target: string, on: boolean): Channel {
  const ch = pbx.channels.get(target) ?? [...pbx.channels.values()].find((c) => c.device === pbx.deviceOf(target));
  if (!ch) throw new SimError('SIM_NO_CHANNEL', `no live channel for ${target}`);
  if (ch.onHold === on) return ch;
  ch.onHold = on;
  pbx.emit(on ? 'Hold' : 'Unhold', 'call,all', on ? [...ch.snapshot(), ['MusicClass', 'default']] : ch.snapshot());
  pbx.refreshDevice(ch.device);
  return ch;
}

/** A phone registers or unregisters, with the events of the driver in use. */
export function register(pbx: Pbx, ext: string, on: boolean): void {
  const phone = pbx.phones.get(ext);
  if (!phone) throw new SimError('SIM_NO_PHONE', `no phone ${ext}`);
  if (phone.registered === on) return;
  phone.registered = on;
  const peer = pbx.deviceOf(ext);
  const tech = pbx.techOf(ext);
  const uri = `sip:${ext}@127.0.0.1:5070`;
  const contact = (status: string, rtt: string) =>
    pbx.emit('ContactStatus', 'system,all', [
      ['URI', uri],
      ['ContactStatus', status],
      ['AOR', ext],
      ['EndpointName', ext],
      ['RoundtripUsec', rtt],
    ]);
  const peerStatus = (status: string, extra: [string, string][] = []) =>
    pbx.emit('PeerStatus', 'system,all', [['ChannelType', tech], ['Peer', peer], ['PeerStatus', status], ...extra]);
  if (pbx.driverOf(ext) === 'sip') {
    if (on) {
      peerStatus('Registered', [['Address', '127.0.0.1:5070']]);
      pbx.refreshDevice(peer);
      peerStatus('Reachable');
    } else {
      peerStatus('Unregistered', [['Cause', 'Expired']]);
      pbx.refreshDevice(peer);
    }
    return;
  }
  if (on) {
    contact('NonQualified', '0');
    peerStatus('Reachable');
    contact('Reachable', '346');
    pbx.refreshDevice(peer);
  } else {
    peerStatus('Unreachable');
    pbx.refreshDevice(peer);
    contact('Removed', '0');
  }
}
