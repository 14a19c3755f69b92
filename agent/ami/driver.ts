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

/** The channel drivers a box runs, as detectDriver found them. */
export interface Drivers {
  /** The technology of an extension that no hint and no peer list places. */
  driver: ChannelDriver;
  /** Every driver whose module is loaded: both on a FreePBX 13-16 box running chan_sip and PJSIP side by side. */
  loaded: ChannelDriver[];
}

/**
 * The channel drivers the PBX's phones use. Each driver's list action is an unknown command when its
 * module is not loaded (`Invalid/unknown command: SIPpeers...`). A box can load both (some phones on
 * chan_sip, others on PJSIP, or chan_sip kept for a trunk): operations then find each extension's own
 * technology, and the default is the driver with more peers/endpoints, PJSIP on a tie, since every
 * Asterisk from 21 on has only PJSIP. `configured` (api.conf `[ami] driver`) overrides detection and
 * pins every extension to that driver.
 */
export async function detectDriver(ami: AmiRunner, configured: ChannelDriver | 'auto' = 'auto'): Promise<Drivers> {
  if (configured !== 'auto') return { driver: configured, loaded: [configured] };
  const sip = await countItems(ami, 'SIPpeers', 'PeerEntry');
  const pjsip = await countItems(ami, 'PJSIPShowEndpoints', 'EndpointList');
  if (sip === undefined && pjsip === undefined) throw new DriverDetectionError();
  if (pjsip === undefined) return { driver: 'sip', loaded: ['sip'] };
  if (sip === undefined) return { driver: 'pjsip', loaded: ['pjsip'] };
  return { driver: sip > pjsip ? 'sip' : 'pjsip', loaded: ['sip', 'pjsip'] };
}

/** How `--check` and the ready line name the drivers: `chan_sip`, `chan_pjsip`, or both and the default. */
export function describeDrivers(d: Drivers): string {
  const name = (x: ChannelDriver) => (x === 'sip' ? 'chan_sip' : 'chan_pjsip');
  if (d.loaded.length < 2) return name(d.driver);
  return `chan_sip and chan_pjsip side by side, each extension on its own (default ${name(d.driver)})`;
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
