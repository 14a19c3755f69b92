import type { AmiRunner } from '../ami/types.ts';
import type { CallerIdNames } from './caller-id-names.ts';
import type { ChannelDriver } from './channel-driver.ts';

export type { ChannelDriver } from './channel-driver.ts';

/** What every operation needs besides its parameters. Built once by AmiDevice, per run for `ami`. */
export interface OpContext {
  ami: AmiRunner;
  /**
   * Every extension's driver on a box with one; with both, the default for an extension that no hint
   * and no peer list places (agent/ami/driver.ts).
   */
  driver: ChannelDriver;
  /** Every driver loaded; with two, each extension is looked up for its own (agent/ops/phones.ts). */
  drivers: readonly ChannelDriver[];
  /** Dialplan context for Originate and Redirect (api.conf `[ami] context`). */
  context: string;
  /** api.conf `[ami] member_interface`, e.g. `Local/{ext}@agents/n`; absent: the phone's own interface. */
  memberInterface?: string;
  /** How long Originate rings `src` before giving up, in ms. */
  originateTimeoutMs: number;
  names: CallerIdNames;
}

/** The channel technology Asterisk names for the driver, as in `SIP/800` and in `Type`. */
export function technology(driver: ChannelDriver): 'SIP' | 'PJSIP' {
  return driver === 'sip' ? 'SIP' : 'PJSIP';
}

