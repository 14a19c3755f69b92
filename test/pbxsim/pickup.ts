import type { Channel } from './channel.ts';
import type { Pbx } from './pbx.ts';

/**
 * Directed pickup, as Asterisk's main/pickup.c `ast_do_pickup` and main/channel.c `ast_channel_move`
 * (-> `channel_do_masquerade`) do it. No recording exists; the README ("Directed pickup") gives the
 * derivation. The picker's channel (SIP/806-A, U806, its own Linkedid) is answered, then the
 * masquerade swaps the two channel structs' names, Uniqueids, Linkedids, caller ids and states: the
 * struct in the caller's Dial becomes SIP/806-A (U806, Linkedid U806) and the picker's old struct
 * becomes SIP/804-B (U804, the call's Linkedid), which PickupChan then hangs up with cause 26
 * (Answered elsewhere). The caller's Dial (or app_queue) sees its leg answered.
 */

/** The ringing leg a directed pickup of `device` (`SIP/804`) takes: the oldest still alerting. */
export function pickupTarget(pbx: Pbx, device: string): Channel | undefined {
  return [...pbx.channels.values()].find((c) => c.device === device && c.outbound && c.state === 5 && !c.gone && c.pickedUp !== undefined);
}

/** Swaps what a masquerade swaps between two channel structs, and re-keys them. */
function masquerade(pbx: Pbx, original: Channel, clone: Channel): void {
  pbx.channels.delete(original.name);
  pbx.channels.delete(clone.name);
  const swap = <K extends 'name' | 'device' | 'uniqueid' | 'linkedid' | 'callerNum' | 'callerName' | 'state' | 'postsCdr'>(k: K) => {
    const v = original[k];
    original[k] = clone[k];
    clone[k] = v;
  };
  for (const k of ['name', 'device', 'uniqueid', 'linkedid', 'callerNum', 'callerName', 'state', 'postsCdr'] as const) swap(k);
  const cdrs = original.cdrs.splice(0);
  original.cdrs.push(...clone.cdrs.splice(0));
  clone.cdrs.push(...cdrs);
  pbx.channels.set(original.name, original);
  pbx.channels.set(clone.name, clone);
}

/**
 * PickupChan(device) run by `picker`: false when nothing rings there (the dialplan then just ends).
 * On success the picker's old struct has hung up and the target leg is answered as the picker.
 */
export function pickupChan(pbx: Pbx, picker: Channel, device: string): boolean {
  const target = pickupTarget(pbx, device);
  if (!target) return false;
  const answered = target.pickedUp;
  target.pickedUp = undefined;
  // The picker learns who it is talking to, answers, and is marked answered elsewhere for the hangup.
  pbx.setConnected(picker, target.connectedNum, target.connectedName);
  pbx.answer(picker);
  picker.cause = 26;
  const pickerSnapshot = picker.snapshot();
  const targetSnapshot = target.snapshot('Target');
  const devices = [target.device, picker.device];
  masquerade(pbx, target, picker);
  target.outbound = false;
  target.answeredAt = pbx.now();
  pbx.emit('Pickup', 'call,all', [...pickerSnapshot, ...targetSnapshot]);
  picker.running = false;
  pbx.hangup(picker, 26);
  for (const d of devices) pbx.refreshDevice(d);
  answered?.();
  return true;
}
