import type { OperationName } from '../api/operations.ts';
import type { Device } from '../device.ts';
import { ApiError } from '../errors.ts';
import type { ToolbarClaims } from './token.ts';

/** The parameter naming the extension an operation acts for; reads have none and are allowed. */
const OWN_EXTENSION: Partial<Record<OperationName, string>> = {
  'agent-pause': 'member',
  'agent-login': 'extension',
  'agent-logout': 'extension',
  'click-number': 'src',
  hangup: 'extension',
  transfer: 'src',
  'exten-spy': 'src',
};

/** Operations a toolbar token may run: the reads the page shows, and the agent's own buttons. */
const READS = new Set<OperationName>(['current-calls', 'extension-status', 'extension-hints-status', 'queue-info']);

/**
 * A toolbar token acts for its own extension only: a token for 801 cannot hang up 802, pause 802 or
 * dial from 802. Listening in needs the supervisor flag. The blacklist and recordings are the CRM's,
 * not the agent's. Checked on the validated parameters, after the route parsed them.
 */
export function checkToolbarScope(claims: Pick<ToolbarClaims, 'ext' | 'supervisor'>, op: OperationName, params: Readonly<Record<string, string>>): void {
  if (READS.has(op)) return;
  const field = OWN_EXTENSION[op];
  if (!field) throw new ApiError('FORBIDDEN', `a toolbar token cannot use ${op}`);
  if (params[field] !== claims.ext) {
    throw new ApiError('FORBIDDEN', `${field}: this toolbar acts for extension ${claims.ext} only, not ${params[field] ?? '(none)'}`);
  }
  if (op === 'exten-spy' && !claims.supervisor) throw new ApiError('FORBIDDEN', 'listening in needs a supervisor toolbar token');
}

/** The device as a toolbar token may use it. */
export function scopedDevice(inner: Device, claims: Pick<ToolbarClaims, 'ext' | 'supervisor'>): Device {
  return {
    async run(op, params, options) {
      checkToolbarScope(claims, op, params as Readonly<Record<string, string>>);
      return await inner.run(op, params, options);
    },
    openRecording() {
      return Promise.reject(new ApiError('FORBIDDEN', 'a toolbar token cannot fetch recordings'));
    },
  };
}
