import type { Channel } from '../channel.ts';
import { dialEvent, raceLeg, requestLeg } from '../calls.ts';
import { INTERNAL } from '../config.ts';
import { extensionExists, runApplication, runDialplan } from '../dialplan.ts';
import type { Pbx } from '../pbx.ts';
import type { Pairs } from '../wire.ts';
import { failure, header, isTrue, success, type ActionTable } from './reply.ts';

export interface OriginateRequest {
  channel: string;
  context?: string;
  exten?: string;
  application?: string;
  data?: string;
  callerId?: { num: string; name: string };
  timeoutMs: number;
  variables: [string, string][];
}

/** OriginateResponse `Reason`: 4 answered, 5 busy, 3 no answer, 0 failed. */
export type OriginateReason = 0 | 3 | 4 | 5;

/** `"Click 802" <802>`, `Name <802>` or `802`. */
function parseCallerId(v: string): { num: string; name: string } {
  const m = /^\s*"?([^"<]*?)"?\s*<([^>]*)>\s*$/.exec(v);
  if (m) return { name: m[1] as string, num: m[2] as string };
  return { name: '', num: v.trim() };
}

/**
 * Rings the originate channel; when it answers, it runs the application or enters the dialplan.
 * Resolves once the outcome is known (the call itself goes on).
 */
export async function originate(pbx: Pbx, o: OriginateRequest, onAnswer?: (ch: Channel) => void): Promise<{ reason: OriginateReason; ch?: Channel }> {
  const leg = requestLeg(pbx, o.channel, { context: o.context ?? INTERNAL, exten: 's', dialplan: runDialplan });
  if (!leg) return { reason: 0 };
  const ch = leg.ch;
  // An originated channel is the calling party of its own CDR.
  ch.postsCdr = true;
  ch.app = 'AppDial2';
  ch.appData = '(Outgoing Line)';
  for (const [k, v] of o.variables) ch.vars.set(k, v);
  if (o.callerId) {
    pbx.setCallerId(ch, o.callerId.num, o.callerId.name);
    pbx.setConnected(ch, o.callerId.num, o.callerId.name);
  }
  dialEvent(pbx, 'DialBegin', undefined, leg, [['DialString', leg.dialString]]);
  const outcome = leg.start();
  if (ch.state === 5) dialEvent(pbx, 'DialState', undefined, leg, [['DialStatus', 'RINGING']]);
  const status = await raceLeg(pbx, undefined, ch, outcome, o.timeoutMs);
  if (!ch.hungUp) dialEvent(pbx, 'DialEnd', undefined, leg, [['DialStatus', status]]);
  if (status !== 'ANSWER') {
    const reason: OriginateReason = status === 'BUSY' ? 5 : status === 'NOANSWER' ? 3 : 0;
    pbx.setDisposition(ch, status === 'BUSY' ? 'BUSY' : status === 'NOANSWER' ? 'NO ANSWER' : 'FAILED');
    if (ch.localPeer) pbx.hangup(ch, 0);
    else if (!ch.hungUp) pbx.hangup(ch, status === 'BUSY' ? 17 : status === 'NOANSWER' ? 19 : 0, status === 'BUSY' ? 486 : undefined);
    return { reason };
  }
  onAnswer?.(ch);
  if (o.application) void runApplication(pbx, ch, o.application, o.data ?? '');
  else void runDialplan(pbx, ch, o.context ?? INTERNAL, o.exten ?? 's');
  return { reason: 4, ch };
}

function responseEvent(pbx: Pbx, id: string | undefined, o: OriginateRequest, reason: OriginateReason, ch: Channel | undefined): void {
  const body: Pairs = id === undefined ? [] : [['ActionID', id]];
  body.push(['Response', ch ? 'Success' : 'Failure'], ['Channel', ch?.name ?? o.channel]);
  if (o.application) body.push(['Application', o.application], ['Data', o.data ?? '']);
  else body.push(['Context', o.context ?? ''], ['Exten', o.exten ?? '']);
  body.push(
    ['Reason', String(reason)],
    ['Uniqueid', ch?.uniqueid ?? '<unknown>'],
    ['CallerIDNum', ch?.callerNum ?? '<unknown>'],
    ['CallerIDName', ch?.callerName ?? '<unknown>'],
  );
  pbx.emit('OriginateResponse', 'call,all', body);
}

export const originateActions: ActionTable = {
  async Originate(ctx) {
    const channel = header(ctx, 'Channel');
    if (!channel) return failure(ctx, 'Channel not specified');
    const priority = header(ctx, 'Priority');
    if (priority !== undefined && !/^\d+$/.test(priority.trim())) return failure(ctx, 'Invalid priority');
    const timeout = header(ctx, 'Timeout');
    if (timeout !== undefined && !/^\d+$/.test(timeout.trim())) return failure(ctx, 'Invalid timeout');
    const application = header(ctx, 'Application');
    const context = header(ctx, 'Context');
    const exten = header(ctx, 'Exten');
    if (!application && exten && !extensionExists(context ?? 'default', exten)) return failure(ctx, 'Extension does not exist.');
    const cid = header(ctx, 'CallerID');
    const o: OriginateRequest = {
      channel,
      context,
      exten,
      application,
      data: ctx.msg.get('Data'),
      callerId: cid ? parseCallerId(cid) : undefined,
      timeoutMs: timeout === undefined ? 30_000 : Number.parseInt(timeout, 10),
      variables: ctx.msg
        .all('Variable')
        .flatMap((v) => v.split(','))
        .map((kv): [string, string] => {
          const eq = kv.indexOf('=');
          return eq < 0 ? [kv, ''] : [kv.slice(0, eq), kv.slice(eq + 1)];
        }),
    };
    if (isTrue(header(ctx, 'Async'))) {
      // The answer comes first; the call and its OriginateResponse follow.
      ctx.pbx.clock.after(0, () => {
        void originate(ctx.pbx, o, (ch) => responseEvent(ctx.pbx, ctx.id, o, 4, ch)).then((r) => {
          if (r.reason !== 4) responseEvent(ctx.pbx, ctx.id, o, r.reason, undefined);
        });
      });
      return [success(ctx, [['Message', 'Originate successfully queued']])];
    }
    const r = await originate(ctx.pbx, o);
    if (r.reason !== 4) return failure(ctx, 'Originate failed');
    return [success(ctx, [['Message', 'Originate successfully queued']])];
  },
};
