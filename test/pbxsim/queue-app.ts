import type { Bridge, Channel } from './channel.ts';
import { dialEvent, dropLeg, endBridgedCall, raceLeg, requestLeg, type DialplanRunner, type DialStatus, type Leg } from './calls.ts';
import { olderThan } from './config.ts';
import type { Member, Pbx, QueueState } from './pbx.ts';

interface Attempt {
  member: Member;
  leg: Leg;
  startedAt: number;
  rec: ReturnType<Pbx['cdrDial']>;
  outcome: Promise<DialStatus>;
}

/** Members that may be rung now: logged in, not paused, and idle (ringinuse=no). */
function available(pbx: Pbx, q: QueueState): Member[] {
  return q.members.filter((m) => !m.paused && pbx.deviceState(m.stateInterface).member === 1);
}

/**
 * Who rings this round, among the free members of the lowest penalty: all of them for ringall, the
 * next in turn for rrmemory, the first for linear.
 */
function pick(pbx: Pbx, q: QueueState): Member[] {
  const all = available(pbx, q);
  const lowest = Math.min(...all.map((m) => m.penalty));
  const free = all.filter((m) => m.penalty === lowest);
  // app_queue puts each call attempt at the head of its list, so ringall rings the members in the
  // reverse of their container order: 800 before 801 in 630 (33, 39, 40).
  if (free.length === 0 || q.cfg.strategy === 'ringall') return free.reverse();
  if (q.cfg.strategy === 'linear') return free.slice(0, 1);
  for (let i = 0; i < q.members.length; i++) {
    const m = q.members[(q.rrNext + i) % q.members.length] as Member;
    if (free.includes(m)) {
      q.rrNext = (q.members.indexOf(m) + 1) % q.members.length;
      return [m];
    }
  }
  return [];
}

const queueEvent = (pbx: Pbx, event: string, caller: Channel, extra: [string, string][]) =>
  pbx.emit(event, 'agent,all', [...caller.snapshot(), ...extra]);

const agentEvent = (pbx: Pbx, event: string, caller: Channel, a: Attempt, extra: [string, string][]) =>
  pbx.emit(event, 'agent,all', [
    ...caller.snapshot(),
    ...a.leg.ch.snapshot('Dest'),
    ['Queue', a.member.queue],
    ['Interface', a.member.location],
    ['MemberName', a.member.name],
    ...extra,
  ]);

/**
 * app_queue's `time(NULL) - start`: whole seconds between two moments, each cut to its second. HoldTime,
 * TalkTime and the waits in queue_log are all counted this way, in events and log alike.
 */
const secsBetween = (fromMs: number, toMs: number) => Math.floor(toMs / 1000) - Math.floor(fromMs / 1000);

/** A caller in one queue: what every queue_log line of its call repeats. */
interface QueueCall {
  q: QueueState;
  caller: Channel;
  /** The caller's uniqueid: queue_log's callid. */
  callid: string;
  joinedAt: number;
  /** Where it joined (qe->opos): ENTERQUEUE's position and the last field of COMPLETE* and *TRANSFER. */
  position: number;
  dialplan: DialplanRunner;
}

/**
 * Queue(name,t,,,timeout): the caller waits with music on hold while members ring in rounds of
 * `timeout` seconds with `retry` seconds between them, until one answers, the caller hangs up
 * (QueueCallerAbandon) or the queue's own timeout ends the wait.
 */
