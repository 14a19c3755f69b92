import type { OperationName, OperationParams } from '../../shared/api/operations.ts';
import type { OperationBody } from '../../shared/api/responses.ts';
import { agentLogin } from './agent-login.ts';
import { agentLogout } from './agent-logout.ts';
import { agentPause } from './agent-pause.ts';
import { blacklistCreate } from './blacklist-create.ts';
import { blacklistDelete } from './blacklist-delete.ts';
import { blacklistIndex } from './blacklist-index.ts';
import { clickNumber } from './click-number.ts';
import type { OpContext } from './context.ts';
import { currentCalls } from './current-calls.ts';
import { extenSpy } from './exten-spy.ts';
import { extensionHintsStatus } from './extension-hints-status.ts';
import { extensionStatus } from './extension-status.ts';
import { hangup } from './hangup.ts';
import { queueInfo } from './queue-info.ts';
import { transfer } from './transfer.ts';

/** An operation's AMI work, answering the documented success body of the operation (shared/api/responses.ts). */
export type OpHandler<N extends OperationName> = (params: OperationParams<N>, ctx: OpContext) => Promise<OperationBody<N>>;

/**
 * Where each REST operation (shared/api/operations.ts) becomes AMI actions: one file per operation,
 * named as the operation is. AMI action per op:
 *   current-calls          CoreShowChannels
 *   extension-status       SIPpeers and/or PJSIPShowEndpoints + PJSIPShowContacts
 *   extension-hints-status ExtensionStateList (+ SIPshowpeer | PJSIPShowEndpoint for names, cached)
 *   queue-info             QueueStatus
 *   agent-pause            QueueStatus, QueuePause
 *   agent-login            QueueStatus, QueueAdd
 *   agent-logout           QueueStatus, QueueRemove
 *   click-number           ExtensionStateList (peer list without a hint), Originate Async
 *   hangup                 CoreShowChannels, Hangup per channel
 *   transfer               CoreShowChannels, Redirect of the bridge partner
 *   exten-spy              CoreShowChannels, ExtensionStateList, Originate Application=ChanSpy
 *   blacklist-index        DBGetTree (Command `database show blacklist` on older Asterisk)
 *   blacklist-create       DBPut
 *   blacklist-delete       DBDel
 * On a box running chan_sip and PJSIP side by side, an op that names a phone and does not read the
 * hints already also reads ExtensionStateList (and the peer lists for an extension without a hint)
 * to find the phone's technology: agent/ops/phones.ts.
 */
export const opHandlers: { [N in OperationName]: OpHandler<N> } = {
  'current-calls': currentCalls,
  'extension-status': extensionStatus,
  'extension-hints-status': extensionHintsStatus,
  'queue-info': queueInfo,
  'agent-pause': agentPause,
  'agent-login': agentLogin,
  'agent-logout': agentLogout,
  'click-number': clickNumber,
  hangup,
  transfer,
  'exten-spy': extenSpy,
  'blacklist-index': blacklistIndex,
  'blacklist-create': blacklistCreate,
  'blacklist-delete': blacklistDelete,
};
