import { ApiError } from '../../shared/errors.ts';
import { technology } from './context.ts';
import { HINT_IDLE, HINT_UNAVAILABLE, hintOf } from './hints.ts';
import { isUnregistered } from './peers.ts';
import type { Phones } from './phones.ts';

/**
 * Refuses (409) to ring a phone that is unregistered or not idle, before an Originate is queued:
 * an async Originate to such a phone is accepted and fails only later, in an event the caller of
 * the REST API never sees. The hint's device state answers both questions in one action; an
 * extension without a hint falls back to the peer lists, which know registration only. What it reads
 * stays in `phones`, so finding the phone's technology afterwards costs nothing more.
 */
export async function assertPhoneFree(phones: Phones, extension: string): Promise<void> {
  const hint = hintOf(await phones.hints(), extension, phones.ctx.context);
  if (hint && hint.status !== '-1') {
    if (hint.status === HINT_UNAVAILABLE) throw unregistered(extension);
    if (hint.status !== HINT_IDLE) {
      throw new ApiError('CONFLICT', `Extension ${extension} is busy (${hint.statusText || hint.status}); try again when it is idle`);
    }
    return;
  }
  const peer = (await phones.peers()).find((p) => p.Exten === extension);
  if (!peer) {
    const kinds = phones.ctx.drivers.map(technology).join(' or ');
    throw new ApiError('CONFLICT', `Extension ${extension} is not a ${kinds} phone on this PBX`);
  }
  if (isUnregistered(peer)) throw unregistered(extension);
}

function unregistered(extension: string): ApiError {
  return new ApiError('CONFLICT', `Extension ${extension} is not registered (no phone is online for it)`);
}