export async function queueApp(pbx: Pbx, caller: Channel, name: string, timeoutS: number, dialplan: DialplanRunner): Promise<void> {
  const q = pbx.queues.get(name);
  if (!q) {
    pbx.varSet(caller, 'QUEUESTATUS', 'UNKNOWN');
    return;
  }
  // joinempty = no (penalty,invalid,paused): with no member that is logged in and unpaused, the caller
  // is refused before joining, with no queue event at all (37).
  if (q.cfg.joinEmpty === false && !q.members.some((m) => !m.paused && m.status !== 5)) {
    pbx.varSet(caller, 'QUEUESTATUS', 'JOINEMPTY');
    return;
  }
  const joinedAt = pbx.now();
  caller.inQueue = true;
  q.callers.push({ ch: caller, joinedAt });
  const position = q.callers.length;
  queueEvent(pbx, 'QueueCallerJoin', caller, [
    ['Queue', name],
    ['Position', String(position)],
    ['Count', String(q.callers.length)],
  ]);
  const call: QueueCall = { q, caller, callid: caller.uniqueid, joinedAt, position, dialplan };
  // ENTERQUEUE url|callerid number|position (the dialplan's Queue() passes no URL).
  const enter: (string | number)[] = ['', caller.callerNum === '<unknown>' ? '' : caller.callerNum, position];
  if (pbx.queueLogOptions.logCallerIdName) enter.push(caller.callerName === '<unknown>' ? '' : caller.callerName.replaceAll('|', '_'));
  pbx.queueLog(name, call.callid, 'NONE', 'ENTERQUEUE', enter);
  pbx.emit('MusicOnHoldStart', 'call,all', [...caller.snapshot(), ['Class', 'default']]);
  const leave = () => {
    const pos = q.callers.findIndex((e) => e.ch === caller) + 1;
    q.callers = q.callers.filter((e) => e.ch !== caller);
    return pos;
  };
  const deadline = joinedAt + timeoutS * 1000;

  while (!caller.gone && pbx.now() < deadline) {
    const members = pick(pbx, q);
    if (members.length === 0) {
      await pbx.sleep(caller, Math.min(q.cfg.retry * 1000, Math.max(0, deadline - pbx.now())));
      continue;
    }
    const attempts: Attempt[] = [];
    for (const member of members) {
      const leg = requestLeg(pbx, member.location, { linkedid: caller.linkedid, context: caller.context, exten: caller.exten, dialplan });
      if (!leg) continue;
      pbx.setConnected(leg.ch, caller.callerNum, caller.callerName);
      const rec = pbx.cdrDial(caller, leg.ch.name, 'Queue', `${name},t,,,${timeoutS}`);
      rec.disposition = 'NO ANSWER';
      const a: Attempt = { member, leg, startedAt: pbx.now(), rec, outcome: Promise.resolve('CHANUNAVAIL') };
      agentEvent(pbx, 'AgentCalled', caller, a, []);
      dialEvent(pbx, 'DialBegin', caller, leg, [['DialString', leg.dialString]]);
      attempts.push(a);
    }
    const ringMs = Math.round(Math.min(q.cfg.timeout * 1000, Math.max(0, deadline - pbx.now())));
    for (const a of attempts) {
      a.outcome = raceLeg(pbx, caller, a.leg.ch, a.leg.start(), ringMs);
      const ringing = () => dialEvent(pbx, 'DialState', caller, a.leg, [['DialStatus', 'RINGING']]);
      // A Local member rings once its ;2 has placed its own call.
      if (a.leg.ch.state === 5) ringing();
      else a.leg.ch.onRinging = ringing;
    }
    const winner = await firstAnswer(attempts);
    if (winner) return connect(pbx, call, winner, attempts, leave);
    // Nobody answered this round (or the caller hung up).
    for (const a of attempts) {
      const status = await a.outcome;
      if (!caller.gone && status === 'NOANSWER') {
        // rna(orig, ...): a round that timed out rang for exactly its timeout, in ms (25: 10000).
        agentEvent(pbx, 'AgentRingNoAnswer', caller, a, [['RingTime', String(ringMs)]]);
        pbx.queueLog(name, call.callid, a.member.name, 'RINGNOANSWER', [ringMs]);
      }
      dialEvent(pbx, 'DialEnd', caller, a.leg, [['DialStatus', caller.gone ? 'CANCEL' : status]]);
      dialEvent(pbx, 'DialEnd', caller, a.leg, [['DialStatus', 'CANCEL']]);
      // The caller hung up while this member still rang: wait_for_answer logs RINGCANCELED with the ms
      // it rang (Asterisk 15 and later).
      if (caller.gone && status === 'CANCEL' && !olderThan(pbx.version, 15, 0))
        pbx.queueLog(name, call.callid, a.member.name, 'RINGCANCELED', [Math.floor(pbx.now() - a.startedAt)]);
      dropLeg(pbx, a.leg, status, caller);
      pbx.cdrDialEnd(caller, a.rec, 'NO ANSWER', false);
    }
    if (caller.gone) break;
    await pbx.sleep(caller, q.cfg.retry * 1000);
  }

  caller.inQueue = false;
  if (caller.gone) {
    pbx.emit('MusicOnHoldStop', 'call,all', caller.snapshot());
    const pos = leave();
    q.abandoned++;
    const waited = secsBetween(joinedAt, pbx.now());
    queueEvent(pbx, 'QueueCallerAbandon', caller, [
      ['Queue', name],
      ['Position', String(pos)],
      ['OriginalPosition', String(position)],
      ['HoldTime', String(waited)],
    ]);
    pbx.queueLog(name, call.callid, 'NONE', 'ABANDON', [pos, position, waited]);
    queueEvent(pbx, 'QueueCallerLeave', caller, [
      ['Queue', name],
      ['Position', String(pos)],
      ['Count', String(q.callers.length)],
    ]);
    return;
  }
  pbx.emit('MusicOnHoldStop', 'call,all', caller.snapshot());
  const pos = leave();
  pbx.queueLog(name, call.callid, 'NONE', 'EXITWITHTIMEOUT', [pos, position, secsBetween(joinedAt, pbx.now())]);
  queueEvent(pbx, 'QueueCallerLeave', caller, [
    ['Queue', name],
    ['Position', String(pos)],
    ['Count', String(q.callers.length)],
  ]);
  pbx.varSet(caller, 'QUEUESTATUS', 'TIMEOUT');
}

