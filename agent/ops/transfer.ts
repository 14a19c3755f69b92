import type { OperationParams } from '../../shared/api/operations.ts';
import { ApiError } from '../../shared/errors.ts';
import { TRANSFER_VARIABLE } from '../events/dialplan.ts';
import { bridgePartners, channelsOf, liveChannels } from './channels.ts';
import type { OpContext } from './context.ts';
import { Phones } from './phones.ts';
import { refusedWith } from './refusal.ts';

/**
 * POST /extensions/transfer: a blind transfer of `src`'s call. The party `src` is talking to (the
 * other channel in its bridge) is redirected to ctx.context/dst/1; Asterisk then hangs up `src`'s
 * own leg, which is left alone in the bridge.
 */
export async function transfer(params: OperationParams<'transfer'>, ctx: OpContext) {
  const channels = await liveChannels(ctx.ami);
  const partner = channelsOf(channels, await new Phones(ctx).deviceOf(params.src))
    .map((c) => bridgePartners(channels, c))
    .find((p) => p.length === 1)?.[0];
  if (!partner) throw notBridged(params.src);
  // A Redirect raises no transfer event: the variable tells the call record where the call went. A
  // record without it is no reason to refuse the transfer itself.
  await ctx.ami.action({ Action: 'Setvar', Channel: partner.get('Channel'), Variable: TRANSFER_VARIABLE, Value: params.dst }).catch(() => undefined);
  try {
    await ctx.ami.action({
      Action: 'Redirect',
      Channel: partner.get('Channel'),
      Context: ctx.context,
      Exten: params.dst,
      Priority: 1,
    });
  } catch (err) {
    if (refusedWith(err, /Channel does not exist/)) throw notBridged(params.src);
    throw err;
  }
  return { status: 'success' as const, message: 'tansfer extension success' };
}

function notBridged(src: string): ApiError {
  return new ApiError('CONFLICT', `Extension ${src} is not in an answered two-party call to transfer`);
}
