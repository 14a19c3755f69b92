/**
 * Keys and tokens the edge issues. Only their SHA-256 is stored; comparing hashes (not the secrets)
 * means a timing difference could at most reveal a hash prefix, which does not help find a secret.
 */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * sha256Hex remembering its last `max` answers: every API request hashes its bearer key to look it
 * up, and crypto.subtle.digest costs about as much as the rest of the edge's work on a relayed
 * command. Only the hash is remembered as an answer; the lookup by hash still runs every request,
 * so a removed key stops working at once. The map holds keys the process saw anyway; it is emptied
 * when full, so a flood of made-up keys costs memory only up to `max`.
 */
export function cachedSha256Hex(max = 1024): (text: string) => Promise<string> {
  let cache = new Map<string, Promise<string>>();
  return (text) => {
    let hash = cache.get(text);
    if (hash === undefined) {
      if (cache.size >= max) cache = new Map();
      hash = sha256Hex(text);
      cache.set(text, hash);
    }
    return hash;
  };
}

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A secret with a prefix that says what it is (`cok_` tenant key, `cdt_` device token), 256 bits. */
export const newSecret = (prefix: string): string => `${prefix}${base64url(randomBytes(32))}`;

/** Standard Webhooks secret: `whsec_` + base64 of 24 random bytes. */
export const newWebhookSecret = (): string => `whsec_${btoa(String.fromCharCode(...randomBytes(24)))}`;

/** A short public id (tenants, keys): not a secret. */
export const newId = (prefix: string): string => `${prefix}${base64url(randomBytes(9))}`;
