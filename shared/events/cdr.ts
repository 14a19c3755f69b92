import { z } from 'zod';
import { backfillMarks } from './backfill-marks.ts';

/** `cdr`: one per Asterisk CDR record (cdr_manager), times as Asterisk wrote them. */
export const CdrEvent = z.object({
  event: z.literal('cdr'),
  callerid: z.string(),
  source: z.string(),
  destination: z.string(),
  starttime: z.string(),
  answertime: z.string(),
  endtime: z.string(),
  disposition: z.string(),
  duration: z.string(),
  billableseconds: z.string(),
  /** inbound, outbound, or "" for an internal call. */
  calltype: z.string(),
  /** Relative to the recordings folder, "" when none. */
  recordfile: z.string(),
  /** The record's own UniqueID. */
  uniqueid: z.string(),
  mac: z.string(),
  ...backfillMarks,
});
export type CdrEvent = z.infer<typeof CdrEvent>;
