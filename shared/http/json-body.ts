import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError } from '../errors.ts';

/** A JSON request body checked against `schema`: 400 naming the field at fault otherwise. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
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

/** Parameters (query, form or path) checked against `schema`: 400 naming every field at fault otherwise. */
export function validParams<S extends z.ZodType>(schema: S, raw: Record<string, string | undefined>): z.output<S> {
  const result = schema.safeParse(raw, {
    error: (issue) => (issue.input === undefined ? 'is required' : undefined),
  });
  if (result.success) return result.data;
  const issues = result.error.issues;
  const field = String(issues[0]?.path[0] ?? 'body');
  throw new ApiError('BAD_PARAMETER', issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), field);
}
