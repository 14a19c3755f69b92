import { expect } from 'vitest';
import { AmiMessage } from '../../agent/ami/message.ts';
import { CallerIdNames } from '../../agent/ops/caller-id-names.ts';
import type { OpContext } from '../../agent/ops/context.ts';
import type { AmiRunner } from '../../agent/ami/types.ts';
import type { Recording } from './replay-runner.ts';
import type { Driver } from './transcript.ts';
import { ApiError } from '../../shared/errors.ts';

/** The context the fixtures' PBX was recorded with: its dialplan context is `internal`. */
export function opContext(driver: Driver, ami: AmiRunner, extra: Partial<OpContext> = {}): OpContext {
  return {
    ami,
    driver: driver === 'chan_sip' ? 'sip' : 'pjsip',
    drivers: [driver === 'chan_sip' ? 'sip' : 'pjsip'],
    context: 'internal',
    originateTimeoutMs: 30_000,
    names: new CallerIdNames(() => 0),
    ...extra,
  };
}

/** The technology prefix of the transcripts' phones. */
export const techOf = (driver: Driver) => (driver === 'chan_sip' ? 'SIP' : 'PJSIP');

/**
 * How Asterisk 20 refuses an action whose module is not loaded (recorded in 17_error_responses for
 * `NoSuchAction`), for the action named here.
 */
export function unknownActionRecording(action: Record<string, string>): Recording {
  const response = AmiMessage.from({
    Response: 'Error',
    Message: `Invalid/unknown command: ${action.Action}. Use Action: ListCommands to show available commands.`,
  });
  return { source: 'derived: unknown action', action, result: { response, events: [] }, error: true };
}

/** The ApiError an operation rejected with; fails the test if it resolved or threw something else. */
export async function rejection(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}
