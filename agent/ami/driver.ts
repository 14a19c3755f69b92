import type { ChannelDriver } from '../ops/context.ts';
import { AmiError } from './errors.ts';
import type { AmiRunner } from './types.ts';

/** Neither chan_sip nor chan_pjsip answers: the agent cannot map extensions to phones. */
export class DriverDetectionError extends Error {
  readonly code = 'DRIVER_UNKNOWN';
  constructor() {
    super(
      'Asterisk answers neither SIPpeers (chan_sip) nor PJSIPShowEndpoints (chan_pjsip); load one of them, or set [ami] driver=sip|pjsip in api.conf',
    );
    this.name = 'DriverDetectionError';
  }
}

/**
 * The channel driver the PBX's phones use. Each driver's list action is an unknown command when its
 * module is not loaded (`Invalid/unknown command: SIPpeers...`). A box can load both (chan_sip kept
 * for a trunk, phones on PJSIP): the one with more peers/endpoints wins, PJSIP on a tie, since every
 * Asterisk from 21 on has only PJSIP. `configured` (api.conf `[ami] driver`) overrides detection.
 */
export async function detectDriver(ami: AmiRunner, configured: ChannelDriver | 'auto' = 'auto'): Promise<ChannelDriver> {
  if (configured !== 'auto') return configured;
  const sip = await countItems(ami, 'SIPpeers', 'PeerEntry');
  const pjsip = await countItems(ami, 'PJSIPShowEndpoints', 'EndpointList');
  if (sip === undefined && pjsip === undefined) throw new DriverDetectionError();
  if (pjsip === undefined) return 'sip';
  if (sip === undefined) return 'pjsip';
  return sip > pjsip ? 'sip' : 'pjsip';
}

/** Items the list action returns, or undefined when Asterisk does not know the action. */
async function countItems(ami: AmiRunner, action: string, itemEvent: string): Promise<number | undefined> {
  try {
    const { events } = await ami.action({ Action: action });
    return events.filter((e) => e.event === itemEvent).length;
  } catch (err) {
    if (err instanceof AmiError && err.code === 'AMI_RESPONSE' && /Invalid\/unknown command/.test(err.amiMessage ?? '')) return undefined;
    throw err;
  }
}
