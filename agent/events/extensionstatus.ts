import type { AmiMessage } from '../ami/message.ts';
import type { ExtensionstatusEvent } from '../../shared/events/extensionstatus.ts';
import type { TranslateContext } from './context.ts';
import { field } from './fields.ts';

/**
 * AMI ExtensionStatus -> `extensionstatus`. One that carries an ActionID is an item of an
 * ExtensionStateList reply (someone asked for the list), not a change, so it gives nothing.
 */
export function extensionstatus(ami: AmiMessage, ctx: TranslateContext): ExtensionstatusEvent | null {
  if (ami.has('ActionID')) return null;
  return {
    event: 'extensionstatus',
    exten: field(ami, 'Exten'),
    status: field(ami, 'Status'),
    statustext: field(ami, 'StatusText'),
    mac: ctx.mac,
  };
}
