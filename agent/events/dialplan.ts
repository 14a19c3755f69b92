/**
 * The dialplan contract (docs/dialplan.md): the UserEvents through which the dialplan tells the agent
 * what only it knows. Names and headers are matched exactly as written here.
 */
export const USER_EVENT = {
  /** `UserEvent(ivr,Step: <step>,IvrId: ..,IvrName: ..[,Choice: <dtmf>,Target: <queue>,Start: ${IVR_START}])` */
  ivr: 'ivr',
  /** `UserEvent(trunk,Direction: inbound|outbound,TrunkNumber: <DID or trunk number>)` */
  trunk: 'trunk',
  /** `UserEvent(feedback,Step: start)` then `UserEvent(feedback,Step: end,Score: <digit>)` */
  feedback: 'feedback',
  /** `UserEvent(voicemail,State: 1)` when the caller left a message */
  voicemail: 'voicemail',
  /** `UserEvent(forward,FwType: <unconditional|busy|noanswer>,ForwardNumber: <number>)` */
  forward: 'forward',
} as const;

/** The IVR step that carries the caller's choice: it ends the menu and makes the `ivr` event. */
export const IVR_CHOICE_STEP = 'choice';

/** The channel variable MixMonitor sets to the file it records into (a VarSet event announces it). */
export const MIXMONITOR_FILENAME = 'MIXMONITOR_FILENAME';

/**
 * The channel variable the agent's own transfer operation sets on the channel it redirects (AMI
 * Redirect raises no transfer event), so the call record can say where the call went.
 */
export const TRANSFER_VARIABLE = 'COOCENTER_TRANSFER';
