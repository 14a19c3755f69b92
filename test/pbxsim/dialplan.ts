import type { Channel } from './channel.ts';
import { dial } from './calls.ts';
import { FROM_TRUNK, INTERNAL } from './config.ts';
import { pickupChan } from './pickup.ts';
import type { Pbx } from './pbx.ts';
import { queueApp } from './queue-app.ts';
import type { Pairs } from './wire.ts';

/** Thrown out of a running dialplan when Redirect moved the channel or it hung up. */
class Unwind extends Error {}

/** Simulated length of the `hello-world` prompt (a generated tone in the recordings). */
const PLAYBACK_MS = 2000;

/** Channel variable a scenario sets to give the IVR its own UserEvents (JSON array of header objects). */
export const IVR_STEPS_VAR = 'SIM_IVR_STEPS';

function gate(ch: Channel): void {
  if (ch.gone || ch.redirect) throw new Unwind();
}

function isInternal(context: string): boolean {
  return context === INTERNAL || context === 'from-internal';
}

/** `_0.` or seven digits and more: an outside number, dialed over the trunk. */
export function isOutsideNumber(exten: string): boolean {
  return /^0\d+$/.test(exten) || /^\d{7,}$/.test(exten);
}

/** Whether extensions.conf (as the fixtures README shows it) has context,exten. */
export function extensionExists(context: string, exten: string): boolean {
  if (isInternal(context)) return /^80\d$/.test(exten) || /^63[0-3]$/.test(exten) || ['700', '999'].includes(exten) || /^\*8\d{3}$/.test(exten) || isOutsideNumber(exten);
  switch (context) {
    case FROM_TRUNK:
      return exten === '4001';
    case 'queues':
      return /^63[0-3]$/.test(exten);
    case 'agents':
      return /^80\d$/.test(exten);
    case 'ivr':
      return exten === 's';
    case 'test':
      return ['answer', 'hold', 'abandon', 'callerwait', 'echo', 'busy', 'congestion', 'parkhere'].includes(exten);
    default:
      return false;
  }
}

/**
 * Runs a channel through the dialplan from context,exten,1 and hangs it up when the dialplan ends,
 * following Redirects on the way.
 */
export async function runDialplan(pbx: Pbx, ch: Channel, context: string, exten: string): Promise<void> {
  let target = { context, exten };
  ch.running = true;
  ch.inDialplan = true;
  for (;;) {
    ch.redirect = undefined;
    ch.context = target.context;
    ch.exten = target.exten;
    ch.priority = 1;
    try {
      await runExten(pbx, ch, target.context, target.exten);
      break;
    } catch (e) {
      if (!(e instanceof Unwind)) throw e;
      const r = ch.redirect as { context: string; exten: string } | undefined;
      if (ch.gone || !r) break;
      target = r;
    }
  }
  ch.running = false;
  if (!ch.hungUp) pbx.hangup(ch, ch.cause);
}

/** Runs one application on a channel outside the dialplan (Originate with Application/Data). */
export async function runApplication(pbx: Pbx, ch: Channel, app: string, data: string): Promise<void> {
  ch.running = true;
  try {
    await application(pbx, ch, app, data);
  } catch (e) {
    if (!(e instanceof Unwind)) throw e;
    const r = ch.redirect;
    if (r && !ch.gone) return runDialplan(pbx, ch, r.context, r.exten);
  }
  ch.running = false;
  if (!ch.hungUp) pbx.hangup(ch, ch.cause);
}

function step(pbx: Pbx, ch: Channel, priority: number, app: string, data: string): void {
  gate(ch);
  ch.priority = priority;
  // After a transfer moved it, a channel's first Newexten still names the application it left (33).
  if (ch.staleNewexten) {
    ch.staleNewexten = false;
    pbx.newexten(ch, ch.app, ch.appData);
  } else pbx.newexten(ch, app, data);
  pbx.setApp(ch, app, data);
}

async function wait(pbx: Pbx, ch: Channel, ms: number): Promise<void> {
  await pbx.sleep(ch, ms);
  gate(ch);
}

function userEvent(pbx: Pbx, ch: Channel, name: string, headers: Pairs): void {
  pbx.emit('UserEvent', 'user,all', [...ch.snapshot(), ['UserEvent', name], ...headers]);
}

/** Hangup(cause) as an application: the dialplan ends the call itself. */
function hangupApp(pbx: Pbx, ch: Channel, priority: number, cause?: number): void {
  step(pbx, ch, priority, 'Hangup', cause === undefined ? '' : String(cause));
  const c = cause ?? ch.cause;
  if (cause === 21) ch.techCause = 403;
  pbx.emit('SoftHangupRequest', 'call,all', [...ch.snapshot(), ['Cause', String(c)]]);
  ch.running = false;
  pbx.hangup(ch, c);
  gate(ch);
}

