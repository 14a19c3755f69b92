import { z } from 'zod';

/**
 * Field types every operation validates with before anything reaches AMI. Nothing here can carry a
 * CR, LF or other control character, so no value can become a second AMI header.
 */
export const phoneNumber = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(32, 'is longer than 32 characters')
  .regex(/^\+?[0-9*#]+$/, 'must be digits, * or #, optionally starting with +');

export const extension = phoneNumber;

/** Queue names in queues.conf: the document's are numbers, but Asterisk allows words too. */
export const queueName = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(64, 'is longer than 64 characters')
  .regex(/^[A-Za-z0-9_.-]+$/, 'must be letters, digits, _, . or -');

export const pauseState = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['on', 'off'], { message: 'must be on or off' }));
