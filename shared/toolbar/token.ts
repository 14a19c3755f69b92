import { z } from 'zod';
import { b64url, fromB64url, hmacSha256, hmacVerify } from '../auth/hmac.ts';
import { ApiError } from '../errors.ts';

/**
 * Toolbar tokens: one extension on one device, for a few hours, so a browser never holds a tenant
 * key or the WEBKEY. `tb1.<claims>.<HMAC-SHA256>` in base64url; Web Crypto only, so the same code
 * signs on the agent, the Node edge and Workers.
 */
export const TOOLBAR_TOKEN_PREFIX = 'tb1.';

export const ToolbarClaims = z.object({
  mac: z.string(),
  ext: z.string(),
  /** May listen in (extenSpy) on other extensions. */
  supervisor: z.boolean(),
  /** Expiry, epoch seconds. */
  exp: z.number().int(),
});
export type ToolbarClaims = z.infer<typeof ToolbarClaims>;

/** A signing key: raw bytes, or a secret string taken as its UTF-8 bytes. */
export type ToolbarKey = Uint8Array | string;

export const DEFAULT_TOKEN_TTL_S = 12 * 3600;
export const MAX_TOKEN_TTL_S = 24 * 3600;

const enc = new TextEncoder();

export async function signToolbarToken(key: ToolbarKey, claims: ToolbarClaims): Promise<string> {
  const body = b64url(enc.encode(JSON.stringify(claims)));
  const sig = await hmacSha256(key, body);
  return `${TOOLBAR_TOKEN_PREFIX}${body}.${b64url(sig)}`;
}

/** The bearer token of an Authorization header when it is a toolbar token, else undefined. */
export function toolbarTokenOf(authorization: string | undefined): string | undefined {
  const m = /^Bearer\s+(tb1\.\S+)\s*$/i.exec(authorization ?? '');
  return m?.[1];
}

/**
 * Checks signature, expiry and device; throws ApiError UNAUTHORIZED with the reason a person can
 * act on (sign in again), never which part of the signature was wrong.
 */
export async function verifyToolbarToken(key: ToolbarKey, token: string, mac: string, nowMs: number): Promise<ToolbarClaims> {
  const refused = new ApiError('UNAUTHORIZED', 'toolbar token refused: ask for a new one');
  if (!token.startsWith(TOOLBAR_TOKEN_PREFIX)) throw refused;
  const [body, sig, extra] = token.slice(TOOLBAR_TOKEN_PREFIX.length).split('.');
  if (body === undefined || sig === undefined || extra !== undefined) throw refused;
  const sigBytes = fromB64url(sig);
  if (!sigBytes) throw refused;
  if (!(await hmacVerify(key, sigBytes, body))) throw refused;
  const bytes = fromB64url(body);
  let parsed: unknown;
  try {
    parsed = bytes && JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw refused;
  }
  const claims = ToolbarClaims.safeParse(parsed);
  if (!claims.success) throw refused;
  if (claims.data.mac !== mac) throw new ApiError('UNAUTHORIZED', 'toolbar token is for another device');
  if (claims.data.exp * 1000 <= nowMs) throw new ApiError('UNAUTHORIZED', 'toolbar token expired: sign in again');
  return claims.data;
}

/** Body of a token request: `extension`, optional `supervisor` and `ttl` (seconds). */
export const TokenRequest = z.object({
  extension: z.string().trim().regex(/^\+?[0-9*#]{1,32}$/, 'must be digits, * or #, optionally starting with +'),
  supervisor: z
    .preprocess((v) => (typeof v === 'string' ? v === 'true' || v === '1' || v === 'yes' : v), z.boolean())
    .optional()
    .default(false)
    .meta({ description: 'true, or in a form "true", "1" or "yes"' }),
  ttl: z.coerce.number().int().min(60, 'must be at least 60 seconds').max(MAX_TOKEN_TTL_S, `must be at most ${MAX_TOKEN_TTL_S} seconds`).optional(),
});

/** The answer to a token request. */
export const TokenAnswer = z.object({
  status: z.literal('success'),
  token: z.string().meta({ description: 'tb1...; use as Authorization: Bearer, and in ?token= for the stream' }),
  extension: z.string(),
  supervisor: z.boolean(),
  expiresAt: z.iso.datetime(),
});

/** Issues a token for a validated request; the answer shows when it expires. */
export async function issueToolbarToken(key: ToolbarKey, mac: string, raw: Record<string, unknown>, nowMs: number): Promise<z.output<typeof TokenAnswer>> {
  const r = TokenRequest.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = String(issue?.path[0] ?? 'body');
    throw new ApiError('BAD_PARAMETER', `${field}: ${issue?.input === undefined ? 'is required' : issue.message}`, field);
  }
  const exp = Math.floor(nowMs / 1000) + (r.data.ttl ?? DEFAULT_TOKEN_TTL_S);
  const claims: ToolbarClaims = { mac, ext: r.data.extension, supervisor: r.data.supervisor, exp };
  return { status: 'success' as const, token: await signToolbarToken(key, claims), extension: claims.ext, supervisor: claims.supervisor, expiresAt: new Date(exp * 1000).toISOString() };
}
