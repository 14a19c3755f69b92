import { verifyRecordingSignature } from '../auth/recording-url.ts';
import { ApiError } from '../errors.ts';
import { toolbarTokenOf, verifyToolbarToken, type ToolbarKey } from '../toolbar/token.ts';

/** Who is calling a device's routes, for authorization decisions and the audit log. */
export type Principal =
  | { kind: 'admin' }
  | { kind: 'tenant'; tenant: string; keyId: string }
  | { kind: 'webkey' }
  /** A toolbar token: one extension of this device (shared/toolbar/token.ts). */
  | { kind: 'toolbar'; ext: string; supervisor: boolean }
  /** A signed recording link: one file of this device, until it expires (shared/auth/recording-url.ts). */
  | { kind: 'link' }
  /** No Authorization where none is asked for (no WEBKEY on the LAN, `allowUnauthenticated` on the edge). */
  | { kind: 'open' };

export const actorOf = (p: Principal): string =>
  p.kind === 'tenant' ? `tenant:${p.tenant}` : p.kind === 'toolbar' ? `toolbar:${p.ext}${p.supervisor ? ':supervisor' : ''}` : p.kind;

/** What a request brings to prove who it is. */
export interface Credentials {
  /** The Authorization header as sent. */
  authorization: string | undefined;
  /** A signed recording link (`?exp=&sig=`) and the checked path of the file it is for. */
  link?: { relPath: string; exp: string | undefined; sig: string };
}

/** What each side knows of its devices: the agent its own box, an edge its store. */
export interface DeviceKeys<D> {
  /** The device addressed; 404 when there is none. */
  device(mac: string): Promise<D>;
  /** The key its recording links are signed with; absent where none are signed (a link then proves nothing). */
  linkKey?(device: D): Uint8Array | Promise<Uint8Array>;
  /** The key its toolbar tokens are signed with; absent where none are issued (a `tb1.` value is then an ordinary one). */
  toolbarKey?(device: D): ToolbarKey | Promise<ToolbarKey>;
  /** Any other Authorization (a key, a WEBKEY digest, none): who it is for this device, or 401/403/404. */
  principal(authorization: string | undefined, mac: string): Promise<{ principal: Principal; device: D }>;
}

export interface AuthenticatorOptions<D> {
  keys: DeviceKeys<D>;
  /**
   * Counts one request of this Authorization value; throws (or rejects with) RateLimitedError. Absent:
   * counted in front of the app. Several Node edges count in their shared store.
   */
  limitKey?(name: string): void | Promise<void>;
  /** Counts one request for the device (one PBX's AMI); throws RateLimitedError. */
  limitDevice(mac: string): void;
  now(): number;
}

export type Authenticator<D> = (mac: string, credentials: Credentials) => Promise<{ principal: Principal; device: D }>;

/**
 * Where a request to a device's routes is authenticated, on the agent's LAN port and on both edges:
 * request -> principal, with the rate limits counted here and only here, in one order.
 *
 * - A signed recording link proves itself for its one file: it carries no key, so only the device
 *   counts it.
 * - Anything else is counted under its Authorization value first, before the value is checked, so a
 *   flood of bad keys costs no lookup; then a toolbar token, or the side's own keys; then the device,
 *   once the caller is known, so bad keys do not use up a device's share.
 */
export function createAuthenticator<D>(o: AuthenticatorOptions<D>): Authenticator<D> {
  const { keys } = o;
  return async (mac, credentials) => {
    const { link, authorization } = credentials;
    if (link && keys.linkKey) {
      const device = await keys.device(mac);
      o.limitDevice(mac);
      await verifyRecordingSignature(await keys.linkKey(device), mac, link.relPath, link.exp, link.sig, o.now());
      return { principal: { kind: 'link' }, device };
    }
    await o.limitKey?.(authorization?.trim() || 'no Authorization');
    const token = keys.toolbarKey && toolbarTokenOf(authorization);
    let caller: { principal: Principal; device: D };
    if (keys.toolbarKey && token) {
      const device = await keys.device(mac);
      const claims = await verifyToolbarToken(await keys.toolbarKey(device), token, mac, o.now());
      caller = { principal: { kind: 'toolbar', ext: claims.ext, supervisor: claims.supervisor }, device };
    } else caller = await keys.principal(authorization, mac);
    o.limitDevice(mac);
    return caller;
  };
}

/** Throws 403 unless the principal is one of `kinds`; `what` says what they may do. */
export function requirePrincipal(p: Principal, kinds: readonly Principal['kind'][], what: string): void {
  if (!kinds.includes(p.kind)) throw new ApiError('FORBIDDEN', what);
}
