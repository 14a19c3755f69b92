import { errorResponse } from '../../shared/api/error-answer.ts';
import { normalizeMac } from '../../shared/auth/mac.ts';
import { ApiError } from '../../shared/errors.ts';
import { overKeyLimit } from './key-limit.ts';
import { REGISTRY_NAME } from './object-call.ts';
import { log } from './log.ts';
import type { Env } from './platform.ts';
import { withinLimits } from './request-limits.ts';

export { DeviceObject } from './device-object.ts';
export { RegistryObject } from './registry-object.ts';

const answer = (err: ApiError) => errorResponse(err, { log, requestId: crypto.randomUUID() });

/** `/devices/{mac}/...` and `/admin/devices/{mac}/...`: requests that belong to one device's object. */
const DEVICE_PATH = /^\/(?:admin\/)?devices\/([^/]+)\/?/;

/** The device's object by MAC, or null when the request spans devices (the registry's). */
function deviceOf(request: Request, path: string): string | null {
  if (path === '/agent/tunnel') return normalizeMac(request.headers.get('x-device-mac') ?? '') ?? null;
  const m = DEVICE_PATH.exec(path);
  return m ? (normalizeMac(decodeURIComponent(m[1]!)) ?? null) : null;
}

/**
 * The Worker: routes each request to the object that owns it. Nothing here authorizes or answers
 * API calls: that is edge/core, run inside the objects. It counts tenant keys, which span objects.
 */
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    // Object-to-object calls only; never reachable from outside.
    if (path.startsWith('/internal/')) return answer(new ApiError('NOT_FOUND', `${request.method} ${path} is not served here`));
    // Before the body is read or an object is woken: a flood on one key costs neither.
    const limited = await overKeyLimit(request, url, env);
    if (limited) return limited;
    // The tunnel upgrade carries no body; its frames are bounded by the protocol.
    const checked = path === '/agent/tunnel' ? request : await withinLimits(request);
    if (checked instanceof Response) return checked;
    const mac = deviceOf(checked, path);
    const ns = mac ? env.DEVICES : env.REGISTRY;
    const stub = ns.get(ns.idFromName(mac ?? REGISTRY_NAME));
    try {
      return await stub.fetch(checked);
    } catch (e) {
      // The object was reset (redeploy, eviction, operator restart) while it held this request.
      log({ level: 'error', msg: 'object failed mid-request', mac, path, error: e instanceof Error ? e.message : String(e) });
      return answer(
        new ApiError(
          'DEVICE_OFFLINE',
          `the edge restarted this device's session while the request was in flight; a command may or may not have reached the PBX: retry with the same Idempotency-Key, which the box honours, so it does not act twice`,
        ),
      );
    }
  },
};
