import { deriveKey } from '../../shared/auth/recording-url.ts';
import type { DeviceRecord } from './store.ts';

const LABEL = new TextEncoder().encode('coocenter toolbar tokens v1');

/**
 * The key a device's toolbar tokens are signed with on the edge, derived from the device's webhook
 * secret: nothing new to store or to keep in step between a Node edge's restarts or Durable
 * Objects, and rotating the webhook secret signs every toolbar of that device out.
 */
export async function toolbarKeyOf(device: DeviceRecord): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(device.webhookSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, LABEL));
}

const RECORDING_LABEL = 'coocenter recording links v1';

/** The key recording links of a device are signed with; rotating its webhook secret revokes them. */
export async function recordingKeyOf(device: DeviceRecord): Promise<Uint8Array> {
  return deriveKey(device.webhookSecret, RECORDING_LABEL);
}
