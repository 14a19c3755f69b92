import { z } from 'zod';

/** `hangup`: one per channel as Asterisk hangs it up; `channel` is added to the document's fields. */
export const HangupEvent = z.object({
  event: z.literal('hangup'),
  channel: z.string(),
  calleridnum: z.string(),
  calleridname: z.string(),
  connectedlinenum: z.string(),
  connectedlinename: z.string(),
  uniqueid: z.string(),
  mac: z.string(),
});
export type HangupEvent = z.infer<typeof HangupEvent>;