/** `exten => ...,n,Set(BLOCKED=${DB(blacklist/${CALLERID(num)})})` and the blocked branch. */
function blocked(pbx: Pbx, ch: Channel, at: number): boolean {
  step(pbx, ch, at, 'Set', `BLOCKED=${pbx.db.get(`/blacklist/${ch.callerNum}`) ?? ''}`);
  const reason = pbx.db.get(`/blacklist/${ch.callerNum}`) ?? '';
  step(pbx, ch, at + 1, 'GotoIf', `${reason !== '' ? 1 : 0}?blocked`);
  if (reason === '') return false;
  step(pbx, ch, at + 5, 'UserEvent', `Blacklisted,CallerIDNum: ${ch.callerNum},Reason: ${reason}`);
  userEvent(pbx, ch, 'Blacklisted', [
    ['CallerIDNum', ch.callerNum],
    ['Reason', reason],
  ]);
  hangupApp(pbx, ch, at + 6, 21);
  return true;
}

async function runExten(pbx: Pbx, ch: Channel, context: string, exten: string): Promise<void> {
  if (context === FROM_TRUNK && exten === '4001') return goto(pbx, ch, 'queues', '630');
  if (isInternal(context)) {
    if (/^63[0-3]$/.test(exten)) return goto(pbx, ch, 'queues', exten);
    const pick = /^\*8(\d{3})$/.exec(exten);
    if (pick) {
      const target = `${pbx.techOf(pick[1] as string)}/${pick[1] as string}`;
      step(pbx, ch, 1, 'PickupChan', target);
      pickupChan(pbx, ch, target);
      gate(ch);
      return;
    }
    if (isOutsideNumber(exten)) {
      const trunk = pbx.trunks[0] ?? 'trunk';
      const target = `${pbx.techOf(trunk)}/${trunk}/${exten}`;
      step(pbx, ch, 1, 'Dial', `${target},60`);
      await dial(pbx, ch, target, 60, runDialplan);
      gate(ch);
      return hangupApp(pbx, ch, 2);
    }
    if (exten === '700') return goto(pbx, ch, 'ivr', 's');
    if (exten === '999') return goto(pbx, ch, 'test', 'answer');
    if (/^80\d$/.test(exten)) {
      step(pbx, ch, 1, 'NoOp', `Internal call from ${ch.callerNum} to ${exten}`);
      if (blocked(pbx, ch, 2)) return;
      step(pbx, ch, 4, 'Dial', `${pbx.deviceOf(exten)},15`);
      await dial(pbx, ch, pbx.deviceOf(exten), 15, runDialplan);
      gate(ch);
      step(pbx, ch, 5, 'NoOp', `DIALSTATUS=${ch.vars.get('DIALSTATUS') ?? ''}`);
      return hangupApp(pbx, ch, 6);
    }
  }
  switch (context) {
    case 'queues':
      if (!/^63[0-3]$/.test(exten)) break;
      step(pbx, ch, 1, 'NoOp', `Queue call to ${exten} from ${ch.callerNum}`);
      if (blocked(pbx, ch, 2)) return;
      step(pbx, ch, 4, 'Answer', '');
      pbx.answer(ch);
      step(pbx, ch, 5, 'Queue', `${exten},t,,,60`);
      await queueApp(pbx, ch, exten, 60, runDialplan);
      gate(ch);
      step(pbx, ch, 6, 'NoOp', `QUEUESTATUS=${ch.vars.get('QUEUESTATUS') ?? ''}`);
      return hangupApp(pbx, ch, 7);
    case 'agents':
      if (!/^80\d$/.test(exten)) break;
      step(pbx, ch, 1, 'Dial', `${pbx.deviceOf(exten)},20`);
      await dial(pbx, ch, pbx.deviceOf(exten), 20, runDialplan);
      gate(ch);
      return hangupApp(pbx, ch, 2);
    case 'ivr':
      return ivr(pbx, ch);
    case 'test':
      return testContext(pbx, ch, exten);
  }
  // No such extension: Asterisk hangs the channel up (Local/nosuch@internal in chan_sip/11).
  ch.cause = 0;
}

function goto(pbx: Pbx, ch: Channel, context: string, exten: string): Promise<void> {
  step(pbx, ch, 1, 'Goto', `${context},${exten},1`);
  ch.context = context;
  ch.exten = exten;
  return runExten(pbx, ch, context, exten);
}

async function ivr(pbx: Pbx, ch: Channel): Promise<void> {
  step(pbx, ch, 1, 'Answer', '');
  pbx.answer(ch);
  const custom = ch.vars.get(IVR_STEPS_VAR);
  const steps: Pairs[] = custom
    ? (JSON.parse(custom) as Record<string, string>[]).map((o) => Object.entries(o))
    : [
        [
          ['Step', 'welcome'],
          ['CallerIDNum', ch.callerNum],
        ],
        [
          ['Step', 'choice'],
          ['Choice', '1'],
          ['Target', '630'],
        ],
      ];
  let prio = 2;
  for (const [i, headers] of steps.entries()) {
    step(pbx, ch, prio++, 'UserEvent', `ivr,${headers.map(([k, v]) => `${k}: ${v}`).join(',')}`);
    userEvent(pbx, ch, 'ivr', headers);
    if (i < steps.length - 1) {
      step(pbx, ch, prio++, 'Playback', 'hello-world');
      await wait(pbx, ch, PLAYBACK_MS);
    }
  }
  const target = steps.at(-1)?.find(([k]) => k === 'Target')?.[1] ?? '630';
  step(pbx, ch, prio, 'Goto', `queues,${target},1`);
  ch.context = 'queues';
  ch.exten = target;
  return runExten(pbx, ch, 'queues', target);
}

