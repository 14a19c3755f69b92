import type { OperationParams } from '../../shared/api/operations.ts';
import type { OpContext } from './context.ts';
import { liveChannels } from './channels.ts';

export interface CurrentCall {
  calleridname: string;
  calleridnum: string;
  channel: string;
  channelstate: string;
  channelstatedesc: string;
  connectedlinename: string;
  connectedlinenum: string;
  /** HH:MM:SS, as CoreShowChannel gives it. */
  duration: string;
}

/** POST /extensions/current-calls: one row per live channel (CoreShowChannels). */
export async function currentCalls(_params: OperationParams<'current-calls'>, ctx: OpContext) {
  const channels = await liveChannels(ctx.ami);
  const data: CurrentCall[] = channels.map((c) => ({
    calleridname: c.get('CallerIDName') ?? '',
    calleridnum: c.get('CallerIDNum') ?? '',
    channel: c.get('Channel') ?? '',
    channelstate: c.get('ChannelState') ?? '',
    channelstatedesc: c.get('ChannelStateDesc') ?? '',
    connectedlinename: c.get('ConnectedLineName') ?? '',
    connectedlinenum: c.get('ConnectedLineNum') ?? '',
    duration: c.get('Duration') ?? '',
  }));
  return { status: 'success' as const, message: 'Channels will follow', data };
}
