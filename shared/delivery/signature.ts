/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): `webhook-signature` is
 * `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. WebCrypto only, so the edge's Workers
 * runtime signs with the same code as the agent.
 */

const PREFIX = 'whsec_';

/**
 * The HMAC key bytes of a secret: `whsec_<base64>` (the edge's form, what receivers configure) or any
 * other text, whose UTF-8 bytes are the key (the agent's WEBHOOK_SECRET / WEBKEY; the receiver then
 * configures `whsec_` + base64 of those bytes).
 */
export function webhookSecretBytes(secret: string): Uint8Array {
  if (secret.startsWith(PREFIX)) {
    const bytes = base64Decode(secret.slice(PREFIX.length));
    if (bytes.length === 0) throw new TypeError('webhook secret whsec_ carries no key bytes');
    return bytes;
  }
  if (secret === '') throw new TypeError('webhook secret is empty');
  return new TextEncoder().encode(secret);
}

/** The `whsec_` form of a secret, as a receiver passes it to a Standard Webhooks library. */
export function toWhsec(secret: string): string {
  return secret.startsWith(PREFIX) ? secret : PREFIX + base64Encode(webhookSecretBytes(secret));
}

/** Stable per event: a retry or a replay of the same spool entry carries the same id. */
export function webhookId(mac: string, epoch: string, seq: number, id?: string): string {
  const device = mac.replace(/[:-]/g, '').toLowerCase();
  return id === undefined ? `evt_${device}_${epoch}_${seq}` : `evt_${device}_${id}`;
}

/** What an event's own id part may be (QueueEntry.id): it goes into a header and a URL-safe id. */
export const EVENT_ID_PATTERN = /^bf_[0-9a-f]{32}$/;

type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** Signs webhooks with one secret; WebhookSigner is the WebCrypto one every runtime has. */
export interface Signer {
  /** The `webhook-signature` value for this id, timestamp (epoch seconds) and body. */
  sign(id: string, timestampSeconds: number, body: string): Promise<string>;
}

/** Makes the signer for a secret; a runtime may pass a faster one than WebCrypto's. */
export type SignerFactory = (secret: string) => Promise<Signer>;

export class WebhookSigner implements Signer {
  private constructor(private readonly key: HmacKey) {}

  static async create(secret: string): Promise<WebhookSigner> {
    const key = await crypto.subtle.importKey('raw', webhookSecretBytes(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    return new WebhookSigner(key);
  }

  /** The `webhook-signature` value for this id, timestamp (epoch seconds) and body. */
  async sign(id: string, timestampSeconds: number, body: string): Promise<string> {
    const mac = await crypto.subtle.sign('HMAC', this.key, new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`));
    return `v1,${base64Encode(new Uint8Array(mac))}`;
  }
}

function base64Encode(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function base64Decode(text: string): Uint8Array {
  let raw: string;
  try {
    raw = atob(text);
  } catch {
    throw new TypeError('webhook secret after whsec_ is not base64');
  }
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}