async function testContext(pbx: Pbx, ch: Channel, exten: string): Promise<void> {
  const answerAndWait = async (ms: number, first = 1) => {
    step(pbx, ch, first, 'Answer', '');
    pbx.answer(ch);
    step(pbx, ch, first + 1, 'Wait', String(ms / 1000));
    await wait(pbx, ch, ms);
  };
  switch (exten) {
    case 'answer':
      step(pbx, ch, 1, 'Answer', '');
      pbx.answer(ch);
      step(pbx, ch, 2, 'Playback', 'hello-world');
      await wait(pbx, ch, PLAYBACK_MS);
      step(pbx, ch, 3, 'Wait', '6');
      await wait(pbx, ch, 6000);
      return hangupApp(pbx, ch, 4);
    case 'hold':
      await answerAndWait(30_000);
      return hangupApp(pbx, ch, 3);
    case 'callerwait':
      await answerAndWait(20_000);
      return hangupApp(pbx, ch, 3);
    case 'abandon':
      step(pbx, ch, 1, 'NoOp', 'Caller that gives up after 5s');
      step(pbx, ch, 2, 'Wait', '5');
      await wait(pbx, ch, 5000);
      return hangupApp(pbx, ch, 3);
    case 'echo':
      step(pbx, ch, 1, 'Answer', '');
      pbx.answer(ch);
      step(pbx, ch, 2, 'Echo', '');
      await new Promise<void>((r) => ch.onHangup(r));
      return;
    case 'busy':
      // Busy(3) signals busy and waits for the other side to give up (chan_sip/30).
      step(pbx, ch, 1, 'Busy', '3');
      ch.cause = 17;
      ch.onBusy?.();
      await wait(pbx, ch, 3000);
      return hangupApp(pbx, ch, 1, 17);
    case 'congestion':
      step(pbx, ch, 1, 'Congestion', '3');
      pbx.hangup(ch, 34);
      return;
    case 'parkhere':
      step(pbx, ch, 1, 'Answer', '');
      pbx.answer(ch);
      step(pbx, ch, 2, 'UserEvent', 'Parked,Where: parkhere');
      userEvent(pbx, ch, 'Parked', [['Where', 'parkhere']]);
      step(pbx, ch, 3, 'Wait', '30');
      await wait(pbx, ch, 30_000);
      return hangupApp(pbx, ch, 4);
  }
}

async function application(pbx: Pbx, ch: Channel, app: string, data: string): Promise<void> {
  pbx.setApp(ch, app, data);
  switch (app.toLowerCase()) {
    case 'wait':
      await wait(pbx, ch, Number.parseFloat(data || '0') * 1000);
      return;
    case 'playback':
      await wait(pbx, ch, PLAYBACK_MS);
      return;
    case 'echo':
      await new Promise<void>((r) => ch.onHangup(r));
      gate(ch);
      return;
    case 'chanspy':
      return chanSpy(pbx, ch, data);
    case 'answer':
      pbx.answer(ch);
      return;
    default:
      return;
  }
}

/**
 * ChanSpy(prefix,options): spies on a channel whose name starts with prefix, as app_chanspy matches
 * (so `SIP/806` also matches `SIP/8060-...`; `SIP/806-` does not). With E it ends when that spyee
 * hangs up, with S when no channel matches; otherwise it keeps looking, as Asterisk does.
 */
async function chanSpy(pbx: Pbx, ch: Channel, data: string): Promise<void> {
  const [rawPrefix = '', options = ''] = data.split(',');
  const prefix = rawPrefix.trim();
  for (;;) {
    const spyee = [...pbx.channels.values()].find((c) => c !== ch && !c.gone && c.name.startsWith(prefix));
    if (!spyee && options.includes('S')) return;
    if (spyee) {
      pbx.emit('ChanSpyStart', 'call,all', [...ch.snapshot('Spyer'), ...spyee.snapshot('Spyee')]);
      await new Promise<void>((resolve) => {
        const offs = [spyee.onHangup(done), ch.onHangup(done)];
        function done() {
          for (const off of offs) off();
          resolve();
        }
      });
      pbx.emit('ChanSpyStop', 'call,all', [...ch.snapshot('Spyer'), ...spyee.snapshot('Spyee')]);
      gate(ch);
      if (options.includes('E')) return;
      continue;
    }
    await wait(pbx, ch, 1000);
  }
}
