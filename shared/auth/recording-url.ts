import { z } from 'zod';
import { ApiError } from '../errors.ts';
import { monitorRelPath } from '../http/monitor-path.ts';

/**
 * Signed, expiring recording URLs (SPEC "Scoped tokens"): an `<audio>` element cannot send an
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

const enc = new TextEncoder();

async function hmac(key: Uint8Array, text: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, enc.encode(text)));
}

function b64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const payload = (mac: string, relPath: string, exp: number) => `rec1\n${mac}\n${relPath}\n${exp}`;

/** The path under `/monitor/` with each segment percent-encoded, as the URL carries it. */
export const encodeRecordingPath = (relPath: string) => relPath.split('/').map(encodeURIComponent).join('/');

/** Signs one file for `ttlS` seconds; `relPath` is checked as the monitor route checks it. */
export async function signRecording(key: Uint8Array, mac: string, path: string, nowMs: number, ttlS = DEFAULT_RECORDING_URL_TTL_S) {
  const relPath = monitorRelPath(encodeRecordingPath(path));
  const exp = Math.floor(nowMs / 1000) + ttlS;
  const sig = b64url(await hmac(key, payload(mac, relPath, exp)));
  return { relPath, query: `exp=${exp}&sig=${sig}`, expiresAt: new Date(exp * 1000).toISOString() };
}

/** Throws 401 unless `sig` signs this file of this device and `exp` has not passed. */
export async function verifyRecordingSignature(key: Uint8Array, mac: string, relPath: string, exp: string | undefined, sig: string | undefined, nowMs: number): Promise<void> {
  const expS = Number(exp);
  if (!exp || !sig || !Number.isInteger(expS)) throw new ApiError('UNAUTHORIZED', 'recording link: exp and sig are required');
  if (expS * 1000 <= nowMs) throw new ApiError('UNAUTHORIZED', 'recording link has expired; ask for a new one');
  const want = b64url(await hmac(key, payload(mac, relPath, expS)));
  // Constant time over the expected length, so a near match is not told apart from a miss.
  let diff = want.length ^ sig.length;
  for (let i = 0; i < want.length; i++) diff |= want.charCodeAt(i) ^ (sig.charCodeAt(i) || 0);
  if (diff !== 0) throw new ApiError('UNAUTHORIZED', 'recording link signature does not match this file');
}

/** A purpose-bound key from a device secret, so one secret never signs two kinds of thing. */
export async function deriveKey(secret: Uint8Array | string, purpose: string): Promise<Uint8Array> {
  return hmac(typeof secret === 'string' ? enc.encode(secret) : secret, purpose);
}
