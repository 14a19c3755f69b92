import type { AmiMessage } from '../ami/message.ts';
import type { ExtensionDirectory } from '../extensions.ts';
import { field } from './fields.ts';

/**
 * Direction without the dialplan's help: a call whose first channel is a trunk's came in (its DID is
 * the extension it started in), a call that dials a trunk goes out. A dialplan UserEvent(trunk) wins.
 */
export function inferDirection(ami: AmiMessage, directory: ExtensionDirectory | undefined): { direction: 'inbound' | 'outbound'; trunkNumber: string } | undefined {
  if (!directory?.known) return undefined;
  if (ami.event === 'Newchannel') {
    if (ami.get('Uniqueid') !== ami.get('Linkedid') || !directory.isTrunk(field(ami, 'Channel'))) return undefined;
    const exten = field(ami, 'Exten');
    return { direction: 'inbound', trunkNumber: exten === 's' ? '' : exten };
  }
  const from = field(ami, 'Channel');
  if (directory.isTrunk(field(ami, 'DestChannel')) && !directory.isTrunk(from)) return { direction: 'outbound', trunkNumber: '' };
  return undefined;
}
