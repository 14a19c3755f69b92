import type { AmiMessage } from './message.ts';

/** Stable codes for everything the AMI client can fail with. */
export type AmiErrorCode =
  | 'AMI_NOT_CONNECTED' // no logged-in session right now (connecting, reconnecting, closed)
  | 'AMI_DISCONNECTED' // the connection dropped while the action was in flight
  | 'AMI_TIMEOUT' // no complete answer within the action's timeout
  | 'AMI_AUTH' // Asterisk refused the login
  | 'AMI_RESPONSE' // Asterisk answered `Response: Error`
  | 'AMI_ABORTED' // the caller's AbortSignal fired
  | 'AMI_CLOSED'; // the client was closed for good

export class AmiError extends Error {
  constructor(
    readonly code: AmiErrorCode,
    message: string,
    /** The `Response: Error` message, for AMI_RESPONSE. */
    readonly response?: AmiMessage,
  ) {
    super(message);
    this.name = 'AmiError';
  }

  /** Asterisk's own `Message:` text, for AMI_RESPONSE. */
  get amiMessage(): string | undefined {
    return this.response?.get('Message');
  }
}
