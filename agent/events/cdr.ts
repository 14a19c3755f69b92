import type { AmiMessage } from '../ami/message.ts';
import type { CdrEvent } from '../../shared/events/cdr.ts';
import type { TranslateContext } from './context.ts';
import { field } from './fields.ts';
import { recordingPath } from './recording-path.ts';

/**
 * AMI Cdr (cdr_manager) -> `cdr`, one per record, times as Asterisk wrote them (already the PBX's
 * local `YYYY-MM-DD HH:MM:SS`).
 *
 * `calltype` and `recordfile`: a `CallType` / `RecordFile` header wins (cdr_manager.conf `[mappings]`
 * of the CDR variables the dialplan sets, docs/dialplan.md); else what the call's events announced
 * (UserEvent trunk, MIXMONITOR_FILENAME). A call that never touched a trunk is internal: "".
 */
export function cdr(ami: AmiMessage, ctx: TranslateContext): CdrEvent {
  const uniqueid = field(ami, 'UniqueID');
  const facts = ctx.facts?.get(uniqueid);
  const mapped = ami.get('RecordFile');
  return {
    event: 'cdr',
    callerid: field(ami, 'CallerID'),
    source: field(ami, 'Source'),
    destination: field(ami, 'Destination'),
    starttime: field(ami, 'StartTime'),
    answertime: field(ami, 'AnswerTime'),
    endtime: field(ami, 'EndTime'),
    disposition: field(ami, 'Disposition'),
    duration: field(ami, 'Duration'),
    billableseconds: field(ami, 'BillableSeconds'),
    calltype: ami.get('CallType') ?? facts?.direction ?? '',
    recordfile: mapped === undefined ? (facts?.recordFile ?? '') : recordingPath(mapped, ctx.monitorDir),
    uniqueid,
    mac: ctx.mac,
  };
}
