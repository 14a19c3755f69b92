import { z } from 'zod';

/** Bodies the admin API validates, once, for its routes and for /openapi.json. */
export const tenantBody = z.object({ name: z.string().trim().min(1).max(200) });
export const deviceBody = z.object({
  tenant: z.string().min(1).max(64),
  url: z.url({ protocol: /^https?$/ }).max(2048).nullable().optional(),
  allowUnauthenticated: z.boolean().optional(),
  allowWebkey: z.boolean().optional(),
  types: z.array(z.string().min(1).max(64)).max(32).nullable().optional(),
});
export const replayBody = z.object({ from: z.number().int().nonnegative() });
