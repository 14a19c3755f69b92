/**
 * The box's extensions and the phone behind each: learnt from the dialplan hints (ExtensionStateList),
 * per extension, so a box running chan_sip and PJSIP side by side is served with each phone's own
 * technology, and a channel of any device no hint names (a SIP trunk, DAHDI, IAX2) is a trunk.
 */

/** One hint as ExtensionStateList gives it: `800` -> `SIP/800&Custom:DND800`. */
export interface HintEntry {
  exten: string;
  devices: string;
}

/** Hint devices that are not phones: device states the dialplan keeps for itself. */
const NOT_A_PHONE = new Set(['Custom', 'Queue', 'Park', 'Calendar', 'Presence', 'MeetMe', 'ConfBridge', 'Local']);

/** `Local/802@internal-00000002;1` and `;2` -> `Local/802@internal-00000002`: a Local pair's one name. */
export function localPair(channel: string): string {
  return channel.endsWith(';1') || channel.endsWith(';2') ? channel.slice(0, -2) : channel;
}

/**
 * The device of a channel name: `SIP/800-0000002c` -> `SIP/800`, `DAHDI/1-1` -> `DAHDI/1`,
 * `Local/802@internal-00000002;1` -> `Local/802@internal`. A name without the `-<sequence>` tail is
 * already a device.
 */
export function channelDevice(channel: string): string {
  const base = localPair(channel);
  const dash = base.lastIndexOf('-');
  return dash > base.indexOf('/') && dash > 0 ? base.slice(0, dash) : base;
}

/** `Local/...` channels are dialplan plumbing, never a party of the call. */
export function isLocalChannel(channel: string): boolean {
  return channel.startsWith('Local/');
}

/** The channel's technology: `PJSIP/800-01` -> `PJSIP`. */
export function channelTechnology(channel: string): string {
  const slash = channel.indexOf('/');
  return slash > 0 ? channel.slice(0, slash) : '';
}

export class ExtensionDirectory {
  /** Extension -> its phone devices, in the hint's order (`SIP/800`, ...). */
  private readonly byExten = new Map<string, string[]>();
  /** Device (`SIP/800`) -> extension. */
  private readonly byDevice = new Map<string, string>();

  constructor(hints: readonly HintEntry[] = []) {
    for (const h of hints) {
      if (!/^[0-9*#+]+$/.test(h.exten)) continue;
      for (const device of h.devices.split('&')) {
        const d = device.trim();
        const tech = channelTechnology(d);
        if (tech === '' || NOT_A_PHONE.has(tech)) continue;
        const list = this.byExten.get(h.exten) ?? [];
        if (!list.includes(d)) list.push(d);
        this.byExten.set(h.exten, list);
        if (!this.byDevice.has(d)) this.byDevice.set(d, h.exten);
      }
    }
  }

  /** False until hints were read: nothing is called a trunk on a guess. */
  get known(): boolean {
    return this.byDevice.size > 0;
  }

  /** The extension's phone, `SIP/800` or `PJSIP/800`; undefined when no hint names one. */
  deviceOf(exten: string): string | undefined {
    return this.byExten.get(exten)?.[0];
  }

  /** `SIP`, `PJSIP`, ... of the extension's phone; undefined when no hint names one. */
  technologyOf(exten: string): string | undefined {
    const device = this.deviceOf(exten);
    return device === undefined ? undefined : channelTechnology(device);
  }

  /** The extension a channel (`SIP/800-0000002c`) or device (`SIP/800`) belongs to. */
  extensionOf(channelOrDevice: string): string | undefined {
    return this.byDevice.get(channelDevice(channelOrDevice));
  }

  /** True for a channel of a device no hint names, Local channels excepted: a trunk (or a gateway). */
  isTrunk(channel: string): boolean {
    if (!this.known || channel === '' || isLocalChannel(channel)) return false;
    return !this.byDevice.has(channelDevice(channel));
  }

  /** Plain JSON, to be journaled and restored with the call-record state. */
  toHints(): HintEntry[] {
    return [...this.byExten].map(([exten, devices]) => ({ exten, devices: devices.join('&') }));
  }
}
