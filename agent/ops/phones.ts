import { ExtensionDirectory } from '../extensions.ts';
import { technology, type OpContext } from './context.ts';
import { hintOf, listHints, type Hint } from './hints.ts';
import { listPeers, type PeerRow } from './peers.ts';

/**
 * The phones of one operation's extensions: `SIP/800` or `PJSIP/805`. A box with one driver needs no
 * lookup. A box running chan_sip and PJSIP side by side (FreePBX 13-16) is asked per extension: its
 * dialplan hint names its device; an extension without one is found in the SIP peer and PJSIP endpoint
 * lists; anything else gets the default driver. Hints and peer lists are read at most once per
 * operation, and shared with the op (phone-state reads the same ones).
 */
export class Phones {
  private hintList?: Promise<Hint[]>;
  private peerList?: Promise<PeerRow[]>;

  constructor(readonly ctx: OpContext) {}

  hints(): Promise<Hint[]> {
    return (this.hintList ??= listHints(this.ctx.ami));
  }

  /** SIP peers and PJSIP endpoints of every loaded driver. */
  peers(): Promise<PeerRow[]> {
    return (this.peerList ??= listPeers(this.ctx.ami, this.ctx.drivers));
  }

  /** The device Asterisk dials for the extension and names its channels after. */
  async deviceOf(extension: string): Promise<string> {
    if (this.ctx.drivers.length > 1) {
      const hint = hintOf(await this.hints(), extension, this.ctx.context);
      const device = hint && new ExtensionDirectory([hint]).deviceOf(extension);
      if (device) return device;
      const peer = (await this.peers()).find((p) => p.Exten === extension);
      if (peer) return `${peer.Type}/${extension}`;
    }
    return `${technology(this.ctx.driver)}/${extension}`;
  }
}
