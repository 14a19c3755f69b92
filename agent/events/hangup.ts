import type { AmiMessage } from '../ami/message.ts';
import type { HangupEvent } from '../../shared/events/hangup.ts';
import type { TranslateContext } from './context.ts';
import { callId, field } from './fields.ts';

/** AMI Hangup -> `hangup`, one per channel, with the channel named. */
export function hangup(ami: AmiMessage, ctx: TranslateContext): HangupEvent {
  return {
    event: 'hangup',
    channel: field(ami, 'Channel'),
    calleridnum: field(ami, 'CallerIDNum'),
    calleridname: field(ami, 'CallerIDName'),
    connectedlinenum: field(ami, 'ConnectedLineNum'),
    connectedlinename: field(ami, 'ConnectedLineName'),
    uniqueid: callId(ami),
    mac: ctx.mac,
  };
}
