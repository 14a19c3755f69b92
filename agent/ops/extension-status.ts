import type { OperationParams } from '../../shared/api/operations.ts';
import type { OpContext } from './context.ts';
import { listPeers } from './peers.ts';

/** GET /extensions/extension-status: SIPpeers on chan_sip; PJSIPShowEndpoints + Contacts on PJSIP. */
export async function extensionStatus(_params: OperationParams<'extension-status'>, ctx: OpContext) {
  const data = await listPeers(ctx.ami, ctx.driver);
  return { status: 'success' as const, message: 'Peer status list will follow', data };
}
