import { AmiError } from '../ami/errors.ts';

/**
 * True when Asterisk answered `Response: Error` with a message matching `pattern`: the few refusals
 * an op turns into a documented answer. Anything else propagates and AmiDevice maps it.
 */
export function refusedWith(err: unknown, pattern: RegExp): boolean {
  return err instanceof AmiError && err.code === 'AMI_RESPONSE' && pattern.test(err.amiMessage ?? '');
}
