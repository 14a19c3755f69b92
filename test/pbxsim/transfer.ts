import type { Channel } from './channel.ts';
import { dialEvent } from './calls.ts';
import { runDialplan } from './dialplan.ts';
import type { Pbx } from './pbx.ts';
import type { Pairs } from './wire.ts';

/** What ast_bridge_transfer_blind answers, as manager.c words it. */
export type BlindResult = 'Transfer succeeded' | 'Transfer invalid';

/**
 * AMI BlindTransfer of `transferer` (33): the party it talks to leaves the bridge and runs
 * context,exten; the transferer's leg ends (Queue: AgentComplete Reason transfer) and hangs up.
 */
export function blindTransfer(pbx: Pbx, transferer: Channel, exten: string, context: string): BlindResult {
  const b = transferer.bridge;
  const transferee = b?.channels.find((c) => c !== transferer);
  if (!b || !transferee) return 'Transfer invalid';
  pbx.emit('Unhold', 'call,all', transferer.snapshot());
  pbx.varSet(transferee, 'BLINDTRANSFER', transferer.name);
  pbx.varSet(transferer, 'BLINDTRANSFER', transferee.name);
  pbx.emit('BlindTransfer', 'call,all', [
    ['Result', 'Success'],
    ...transferer.snapshot('Transferer'),
    ...transferee.snapshot('Transferee'),
    ...pbx.bridgeFieldsOf(b),
    ['IsExternal', 'Yes'],
    ['Context', context],
    ['Extension', exten],
  ]);
  b.transfer ??= { kind: 'blind', exten, context };
  transferer.transferred = true;
  transferee.transferred = true;
  transferee.staleNewexten = true;
  transferee.context = context;
  transferee.exten = exten;
  transferee.priority = 1;
  pbx.leave(b, transferee);
  transferee.redirect = { context, exten };
  if (transferee.running) transferee.interrupt();
  else void runDialplan(pbx, transferee, context, exten);
  return 'Transfer succeeded';
}

/**
 * AMI Atxfer of `transferer` (35): the other party is held with music on hold while the transferer
 * consults context,exten over a Local pair in a bridge of its own; hanging the transferer up (AMI
 * Hangup, or its phone's BYE) completes the transfer: the consult bridge merges into the first one and
 * the ;1 half takes the transferer's place.
 */
export function atxfer(pbx: Pbx, transferer: Channel, exten: string, context: string): boolean {
  const b1 = transferer.bridge;
  const transferee = b1?.channels.find((c) => c !== transferer);
  if (!b1 || !transferee) return false;
  pbx.emit('Hold', 'call,all', transferer.snapshot());
  pbx.emit('MusicOnHoldStart', 'call,all', [...transferee.snapshot(), ['Class', 'default']]);
  const [one, two] = pbx.newLocalPair(exten, context, transferer.linkedid);
  one.consultLeg = true;
  pbx.varSet(one, 'TRANSFERERNAME', transferer.name);
  pbx.varSet(one, 'ATTENDEDTRANSFER', transferer.name);
  const b2 = pbx.newBridge();
  pbx.varSet(two, 'ATTENDEDTRANSFER', transferer.name);
  pbx.varSet(two, 'TRANSFERERNAME', transferer.name);
  pbx.setCallerId(two, transferer.callerNum, transferer.callerName);
  two.state = 4;
  pbx.emit('LocalBridge', 'call,all', [...one.snapshot('LocalOne'), ...two.snapshot('LocalTwo'), ['Context', context], ['Exten', exten], ['LocalOptimization', 'Yes']]);
  pbx.setConnected(one, transferer.callerNum, transferer.callerName);
  pbx.enter(b2, one);
  pbx.varSet(one, 'ATTENDEDTRANSFER', '');
  pbx.leave(b1, transferer);
  pbx.enter(b2, transferer);
  two.onBridgeCreated = () => {
    pbx.answer(one);
    dialEvent(pbx, 'DialEnd', undefined, { ch: one, dialString: '', start: () => Promise.resolve('ANSWER') }, [['DialStatus', 'ANSWER']]);
  };
  transferer.onHangupRequest = (event) => {
    transferer.onHangupRequest = undefined;
    // A BYE from the phone shows as usual; AMI's Hangup of a transferer shows no request (35).
    if (event === 'HangupRequest') pbx.emit('HangupRequest', 'call,all', [...transferer.snapshot(), ['Cause', '16']]);
    if (one.gone || transferee.gone || one.bridge !== b2) {
      pbx.emit('MusicOnHoldStop', 'call,all', transferee.snapshot());
      return false;
    }
    completeAtxfer(pbx, transferer, transferee, one, b1, b2);
    return true;
  };
  // The consult fails (busy, no answer): the transferer goes back to the call it held.
  two.onHangup(() => {
    if (!transferer.onHangupRequest || transferer.gone) return;
    transferer.onHangupRequest = undefined;
    if (!one.hungUp) pbx.hangup(one, 0);
    if (transferer.bridge === b2) pbx.leave(b2, transferer);
    if (b2.channels.length === 0) pbx.destroy(b2);
    pbx.emit('MusicOnHoldStop', 'call,all', transferee.snapshot());
    if (!transferee.gone && b1.channels.includes(transferee)) pbx.enter(b1, transferer);
  });
  void runDialplan(pbx, two, context, exten);
  return true;
}

function completeAtxfer(pbx: Pbx, transferer: Channel, transferee: Channel, one: Channel, b1: NonNullable<Channel['bridge']>, b2: NonNullable<Channel['bridge']>): void {
  pbx.leave(b2, transferer);
  pbx.emit('BridgeMerge', 'call,all', [...pbx.bridgeFieldsOf(b1, 'To'), ...pbx.bridgeFieldsOf(b2, 'From')]);
  pbx.leave(b2, one);
  pbx.emit('MusicOnHoldStop', 'call,all', transferee.snapshot());
  pbx.enter(b1, one);
  const body: Pairs = [
    ['Result', 'Success'],
    ...transferer.snapshot('OrigTransferer'),
    ...pbx.bridgeFieldsOf(b1, 'Orig'),
    ...transferer.snapshot('SecondTransferer'),
    ...pbx.bridgeFieldsOf(b2, 'Second'),
    ...transferee.snapshot('Transferee'),
    ['IsExternal', 'No'],
    ['DestType', 'Bridge'],
    ['DestBridgeUniqueid', b1.id],
  ];
  pbx.emit('AttendedTransfer', 'call,all', body);
  // The consult bridge merged into the first: a queue call there logs `BRIDGE|<its uniqueid>`.
  b1.transfer ??= { kind: 'attended', destBridge: b1.id };
  b1.onAttendedTransfer?.();
  pbx.destroy(b2);
  transferer.transferred = true;
  transferer.running = false;
  // The transferer's leg now has a record of its own (cdr_manager posts it before its Hangup, 35).
  transferer.postsCdr = true;
  pbx.hangup(transferer, 16);
}
