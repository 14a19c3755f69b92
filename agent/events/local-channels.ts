import type { AmiMessage } from '../ami/message.ts';
import { isLocalChannel, localPair } from '../extensions.ts';
import { field } from './fields.ts';

/** A phone channel and the number it shows. */
export interface Phone {
  channel: string;
  num: string;
}

const MAX_TRACKED = 5000;
/** Variables Asterisk sets on an attended transfer's consult pair, naming the transferring phone. */
export const TRANSFERER_VARIABLES: ReadonlySet<string> = new Set(['ATTENDEDTRANSFER', 'TRANSFERERNAME']);

/**
 * Which phone stands behind each Local channel pair: the phone that dialled its `;1` half (a queue
 * member `Local/802@agents/n`), or the phone bridged with its `;1` half (an attended transfer's consult,
 * where Asterisk creates the pair for the transferring phone). Local channels are plumbing: an event on
 * a Local leg is told with this phone, or not at all.
 */
export class LocalChannels {
  private readonly behind = new Map<string, Phone>();
  /** Bridge id -> channels in it, only while a Local channel is among them or may join. */
  private readonly bridges = new Map<string, Map<string, string>>();

  /** The phone behind a Local channel, once known. */
  phoneBehind(channel: string): Phone | undefined {
    return this.behind.get(localPair(channel));
  }

  note(ami: AmiMessage): void {
    switch (ami.event) {
      case 'DialBegin': {
        const from = field(ami, 'Channel');
        const to = field(ami, 'DestChannel');
        if (from !== '' && !isLocalChannel(from) && isLocalChannel(to)) this.set(to, { channel: from, num: field(ami, 'CallerIDNum') });
        break;
      }
      case 'VarSet': {
        const channel = field(ami, 'Channel');
        const value = field(ami, 'Value');
        if (TRANSFERER_VARIABLES.has(ami.get('Variable') ?? '') && isLocalChannel(channel) && value !== '' && !this.behind.has(localPair(channel))) {
          this.set(channel, { channel: value, num: '' });
        }
        break;
      }
      case 'BridgeEnter': {
        const bridge = ami.get('BridgeUniqueid') ?? '';
        const channel = field(ami, 'Channel');
        const members = this.bridges.get(bridge) ?? new Map<string, string>();
        members.set(channel, field(ami, 'CallerIDNum'));
        if (!this.bridges.has(bridge) && this.bridges.size < MAX_TRACKED) this.bridges.set(bridge, members);
        // The consult's `;1` half shares a bridge with the transferring phone.
        for (const [a, aNum] of members) {
          if (!a.endsWith(';1') || !isLocalChannel(a)) continue;
          for (const [b, bNum] of members) if (!isLocalChannel(b)) this.set(a, { channel: b, num: bNum || aNum });
        }
        break;
      }
      case 'BridgeLeave': {
        const bridge = ami.get('BridgeUniqueid') ?? '';
        const members = this.bridges.get(bridge);
        members?.delete(field(ami, 'Channel'));
        if (members?.size === 0) this.bridges.delete(bridge);
        break;
      }
      case 'Hangup': {
        const channel = field(ami, 'Channel');
        if (channel.endsWith(';2') && isLocalChannel(channel)) this.behind.delete(localPair(channel));
        break;
      }
    }
  }

  private set(localChannel: string, phone: Phone): void {
    const pair = localPair(localChannel);
    if (this.behind.has(pair)) return;
    if (this.behind.size >= MAX_TRACKED) this.behind.delete(this.behind.keys().next().value as string);
    this.behind.set(pair, phone);
  }
}
