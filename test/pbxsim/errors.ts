/** What a scenario or a simulator control can fail with. */
export type SimErrorCode = 'SIM_NO_PHONE' | 'SIM_NOT_REGISTERED' | 'SIM_NO_CHANNEL';

export class SimError extends Error {
  constructor(
    readonly code: SimErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SimError';
  }
}
