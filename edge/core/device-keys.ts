import { deriveKey } from '../../shared/auth/hmac.ts';
import type { DeviceRecord } from './store.ts';

/*
 * The keys a device's toolbar tokens and recording links are signed with on the edge, derived from
 * the device's webhook secret: nothing new to store or to keep in step between a Node edge's restarts
 * or Durable Objects, and rotating the webhook secret revokes every token and link of that device.
 */

export const toolbarKeyOf = (device: DeviceRecord): Promise<Uint8Array> => deriveKey(device.webhookSecret, 'coocenter toolbar tokens v1');

export const recordingKeyOf = (device: DeviceRecord): Promise<Uint8Array> => deriveKey(device.webhookSecret, 'coocenter recording links v1');
