import { z } from 'zod';
import { ApiError } from '../errors.ts';
import { b64url, fromB64url, hmacSha256, hmacVerify } from './hmac.ts';
import { monitorRelPath } from '../http/monitor-path.ts';

/**
 * Signed, expiring recording URLs (docs/api.md "Scoped tokens"): an `<audio>` element cannot send an
 * Authorization header, so a CRM asks for a URL that carries its own proof, for one file of one
 * device, for a limited time. `?exp=<epoch s>&sig=<base64url HMAC-SHA256 of mac, path and exp>`.
 * Web Crypto only: the same code signs and checks on the agent, the Node edge and Workers.
 */
export const DEFAULT_RECORDING_URL_TTL_S = 3600;
export const MAX_RECORDING_URL_TTL_S = 7 * 24 * 3600;

export const signRecordingBody = z.object({
  /** The file's path below the recordings folder, as cc_cdr.filePath gives it. */
  path: z.string().min(1).max(1024),
  ttl: z.number().int().min(1).max(MAX_RECORDING_URL_TTL_S).optional(),
});

const payload = (mac: string, relPath: string, exp: number) => `rec1\n${mac}\n${relPath}\n${exp}`;

/** The path under `/monitor/` with each segment percent-encoded, as the URL carries it. */
export const encodeRecordingPath = (relPath: string) => relPath.split('/').map(encodeURIComponent).join('/');

/** Signs one file for `ttlS` seconds; `relPath` is checked as the monitor route checks it. */
export async function signRecording(key: Uint8Array, mac: string, path: string, nowMs: number, ttlS = DEFAULT_RECORDING_URL_TTL_S) {
  const relPath = monitorRelPath(encodeRecordingPath(path));
  const exp = Math.floor(nowMs / 1000) + ttlS;
  const sig = b64url(await hmacSha256(key, payload(mac, relPath, exp)));
  return { relPath, query: `exp=${exp}&sig=${sig}`, expiresAt: new Date(exp * 1000).toISOString() };
}

/** Throws 401 unless `sig` signs this file of this device and `exp` has not passed. */
export async function verifyRecordingSignature(key: Uint8Array, mac: string, relPath: string, exp: string | undefined, sig: string | undefined, nowMs: number): Promise<void> {
  const expS = Number(exp);
  if (!exp || !sig || !Number.isInteger(expS)) throw new ApiError('UNAUTHORIZED', 'recording link: exp and sig are required');
  if (expS * 1000 <= nowMs) throw new ApiError('UNAUTHORIZED', 'recording link has expired; ask for a new one');
  const sigBytes = fromB64url(sig);
  if (!sigBytes || !(await hmacVerify(key, sigBytes, payload(mac, relPath, expS)))) {
    throw new ApiError('UNAUTHORIZED', 'recording link signature does not match this file');
  }
}
