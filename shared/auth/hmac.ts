/**
 * HMAC-SHA256 and base64url with Web Crypto only, for everything the product signs itself
 * (toolbar tokens, recording links, derived keys), on the agent, the Node edge and Workers alike.
 */
export type KeyMaterial = Uint8Array | string;

const enc = new TextEncoder();

function importKey(key: KeyMaterial) {
  const raw = typeof key === 'string' ? enc.encode(key) : key;
  return crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

export async function hmacSha256(key: KeyMaterial, text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', await importKey(key), enc.encode(text)));
}

/** Checks a signature; crypto.subtle.verify compares in constant time. */
export async function hmacVerify(key: KeyMaterial, signature: Uint8Array, text: string): Promise<boolean> {
  return crypto.subtle.verify('HMAC', await importKey(key), signature as Uint8Array<ArrayBuffer>, enc.encode(text));
}

/** A purpose-bound key from a secret, so one secret never signs two kinds of thing. */
export function deriveKey(secret: KeyMaterial, purpose: string): Promise<Uint8Array> {
  return hmacSha256(secret, purpose);
}

export function b64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The bytes of a base64url text, or null when it is not base64url. */
export function fromB64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    return Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
