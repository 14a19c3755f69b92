import type { OperationParams } from '../../shared/api/operations.ts';
import { ApiError } from '../../shared/errors.ts';
import { channelsOf, liveChannels } from './channels.ts';
import type { OpContext } from './context.ts';
import { Phones } from './phones.ts';
import { refusedWith } from './refusal.ts';

/** Q.850 16, Normal Clearing: the hangup and CDR read as an ordinary end of call. */
const NORMAL_CLEARING = 16;

/** POST /extensions/hangup: hang up every live channel of the extension's phone. */
export async function hangup(params: OperationParams<'hangup'>, ctx: OpContext) {
  const mine = channelsOf(await liveChannels(ctx.ami), await new Phones(ctx).deviceOf(params.extension));
  let hungUp = 0;
  for (const c of mine) {
    try {
      await ctx.ami.action({ Action: 'Hangup', Channel: c.get('Channel'), Cause: NORMAL_CLEARING });
      hungUp++;
    } catch (err) {
      // The call ended between CoreShowChannels and Hangup.
      if (!refusedWith(err, /No such channel/)) throw err;
    }
  }
  if (hungUp === 0) throw new ApiError('CONFLICT', `Extension ${params.extension} has no call to hang up`);
  return { status: 'success' as const, message: 'hangup extension success' };
}
