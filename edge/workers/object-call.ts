import type { DurableObjectNamespace } from './platform.ts';

/**
 * JSON calls between the Worker and its objects, on `/internal/...` paths the public entry never
 * forwards (edge/workers/index.ts), so only code in this Worker can make them.
 */
export async function callObject<T>(ns: DurableObjectNamespace, name: string, method: string, path: string, body?: unknown): Promise<T | undefined> {
  const res = await ns.get(ns.idFromName(name)).fetch(`https://object${path}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

export const REGISTRY_NAME = 'registry';
