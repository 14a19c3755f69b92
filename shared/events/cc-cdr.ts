import { z } from 'zod';
import { backfillMarks } from './backfill-marks.ts';

export const CC_CDR_STATES = ['bridged', 'feedback', 'queue', 'ivr', ''] as const;
export const MISS_CAUSES = ['NO_AGENT_LOGIN', 'MEMBER_CANCEL', 'NO_AGENT_ANSWER', 'NO_ASSIGN', ''] as const;

/**
 * `cc_cdr`: the one-per-call summary. Every value is a string as in the document's example, except
 * holdTime and pauseTime, which the example shows as numbers. Durations are whole seconds.
 */
export const CcCdrEvent = z.object({
  event: z.literal('cc_cdr'),
  uuid: z.string(),
  caller: z.string(),
  called: z.string(),
  queueCode: z.string(),
  agentCode: z.string(),
  /** incoming, outgoing or internal. */
  callType: z.string(),
  /** Where the call was when it ended; "" when it reached none of these (e.g. a busy direct call). */
  cdrState: z.enum(CC_CDR_STATES),
  /** caller, agent (queue member), callee (direct call), or "" when unknown. */
  hangupSide: z.string(),
  hangupCause: z.string(),
  startTime: z.string(),
  endTime: z.string(),
  duration: z.string(),
  queueTime: z.string(),
  feedbackTime: z.string(),
  ivrTime: z.string(),
  ringTime: z.string(),
  holdTime: z.number(),
  pauseTime: z.number(),
  talkingTime: z.string(),
  voicemailState: z.string(),
  ivrId: z.string(),
  ivrName: z.string(),
  ivrDtmf: z.string(),
  fwType: z.string(),
  score: z.string(),
  trunkNumber: z.string(),
  forwardNumber: z.string(),
  filePath: z.string(),
  missCause: z.enum(MISS_CAUSES),
  mac: z.string(),
  ...backfillMarks,
});
export type CcCdrEvent = z.infer<typeof CcCdrEvent>;
