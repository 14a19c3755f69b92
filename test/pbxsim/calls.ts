import type { Channel } from './channel.ts';
import { INTERNAL } from './config.ts';
import type { Pbx } from './pbx.ts';

/**
 * Runs a channel through the dialplan (dialplan.ts `runDialplan`), passed in by the dialplan's own
 * Dial and Queue: the dialplan uses this module, so this module does not import it.
 */
export type DialplanRunner = (pbx: Pbx, ch: Channel, context: string, exten: string) => Promise<void>;

export type LegOutcome = 'ANSWER' | 'BUSY' | 'CHANUNAVAIL';
export type DialStatus = LegOutcome | 'NOANSWER' | 'CANCEL';

/** An outgoing channel that is alerting: a phone, or the ;1 half of a Local channel. */
export interface Leg {
  ch: Channel;
  /** What `DialString` shows: `802`, or `802@agents/n`. */
  dialString: string;
  /** Starts alerting; resolves with how it ended (never, for a phone that rings forever). */
  start(): Promise<LegOutcome>;
}

/** Simulated ms an outside number (dialed over the trunk) rings before it answers. */
export const OUTSIDE_ANSWER_MS = 2000;

type Parsed = { kind: 'phone'; ext: string } | { kind: 'local'; exten: string; context: string } | { kind: 'trunk'; number: string };

/** Parses `SIP/802`, `PJSIP/802`, `Local/802@agents/n`, `SIP/trunk/013800138000`. */
function parseDialString(pbx: Pbx, target: string): Parsed | undefined {
  const slash = target.indexOf('/');
  if (slash < 0) return undefined;
  const tech = target.slice(0, slash);
  const rest = target.slice(slash + 1);
  if (tech === pbx.techOf(rest) && pbx.phones.has(rest)) return { kind: 'phone', ext: rest };
  const [peer = '', number] = rest.split('/');
  if (number && pbx.trunks.includes(peer) && tech === pbx.techOf(peer)) return { kind: 'trunk', number };
  if (tech === 'Local') {
    const m = /^([^@/]+)@([^/]+)(\/n)?$/.exec(rest);
    if (m) return { kind: 'local', exten: m[1] as string, context: m[2] as string };
  }
  return undefined;
}

/**
 * Requests an outgoing channel, as ast_request does: undefined when the technology or resource is
 * unknown or the phone is not registered (no channel is created then).
 */
export function requestLeg(pbx: Pbx, target: string, opts: { linkedid?: string; context: string; exten: string; dialplan: DialplanRunner }): Leg | undefined {
  const parsed = parseDialString(pbx, target);
  if (!parsed) return undefined;
  if (parsed.kind === 'phone') {
    const phone = pbx.phones.get(parsed.ext);
    if (!phone?.registered) return undefined;
    // A new SIP channel starts in its peer's context at `s` (Newchannel), then takes the caller's exten.
    const ch = pbx.newPhoneChannel(parsed.ext, INTERNAL, 's', { linkedid: opts.linkedid, outbound: true });
    ch.exten = opts.exten;
    ch.postsCdr = false;
    ch.running = true;
    ch.app = 'AppDial';
    ch.appData = '(Outgoing Line)';
    return { ch, dialString: parsed.ext, start: () => alertPhone(pbx, ch, parsed.ext) };
  }
  if (parsed.kind === 'trunk') {
    const ch = pbx.newTrunkChannel('<unknown>', '<unknown>', 'from-trunk', 's', { linkedid: opts.linkedid, outbound: true });
    ch.exten = opts.exten;
    ch.postsCdr = false;
    ch.running = true;
    ch.app = 'AppDial';
    ch.appData = '(Outgoing Line)';
    return {
      ch,
      dialString: target.slice(target.indexOf('/') + 1),
      start: () =>
        new Promise<LegOutcome>((resolve) => {
          pbx.setState(ch, 5);
          void pbx.sleep(ch, OUTSIDE_ANSWER_MS).then((ok) => {
            if (!ok || ch.state === 6) return;
            pbx.answer(ch);
            resolve('ANSWER');
          });
        }),
    };
  }
  const [one, two] = pbx.newLocalPair(parsed.exten, parsed.context, opts.linkedid);
  one.postsCdr = false;
  one.running = true;
  return {
    ch: one,
    dialString: target.slice('Local/'.length),
    start: () =>
      new Promise<LegOutcome>((resolve) => {
        two.onAnswer = () => {
          pbx.answer(one);
          resolve('ANSWER');
        };
        two.onBusy = () => resolve('BUSY');
        two.onHangup(() => resolve(two.cause === 17 ? 'BUSY' : 'CHANUNAVAIL'));
        void opts.dialplan(pbx, two, parsed.context, parsed.exten);
      }),
  };
}

