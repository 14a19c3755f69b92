import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError } from '../errors.ts';

/** A JSON request body checked against `schema`: 400 naming the field at fault otherwise. */
export async function jsonBody<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  let json: unknown;
  try {
    json = await c.req.json();
  } catch {
    throw new ApiError('BAD_PARAMETER', 'body: expected JSON', 'body');
  }
  const r = schema.safeParse(json);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = String(issue?.path[0] ?? 'body');
  throw new ApiError('BAD_PARAMETER', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`, field);
}
