import type { OperationParams } from '../../shared/api/operations.ts';
import { ApiError } from '../../shared/errors.ts';
import type { OpContext } from './context.ts';
import { Phones } from './phones.ts';
import { membersFor, queueState } from './queue-members.ts';
import { refusedWith } from './refusal.ts';

const SUCCESS = { status: 'success' as const, message: 'login extension success' };

/**
 * POST /queues/agent-login: QueueAdd with the phone's own interface (SIP/805 or PJSIP/805), or with the api.conf member template
 * (`Local/{ext}@agents/n`) and StateInterface set to the phone, so Asterisk sees a member on a call
 * as busy and does not ring it. A member already in the queue, under any interface, is left as is:
 * adding `Local/808@...` next to a static `SIP/808` would ring the agent twice.
 */
export async function agentLogin(params: OperationParams<'agent-login'>, ctx: OpContext) {
  const { members, exists } = await queueState(ctx.ami, params.queue);
  if (!exists) throw noSuchQueue(params.queue);
  const phone = await new Phones(ctx).deviceOf(params.extension);
  if (membersFor(members, params.extension, phone).length > 0) return SUCCESS;
  const action = ctx.memberInterface
    ? {
        Action: 'QueueAdd',
        Queue: params.queue,
        Interface: ctx.memberInterface.replaceAll('{ext}', params.extension),
        StateInterface: phone,
      }
    : { Action: 'QueueAdd', Queue: params.queue, Interface: phone };
  try {
    await ctx.ami.action(action);
  } catch (err) {
    // Raced with another login, or the queue went away (reload) after QueueStatus answered.
    if (refusedWith(err, /Already there/)) return SUCCESS;
    if (refusedWith(err, /No such queue/)) throw noSuchQueue(params.queue);
    throw err;
  }
  return SUCCESS;
}

function noSuchQueue(queue: string): ApiError {
  return new ApiError('NOT_FOUND', `Queue ${queue} does not exist`);
}
