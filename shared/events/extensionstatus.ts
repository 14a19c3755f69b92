import { z } from 'zod';

/** `extensionstatus`: a hint changed state. Status 0 idle, 1 in use, 2 busy, 4 unavailable, 8 ringing, 16 on hold (sums combine). */
export const ExtensionstatusEvent = z.object({
  event: z.literal('extensionstatus'),
  exten: z.string(),
  status: z.string(),
  statustext: z.string(),
  mac: z.string(),
});
export type ExtensionstatusEvent = z.infer<typeof ExtensionstatusEvent>;
