import type { AmiMessage } from './message.ts';
import type { AmiAction } from './writer.ts';

/** The answer to one action: its response and, for list actions, every event of the list in order. */
export interface AmiResult {
  response: AmiMessage;
  /** Items of an event list (`EventList: start` ... `XComplete`), without the Complete event. */
  events: AmiMessage[];
  /** The `...Complete` event that closed the list, when there was one. */
  complete?: AmiMessage;
}

export interface AmiActionOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * What ops need from AMI. `action` resolves with the result, or rejects with AmiError:
 * AMI_RESPONSE when Asterisk answered `Response: Error` (the error carries that message),
 * AMI_NOT_CONNECTED / AMI_DISCONNECTED / AMI_TIMEOUT when it could not get an answer.
 * The ActionID is added by the client; callers never set it.
 */
export interface AmiRunner {
  action(action: AmiAction, options?: AmiActionOptions): Promise<AmiResult>;
}

/** Unsolicited events (not part of any action's answer), for translators and op follow-ups. */
export interface AmiEventSource {
  onEvent(listener: (event: AmiMessage) => void): () => void;
}