/** The first attempt that answers, or undefined once every attempt has ended otherwise. */
function firstAnswer(attempts: Attempt[]): Promise<Attempt | undefined> {
  return new Promise((resolve) => {
    let left = attempts.length;
    if (left === 0) resolve(undefined);
    for (const a of attempts) {
      void a.outcome.then((s) => {
        if (s === 'ANSWER') resolve(a);
        else if (--left === 0) resolve(undefined);
      });
    }
  });
}

async function connect(pbx: Pbx, call: QueueCall, winner: Attempt, attempts: Attempt[], leave: () => number): Promise<void> {
  const { q, caller, joinedAt } = call;
  const agent = winner.leg.ch;
  dialEvent(pbx, 'DialEnd', caller, winner.leg, [['DialStatus', 'ANSWER']]);
  for (const a of attempts) {
    if (a === winner) continue;
    // app_queue ends each losing leg twice over (chan_sip/24, 27): once for the hangup, once for Dial.
    dialEvent(pbx, 'DialEnd', caller, a.leg, [['DialStatus', 'CANCEL']]);
    dialEvent(pbx, 'DialEnd', caller, a.leg, [['DialStatus', 'CANCEL']]);
    pbx.hangup(a.leg.ch, 26);
    pbx.cdrDialEnd(caller, a.rec, 'NO ANSWER', false);
  }
  pbx.setConnected(caller, agent.callerNum, agent.callerName);
  pbx.emit('MusicOnHoldStop', 'call,all', caller.snapshot());
  const pos = leave();
  queueEvent(pbx, 'QueueCallerLeave', caller, [
    ['Queue', q.cfg.name],
    ['Position', String(pos)],
    ['Count', String(q.callers.length)],
  ]);
  const connectedAt = pbx.now();
  const holdS = secsBetween(joinedAt, connectedAt);
  // (orig - to) / 1000: the ms this round rang before the answer, cut to whole seconds (24: 1.5 s is 1).
  const ringS = Math.floor((connectedAt - winner.startedAt) / 1000);
  pbx.queueLog(q.cfg.name, call.callid, winner.member.name, 'CONNECT', [holdS, agent.uniqueid, ringS]);
  agentEvent(pbx, 'AgentConnect', caller, winner, [
    ['HoldTime', String(holdS)],
    ['RingTime', String(ringS)],
  ]);
  winner.member.inCall = true;
  const bridge = pbx.bridge(caller, agent);
  let reason = 'caller';
  agent.onHangup(() => {
    if (!caller.gone && reason === 'caller') reason = 'agent';
  });
  const ending: CallEnding = { call, winner, bridge, connectedAt, agentCompleted: false };
  // handle_attended_transfer: the member's part ends when the transfer is done (ATTENDEDTRANSFER and
  // AgentComplete from app_queue's stasis thread, after the transferer's teardown), while the caller
  // talks on in the same bridge with whoever took the agent's place.
  bridge.onAttendedTransfer = () => pbx.clock.after(0, () => agentComplete(pbx, ending, 'transfer'));
  await pbx.bridgeEnded(bridge);
  bridge.onAttendedTransfer = undefined;
  // An attended transfer put the consulted party in the agent's place; the caller talked on with it.
  const partner = bridge.channels.find((c) => c !== caller && !c.hungUp);
  if (agent.transferred && !caller.transferred && partner) {
    complete(pbx, ending, 'transfer', partner);
    return;
  }
  if (agent.transferred || caller.transferred) {
    // The transferred caller goes straight on to its new dialplan; app_queue's thread writes
    // AgentComplete and hangs the member up meanwhile (33: after the new Dial's Newchannel).
    pbx.clock.after(0, () => complete(pbx, ending, 'transfer'));
    return;
  }
  complete(pbx, ending, reason);
}