/** The phone's behaviour from the fixtures' table (or as a test changed it). */
function alertPhone(pbx: Pbx, ch: Channel, ext: string): Promise<LegOutcome> {
  const phone = pbx.phones.get(ext);
  return new Promise((resolve) => {
    if (!phone || phone.busy) {
      ch.techCause = 486;
      pbx.clock.after(0, () => resolve('BUSY'));
      return;
    }
    pbx.setState(ch, 5);
    // A directed pickup answers the leg in the phone's place (pickup.ts).
    ch.pickedUp = () => resolve('ANSWER');
    if (phone.answerAfterMs === null) return;
    void pbx.sleep(ch, phone.answerAfterMs).then((ok) => {
      if (!ok || ch.state === 6) return;
      pbx.answer(ch);
      resolve('ANSWER');
      if (phone.hangupAfterMs !== null) {
        void pbx.sleep(ch, phone.hangupAfterMs).then((still) => {
          if (still) pbx.softHangup(ch, 16, 'HangupRequest');
        });
      }
    });
  });
}

/** Races a leg's outcome against a timeout, the caller hanging up, and the leg being hung up. */
export function raceLeg(pbx: Pbx, caller: Channel | undefined, leg: Channel, outcome: Promise<LegOutcome>, timeoutMs: number | undefined): Promise<DialStatus> {
  return new Promise((resolve) => {
    let done = false;
    const offs: (() => void)[] = [];
    let timer: { cancel(): void } | undefined;
    const finish = (s: DialStatus) => {
      if (done) return;
      done = true;
      timer?.cancel();
      for (const off of offs) off();
      resolve(s);
    };
    if (caller?.gone) return finish('CANCEL');
    if (caller) offs.push(caller.onHangup(() => finish('CANCEL')));
    offs.push(leg.onHangup(() => finish(leg.cause === 17 ? 'BUSY' : 'CHANUNAVAIL')));
    if (!done && timeoutMs !== undefined) timer = pbx.clock.after(timeoutMs, () => finish('NOANSWER'));
    void outcome.then(finish);
  });
}

/** DialBegin/DialState/DialEnd carry the caller's snapshot (none for an originated leg) and the callee's as Dest*. */
export function dialEvent(pbx: Pbx, event: 'DialBegin' | 'DialState' | 'DialEnd', caller: Channel | undefined, leg: Leg, extra: [string, string][]): void {
  pbx.emit(event, 'call,all', [...(caller ? caller.snapshot() : []), ...leg.ch.snapshot('Dest'), ...extra]);
}

/** Ends a leg that will not be bridged, with the causes the recordings show for each ending. */
export function dropLeg(pbx: Pbx, leg: Leg, status: DialStatus, caller?: Channel): void {
  if (leg.ch.localPeer) pbx.hangup(leg.ch, 0);
  else if (status === 'BUSY') pbx.hangup(leg.ch, 17, 486);
  // A phone caller cancelled: PJSIP reports 127 with the callee's 500 (pjsip/23), chan_sip a plain 16;
  // a Local caller going away is a plain 16 on both (25).
  else if (status === 'CANCEL' && pbx.driverOfChannel(leg.ch) === 'pjsip' && caller?.device) pbx.hangup(leg.ch, 127, 500);
  // A ring timeout: chan_sip says 16, PJSIP 0 (chan_sip/22, pjsip/22).
  else if (status === 'NOANSWER' && pbx.driverOfChannel(leg.ch) === 'pjsip') pbx.hangup(leg.ch, 0);
  else pbx.hangup(leg.ch, 16);
}

/**
 * The Dial application: rings target, bridges on answer and returns when the bridge ends, so the
 * caller's dialplan carries on (and hangs up) as Asterisk's does.
 */
