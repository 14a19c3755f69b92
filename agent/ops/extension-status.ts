import type { OperationParams } from '../../shared/api/operations.ts';
import type { OpContext } from './context.ts';
import { listPeers } from './peers.ts';

/**
 * GET /extensions/extension-status: SIPpeers on chan_sip; PJSIPShowEndpoints + Contacts on PJSIP; both
 * on a box that runs both, each row with its own Type.
 */
export async function extensionStatus(_params: OperationParams<'extension-status'>, ctx: OpContext) {
  const data = await listPeers(ctx.ami, ctx.drivers);
  return { status: 'success' as const, message: 'Peer status list will follow', data };
}
