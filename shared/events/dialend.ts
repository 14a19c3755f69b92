import { z } from 'zod';

/** `dialend`: a dial attempt ended, `dialstatus` as Asterisk says it (ANSWER, BUSY, NOANSWER, CANCEL, ...). */
export const DialendEvent = z.object({
  event: z.literal('dialend'),
  timestamp: z.string(),
  channel: z.string(),
  calleridnum: z.string(),
  destchannel: z.string(),
  destcalleridnum: z.string(),
  uniqueid: z.string(),
  dialstatus: z.string(),
  mac: z.string(),
});
export type DialendEvent = z.infer<typeof DialendEvent>;