export async function dial(pbx: Pbx, caller: Channel, target: string, timeoutS: number | undefined, dialplan: DialplanRunner): Promise<DialStatus> {
  const data = timeoutS === undefined ? target : `${target},${timeoutS}`;
  pbx.setApp(caller, 'Dial', data);
  const leg = requestLeg(pbx, target, { linkedid: caller.linkedid, context: caller.context, exten: caller.exten, dialplan });
  if (!leg) {
    caller.vars.set('DIALSTATUS', 'CHANUNAVAIL');
    return 'CHANUNAVAIL';
  }
  const callee = leg.ch;
  // chan_sip places the call (DialBegin) after ast_request returned the channel: whatever else was
  // under way gets in between (a transferer's leg ending, 33).
  await pbx.tick();
  pbx.setConnected(callee, caller.callerNum, caller.callerName);
  const rec = pbx.cdrDial(caller, callee.name, 'Dial', data);
  dialEvent(pbx, 'DialBegin', caller, leg, [['DialString', leg.dialString]]);
  pbx.setConnected(caller, callee.callerNum, callee.callerName);
  const outcome = leg.start();
  if (callee.state === 5) {
    // A Local ;2 that dials a ringing phone makes its ;1 ring too (the queue sees the member ringing).
    if (caller.localPeer) pbx.setState(caller.localPeer, 5);
    dialEvent(pbx, 'DialState', caller, leg, [['DialStatus', 'RINGING']]);
    // An attended transfer's consult leg (;1) was requested without a caller: Dest* only (35).
    const one = caller.localPeer;
    if (one?.consultLeg) dialEvent(pbx, 'DialState', undefined, { ch: one, dialString: '', start: () => Promise.resolve('ANSWER') }, [['DialStatus', 'RINGING']]);
  }
  const status = await raceLeg(pbx, caller, callee, outcome, timeoutS === undefined ? undefined : timeoutS * 1000);
  caller.vars.set('DIALSTATUS', status);
  dialEvent(pbx, 'DialEnd', caller, leg, [['DialStatus', status]]);
  if (status !== 'ANSWER') {
    dropLeg(pbx, leg, status, caller);
    if (status === 'BUSY' && !caller.gone) {
      caller.cause = 17;
      caller.techCause = 486;
    }
    pbx.cdrDialEnd(caller, rec, status === 'BUSY' ? 'BUSY' : 'NO ANSWER', true);
    return status;
  }
  pbx.answer(caller);
  rec.answer ??= pbx.now();
  const b = pbx.newBridge();
  caller.onBridgeCreated?.();
  // Dial's answered leg leaves its exten behind when it is bridged (35: `Exten: ` on its BridgeEnter).
  callee.exten = '';
  for (const ch of [callee, caller]) pbx.enter(b, ch);
  if (caller.vars.get('BLINDTRANSFER')) pbx.varSet(caller, 'BLINDTRANSFER', '');
  for (const ch of [callee, caller]) ch.onBridged?.(b);
  await pbx.bridgeEnded(b);
  pbx.cdrDialEnd(caller, rec, 'ANSWERED', false);
  // A transfer may have put someone else in the callee's place (35).
  const partner = b.channels.find((c) => c !== caller && !c.hungUp) ?? callee;
  endBridgedCall(pbx, caller, partner, dialplan);
  return status;
}

/**
 * Ends a bridged call in the order the recordings show. A party whose phone hung up (BYE) leaves and
 * hangs up first (chan_sip/20, 24, 27). A caller hung up by AMI was already taken out of the bridge,
 * so the callee goes first (32). When the callee went, the caller's dialplan carries on; after a
 * Redirect the callee is hung up unless it was the one redirected (13).
 */
export function endBridgedCall(pbx: Pbx, caller: Channel, callee: Channel, dialplan: DialplanRunner): void {
  if (callee.gone) {
    if (!callee.hungUp) pbx.hangup(callee, callee.cause);
    return;
  }
  if (caller.gone && caller.bridge) {
    pbx.hangup(caller, caller.cause);
    releaseCallee(pbx, callee, dialplan);
    return;
  }
  releaseCallee(pbx, callee, dialplan);
  if (caller.gone && !caller.hungUp) pbx.hangup(caller, caller.cause);
}

/** After a bridge ends, the callee hangs up, unless Redirect sent it elsewhere in the dialplan. */
function releaseCallee(pbx: Pbx, callee: Channel, dialplan: DialplanRunner): void {
  if (callee.hungUp) return;
  const r = callee.redirect;
  if (r) void dialplan(pbx, callee, r.context, r.exten);
  else pbx.hangup(callee, 16);
}