/** A connected queue call on its way to its end. */
interface CallEnding {
  call: QueueCall;
  winner: Attempt;
  bridge: Bridge;
  connectedAt: number;
  /** The member's part (queue_log line, AgentComplete, member and queue stats) is done. */
  agentCompleted: boolean;
}

/**
 * The queue_log line that ends a connected call, written just before its AgentComplete as app_queue's
 * handle_hangup, handle_blind_transfer and log_attended_transfer do: the hangup says who left first,
 * a transfer in the call's bridge where it went. Each ends with hold time, talk time and position.
 */
function logCompletion(pbx: Pbx, call: QueueCall, member: string, reason: string, bridge: Bridge, holdS: number, talkS: number): void {
  const tail = [holdS, talkS, call.position];
  const t = reason === 'transfer' ? bridge.transfer : undefined;
  if (t?.kind === 'blind') pbx.queueLog(call.q.cfg.name, call.callid, member, 'BLINDTRANSFER', [t.exten, t.context, ...tail]);
  else if (t?.kind === 'attended') pbx.queueLog(call.q.cfg.name, call.callid, member, 'ATTENDEDTRANSFER', ['BRIDGE', t.destBridge, ...tail]);
  else pbx.queueLog(call.q.cfg.name, call.callid, member, reason === 'caller' ? 'COMPLETECALLER' : 'COMPLETEAGENT', tail);
}

/** send_agent_complete and update_queue, with the queue_log line before them; once per call. */
function agentComplete(pbx: Pbx, ending: CallEnding, reason: string): void {
  if (ending.agentCompleted) return;
  ending.agentCompleted = true;
  const { call, winner, bridge, connectedAt } = ending;
  const { q, caller, joinedAt } = call;
  const holdS = secsBetween(joinedAt, connectedAt);
  const talkS = secsBetween(connectedAt, pbx.now());
  logCompletion(pbx, call, winner.member.name, reason, bridge, holdS, talkS);
  agentEvent(pbx, 'AgentComplete', caller, winner, [
    ['HoldTime', String(holdS)],
    ['TalkTime', String(talkS)],
    ['Reason', reason],
  ]);
  const m = winner.member;
  m.inCall = false;
  m.callsTaken++;
  m.lastCall = Math.floor(pbx.now() / 1000);
  q.completed++;
  q.holdtime = Math.round((q.holdtime * (q.completed - 1) + holdS) / q.completed);
  q.talktime = Math.round((q.talktime * (q.completed - 1) + talkS) / q.completed);
}

/** The end of a connected call: the member's part (unless a transfer ended it already), then the call's. */
function complete(pbx: Pbx, ending: CallEnding, reason: string, partner: Channel = ending.winner.leg.ch): void {
  const { call, winner } = ending;
  const { caller } = call;
  agentComplete(pbx, ending, reason);
  pbx.cdrDialEnd(caller, winner.rec, 'ANSWERED', false);
  // A caller who hung up after talking reports Normal Clearing (chan_sip/27).
  if (caller.hangupRequested && caller.cause === 0) caller.cause = 16;
  caller.inQueue = false;
  // cdr_manager writes the answered member's record before the others (chan_sip/24, 27).
  caller.cdrs.splice(caller.cdrs.indexOf(winner.rec), 1);
  caller.cdrs.unshift(winner.rec);
  endBridgedCall(pbx, caller, partner, call.dialplan);
  // A caller transferred away is in other dialplan by now; app_queue sets nothing on it.
  if (reason !== 'transfer') caller.vars.set('QUEUESTATUS', 'COMPLETED');
}
