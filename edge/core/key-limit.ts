/** Device routes that carry no key of their own: the toolbar page, and its stream (token in `?token=`). */
const KEYLESS = new Set(['toolbar', 'toolbar/stream']);
const DEVICE_ROUTE = /^\/devices\/[^/]+\/(.+)$/;

/**
 * What the per-key rate limit counts a request under, or null when it does not count it: every
 * request to a device's routes (`/devices/{mac}/...`: its API, status, recording links, toolbar
 * tokens) under its Authorization value, checked before the value is, so a flood of bad keys costs
 * no lookups; requests without one share one name. Not counted: CORS preflights, the toolbar page
 * and stream, and signed recording links (`?sig=`: no key, the link proves itself). The Workers
 * edge counts with it in the Worker in front of its device objects (edge/workers/key-limit.ts), so a
 * key is counted across all its devices; the Node edge and the agent count the same requests where
 * they authenticate them (shared/api/authenticate.ts).
 */
export function keyLimitName(method: string, url: URL, authorization: string | null | undefined): string | null {
  if (method === 'OPTIONS') return null;
  const route = DEVICE_ROUTE.exec(url.pathname)?.[1];
  if (route === undefined || KEYLESS.has(route.replace(/\/$/, ''))) return null;
  if (route.startsWith('coocenter-api/monitor/') && url.searchParams.has('sig')) return null;
  return authorization?.trim() || 'no Authorization';
}
