import type { PhoneBehaviour } from '../config.ts';
import { SimError } from '../errors.ts';
import { hold, inboundCall, phoneHangup, pickup, register, trunkCall, type InboundCallOptions, type ScenarioHandle } from '../scenarios.ts';
import { failure, header, isTrue, success, type ActionContext, type ActionTable } from './reply.ts';

/** `1500` -> 1500 ms; `never` / `null` -> null (rings forever, never hangs up). */
function msOrNull(v: string | undefined): number | null | undefined {
  if (v === undefined) return undefined;
  if (/^(never|null|none)$/i.test(v)) return null;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function scenario(ctx: ActionContext, o: InboundCallOptions, start: (o: InboundCallOptions) => ScenarioHandle = (x) => inboundCall(ctx.pbx, x)) {
  try {
    const h = start(o);
    void h.done.then(() =>
      ctx.pbx.emit('SimScenarioComplete', 'user,all', [...(ctx.id === undefined ? [] : ([['ActionID', ctx.id]] as [string, string][])), ['Uniqueid', h.uniqueid], ['Linkedid', h.linkedid]]),
    );
    return [success(ctx, [['Message', 'Scenario started'], ['Channel', h.channel], ['Uniqueid', h.uniqueid], ['Linkedid', h.linkedid]])];
  } catch (e) {
    if (e instanceof SimError) return failure(ctx, e.message);
    throw e;
  }
}

function callOptions(ctx: ActionContext, to: string): InboundCallOptions {
  const steps = header(ctx, 'Steps');
  return {
    from: header(ctx, 'From') ?? '',
    fromName: header(ctx, 'FromName'),
    to,
    hangupAfterMs: msOrNull(header(ctx, 'HangupAfter')) ?? undefined,
    talkMs: msOrNull(header(ctx, 'TalkTime')) ?? undefined,
    hangupBy: header(ctx, 'HangupBy') === 'callee' ? 'callee' : 'caller',
    ivrSteps: steps ? (JSON.parse(steps) as Record<string, string>[]) : undefined,
  };
}

/** Custom actions that drive scenarios over AMI, for a demo or a test in another process (README). */
export const simActions: ActionTable = {
  SimInboundCall(ctx) {
    const to = header(ctx, 'To');
    if (!header(ctx, 'From') || !to) return failure(ctx, "Need 'From' and 'To'");
    return scenario(ctx, callOptions(ctx, to));
  },
  SimQueueCall(ctx) {
    const queue = header(ctx, 'Queue');
    if (!header(ctx, 'From') || !queue) return failure(ctx, "Need 'From' and 'Queue'");
    return scenario(ctx, callOptions(ctx, queue));
  },
  SimIvrCall(ctx) {
    if (!header(ctx, 'From')) return failure(ctx, "Need 'From'");
    return scenario(ctx, callOptions(ctx, '700'));
  },
  SimTrunkCall(ctx) {
    const did = header(ctx, 'Did') ?? header(ctx, 'To');
    if (!header(ctx, 'From') || !did) return failure(ctx, "Need 'From' and 'Did'");
    return scenario(ctx, callOptions(ctx, did), ({ to, ivrSteps: _, ...o }) => trunkCall(ctx.pbx, { ...o, fromName: header(ctx, 'FromName'), did: to }));
  },
  SimPickup(ctx) {
    const by = header(ctx, 'Phone');
    const target = header(ctx, 'Target');
    if (!by || !target) return failure(ctx, "Need 'Phone' and 'Target'");
    const talkMs = msOrNull(header(ctx, 'TalkTime')) ?? undefined;
    const hangupBy = header(ctx, 'HangupBy') === 'caller' ? 'caller' : 'picker';
    return scenario(ctx, { from: by, to: target }, () => pickup(ctx.pbx, { by, target, talkMs, hangupBy }));
  },
  SimHangup(ctx) {
    const target = header(ctx, 'Channel') ?? header(ctx, 'Phone');
    if (!target) return failure(ctx, "Need 'Channel' or 'Phone'");
    try {
      const ch = phoneHangup(ctx.pbx, target);
      return [success(ctx, [['Channel', ch.name]])];
    } catch (e) {
      if (e instanceof SimError) return failure(ctx, e.message);
      throw e;
    }
  },
  SimHold(ctx) {
    const target = header(ctx, 'Channel') ?? header(ctx, 'Phone');
    if (!target) return failure(ctx, "Need 'Channel' or 'Phone'");
    try {
      const ch = hold(ctx.pbx, target, header(ctx, 'Hold') === undefined ? true : isTrue(header(ctx, 'Hold')));
      return [success(ctx, [['Channel', ch.name]])];
    } catch (e) {
      if (e instanceof SimError) return failure(ctx, e.message);
      throw e;
    }
  },
  SimRegister(ctx) {
    const phone = header(ctx, 'Phone');
    if (!phone || !ctx.pbx.phones.has(phone)) return failure(ctx, 'No such phone');
    register(ctx.pbx, phone, header(ctx, 'Registered') === undefined ? true : isTrue(header(ctx, 'Registered')));
    return [success(ctx)];
  },
  SimSetPhone(ctx) {
    const phone = header(ctx, 'Phone');
    if (!phone || !ctx.pbx.phones.has(phone)) return failure(ctx, 'No such phone');
    const change: Partial<PhoneBehaviour> = {};
    const answer = msOrNull(header(ctx, 'AnswerAfter'));
    if (answer !== undefined) change.answerAfterMs = answer;
    const hangup = msOrNull(header(ctx, 'HangupAfter'));
    if (hangup !== undefined) change.hangupAfterMs = hangup;
    if (header(ctx, 'Busy') !== undefined) change.busy = isTrue(header(ctx, 'Busy'));
    ctx.pbx.setPhone(phone, change);
    return [success(ctx)];
  },
  SimReset(ctx) {
    ctx.pbx.reset();
    return [success(ctx)];
  },
};
