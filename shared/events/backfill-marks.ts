import { z } from 'zod';

/**
 * What a `cdr` or `cc_cdr` rebuilt from the box's own records after a gap carries besides its
 * fields: the mark, and the fields those records cannot tell (sent as "" or 0, never guessed).
 */
export const backfillMarks = {
  backfilled: z.literal(true).optional(),
  unknown: z.array(z.string()).optional(),
};
