import type { AmiMessage } from '../ami/message.ts';
import type { DialbegeinEvent } from '../../shared/events/dialbegein.ts';
import type { TranslateContext } from './context.ts';
import { callId, field } from './fields.ts';
import { documentTimestamp } from './time.ts';

/**
 * AMI DialBegin -> `dialbegein`. An originated leg (Originate, click-to-call) has only the Dest* side:
 * no channel is calling it, so `channel` and `calleridnum` are "" and `uniqueid` is the DestLinkedid.
 * The caller ID the originated phone sees is `destcalleridnum` there, as Asterisk reports it.
 */
export function dialbegein(ami: AmiMessage, ctx: TranslateContext): DialbegeinEvent {
  return {
    event: 'dialbegein',
    timestamp: documentTimestamp(ami, ctx.receivedAt),
    channel: field(ami, 'Channel'),
    calleridnum: field(ami, 'CallerIDNum'),
    destchannel: field(ami, 'DestChannel'),
    destcalleridnum: field(ami, 'DestCallerIDNum'),
    destuniqueid: field(ami, 'DestUniqueid'),
    dialstring: field(ami, 'DialString'),
    uniqueid: callId(ami),
    mac: ctx.mac,
  };
}
