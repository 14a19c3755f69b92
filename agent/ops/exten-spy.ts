import type { OperationParams } from '../../shared/api/operations.ts';
import { ApiError } from '../../shared/errors.ts';
import { channelsOf, liveChannels } from './channels.ts';
import type { OpContext } from './context.ts';
import { assertPhoneFree } from './phone-state.ts';
import { Phones } from './phones.ts';

/**
 * ChanSpy options: q quiet (no beep, no channel name read out), E exit when the spied-on call ends,
 * S stop when no channel is left to spy on, so a spy that answers late does not wait forever.
 */
const SPY_OPTIONS = 'qES';

/**
 * POST /extensions/extenSpy: ring `src` (the listener) into ChanSpy on exactly `dst`'s live channel.
 * ChanSpy's first argument is a name prefix, so the full channel name (`SIP/806-0000000a`) is passed:
 * `SIP/806` alone would also spy on `SIP/8060-...`.
 */
export async function extenSpy(params: OperationParams<'exten-spy'>, ctx: OpContext) {
  const phones = new Phones(ctx);
  const channels = await liveChannels(ctx.ami);
  const theirs = channelsOf(channels, await phones.deviceOf(params.dst));
  const target = theirs.find((c) => (c.get('BridgeId') ?? '') !== '') ?? theirs[0];
  if (!target) throw new ApiError('CONFLICT', `Extension ${params.dst} is not on a call to listen to`);
  await assertPhoneFree(phones, params.src);
  await ctx.ami.action({
    Action: 'Originate',
    Channel: await phones.deviceOf(params.src),
    Application: 'ChanSpy',
    Data: `${target.get('Channel')},${SPY_OPTIONS}`,
    CallerID: `"Spy ${params.dst}" <${params.dst}>`,
    Async: true,
  });
  return { status: 'success' as const, message: 'spy extension success' };
}
