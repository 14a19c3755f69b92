import type { AmiMessage } from '../ami/message.ts';
import type { DialendEvent } from '../../shared/events/dialend.ts';
import type { TranslateContext } from './context.ts';
import { callId, field } from './fields.ts';
import { documentTimestamp } from './time.ts';

/** AMI DialEnd -> `dialend`, DialStatus passed through (ANSWER, BUSY, NOANSWER, CANCEL, ...). */
export function dialend(ami: AmiMessage, ctx: TranslateContext): DialendEvent {
  return {
    event: 'dialend',
    timestamp: documentTimestamp(ami, ctx.receivedAt),
    channel: field(ami, 'Channel'),
    calleridnum: field(ami, 'CallerIDNum'),
    destchannel: field(ami, 'DestChannel'),
    destcalleridnum: field(ami, 'DestCallerIDNum'),
    uniqueid: callId(ami),
    dialstatus: field(ami, 'DialStatus'),
    mac: ctx.mac,
  };
}
