import type { AmiMessage } from '../ami/message.ts';
import type { IvrEvent } from '../../shared/events/ivr.ts';
import type { TranslateContext } from './context.ts';
import { IVR_CHOICE_STEP, USER_EVENT } from './dialplan.ts';
import { callId, field } from './fields.ts';
import { eventTimeMs, formatPbxTime, seconds } from './time.ts';

const CALL_TYPE = { inbound: 'IN', outbound: 'OUT' } as const;

/**
 * `UserEvent: ivr` with `Step: choice` -> `ivr` (other steps only mark the entry, kept as a call fact).
 * The menu's start is the dialplan's `Start` header (epoch seconds, survives an agent restart), else
 * the time of the call's first IVR step, else this event (duration 0).
 */
export function ivr(ami: AmiMessage, ctx: TranslateContext): IvrEvent | null {
  if (ami.get('UserEvent') !== USER_EVENT.ivr || field(ami, 'Step') !== IVR_CHOICE_STEP) return null;
  const id = callId(ami);
  const facts = ctx.facts?.get(id);
  const end = eventTimeMs(ami, ctx.receivedAt);
  const startHeader = Number(field(ami, 'Start'));
  const start = field(ami, 'Start') !== '' && Number.isFinite(startHeader) ? startHeader * 1000 : (facts?.ivrStartMs ?? end);
  return {
    event: 'ivr',
    uuid: id,
    caller: field(ami, 'CallerIDNum'),
    called: field(ami, 'Called'),
    callType: facts?.direction ? CALL_TYPE[facts.direction] : 'INTERNAL',
    queueCode: field(ami, 'Target'),
    startTime: formatPbxTime(start, ctx.timeZone),
    endTime: formatPbxTime(end, ctx.timeZone),
    duration: String(seconds(start, end)),
    ivrId: field(ami, 'IvrId'),
    ivrName: field(ami, 'IvrName'),
    ivrDtmf: field(ami, 'Choice'),
    trunkNumber: field(ami, 'TrunkNumber') || (facts?.trunkNumber ?? ''),
    mac: ctx.mac,
  };
}
