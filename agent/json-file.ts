import { readFile } from 'node:fs/promises';
import type { z } from 'zod';

/** A file of the agent's own (its spool, its state) that is not what the agent wrote there. */
export class StateFileError extends Error {
  constructor(path: string, detail: string) {
    super(`${path} is unreadable: ${detail}`);
    this.name = 'StateFileError';
  }
}

/** JSON text parsed, or undefined when it is not JSON (a line torn by a crash mid-write). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The first thing a schema refused, as a person reads it. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
}

/**
 * A JSON file read from disk and checked against `schema` (the network is parsed by zod, and so is
 * what the agent reads back from disk); undefined when there is no file. Throws StateFileError when
 * the file is not JSON or not of the schema's shape.
 */
export async function readJsonFile<S extends z.ZodType>(path: string, schema: S): Promise<z.output<S> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const json = parseJson(text);
  if (json === undefined) throw new StateFileError(path, 'not JSON');
  const r = schema.safeParse(json);
  if (!r.success) throw new StateFileError(path, firstIssue(r.error));
  return r.data;
}
