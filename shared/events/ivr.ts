import { z } from 'zod';

/** `ivr`: the caller left an IVR menu (docs/dialplan.md defines the UserEvents that feed it). */
export const IvrEvent = z.object({
  event: z.literal('ivr'),
  uuid: z.string(),
  caller: z.string(),
  called: z.string(),
  /** IN (came from a trunk), OUT (leaves by a trunk), INTERNAL (phone to phone). */
  callType: z.string(),
  queueCode: z.string(),
  startTime: z.string(),
  endTime: z.string(),
  duration: z.string(),
  ivrId: z.string(),
  ivrName: z.string(),
  ivrDtmf: z.string(),
  trunkNumber: z.string(),
  mac: z.string(),
});
export type IvrEvent = z.infer<typeof IvrEvent>;
