import { z } from 'zod';

/** `dialbegein` (sic: the document's spelling, which receivers match on): a dial attempt started. */
export const DialbegeinEvent = z.object({
  event: z.literal('dialbegein'),
  timestamp: z.string(),
  /** The calling channel; "" on an originated leg, which has no caller channel. */
  channel: z.string(),
  calleridnum: z.string(),
  destchannel: z.string(),
  destcalleridnum: z.string(),
  destuniqueid: z.string(),
  dialstring: z.string(),
  /** The call's Linkedid. */
  uniqueid: z.string(),
  mac: z.string(),
});
export type DialbegeinEvent = z.infer<typeof DialbegeinEvent>;
