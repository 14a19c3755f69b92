import type { Channel } from './channel.ts';
import { INTERNAL } from './config.ts';
import { SimError } from './errors.ts';
import { IVR_STEPS_VAR, runDialplan } from './dialplan.ts';
import type { Pbx } from './pbx.ts';

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

/** A call no AMI action starts: a phone or an outside caller dials into the dialplan. */
export function inboundCall(pbx: Pbx, o: InboundCallOptions): ScenarioHandle {
  const phone = pbx.phones.get(o.from);
  if (phone && !phone.registered) throw new SimError('SIM_NOT_REGISTERED', `phone ${o.from} is not registered`);
  const ch = phone ? pbx.newPhoneChannel(o.from, INTERNAL, o.to) : pbx.newTrunkChannel(o.from, o.fromName ?? o.from, INTERNAL, o.to);
  if (o.ivrSteps) ch.vars.set(IVR_STEPS_VAR, JSON.stringify(o.ivrSteps));
  pbx.setState(ch, 4);
  if (o.hangupAfterMs !== undefined) {
    void pbx.sleep(ch, o.hangupAfterMs).then((alive) => {
      if (!alive) return;
      // app_queue's caller hangs up with no cause of its own (chan_sip/25, 27).
      if (ch.state === 6) return pbx.softHangup(ch, ch.inQueue ? 0 : 16, 'HangupRequest');
      // A CANCEL before answer: chan_sip reports cause 0, PJSIP 127 with the 487 it answered (23).
      if (pbx.driver === 'pjsip') ch.techCause = 487;
      pbx.softHangup(ch, pbx.driver === 'pjsip' ? 127 : 0, 'HangupRequest');
    });
  }
  if (o.talkMs !== undefined) {
    const talkMs = o.talkMs;
    ch.onBridged = (b) => {
      void pbx.sleep(ch, talkMs).then((alive) => {
        if (!alive || ch.bridge !== b) return;
        const other = b.channels.find((c) => c !== ch);
        const who = o.hangupBy === 'callee' && other ? other : ch;
        pbx.softHangup(who, who.inQueue ? 0 : 16, 'HangupRequest');
      });
    };
  }
  void runDialplan(pbx, ch, INTERNAL, o.to);
  return { channel: ch.name, uniqueid: ch.uniqueid, linkedid: ch.linkedid, done: pbx.whenCallEnds(ch.linkedid) };
}

/** Puts a phone's call on hold or takes it off (a re-INVITE with sendonly / sendrecv). */
export function hold(pbx: Pbx, target: string, on: boolean): Channel {
  const ch = pbx.channels.get(target) ?? [...pbx.channels.values()].find((c) => c.device === `${pbx.tech}/${target}`);
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
  const peer = `${pbx.tech}/${ext}`;
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
    pbx.emit('PeerStatus', 'system,all', [['ChannelType', pbx.tech], ['Peer', peer], ['PeerStatus', status], ...extra]);
  if (pbx.driver === 'sip') {
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
