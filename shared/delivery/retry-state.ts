import { z } from 'zod';

/**
 * Where the head event stands in its retry schedule, kept with the queue so a restart (or a Durable
 * Object's eviction) goes on with attempt n+1 at its time instead of starting the schedule over.
 */
export const retryStateSchema = z.object({
  epoch: z.string().max(64),
  seq: z.number().int(),
  /** Failed attempts of that event so far. */
  attempts: z.number().int().nonnegative(),
  /** 4xx answers in a row (three set it aside). */
  rejections: z.number().int().nonnegative(),
  /** Epoch ms of the next attempt; null: at once. */
  nextAttemptAt: z.number().nullable(),
  /** The receiver's last answer, for status and for the dead letter's reason. */
  lastError: z.object({ at: z.number(), status: z.number().int().nullable(), message: z.string().max(2000) }).nullable(),
});

export type RetryState = z.infer<typeof retryStateSchema>;

/** Reads a stored state; anything unreadable is no state (the schedule starts over), never a crash. */
export function parseRetryState(text: string | null | undefined): RetryState | null {
  if (!text) return null;
  try {
    const r = retryStateSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
