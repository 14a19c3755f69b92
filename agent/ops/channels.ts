import type { AmiMessage } from '../ami/message.ts';
import type { AmiRunner } from '../ami/types.ts';

/** Every live channel, one CoreShowChannel event each (Channel, BridgeId, CallerIDNum, Duration, ...). */
export async function liveChannels(ami: AmiRunner): Promise<AmiMessage[]> {
  const { events } = await ami.action({ Action: 'CoreShowChannels' });
  return events.filter((e) => e.event === 'CoreShowChannel');
}

/**
 * The channels of one phone. Asterisk names them `<interface>-<sequence>` (`SIP/806-0000000a`), so the
 * prefix includes the dash: `SIP/806-` never matches `SIP/8060-0000000b`.
 */
export function channelsOf(channels: readonly AmiMessage[], phoneInterface: string): AmiMessage[] {
  const prefix = `${phoneInterface}-`;
  return channels.filter((c) => (c.get('Channel') ?? '').startsWith(prefix));
}

/** The other channels in the same bridge as `channel`: the party it is talking to. */
export function bridgePartners(channels: readonly AmiMessage[], channel: AmiMessage): AmiMessage[] {
  const bridge = channel.get('BridgeId') ?? '';
  if (bridge === '') return [];
  return channels.filter((c) => c !== channel && c.get('BridgeId') === bridge);
}
