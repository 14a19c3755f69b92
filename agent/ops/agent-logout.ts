import type { OperationParams } from '../../shared/api/operations.ts';
import { ApiError } from '../../shared/errors.ts';
import type { OpContext } from './context.ts';
import { Phones } from './phones.ts';
import { membersFor, queueState } from './queue-members.ts';
import { refusedWith } from './refusal.ts';

const SUCCESS = { status: 'success' as const, message: 'logout extension success' };

/**
 * POST /queues/agent-logout: QueueRemove of every interface the queue has for the extension. Only
 * dynamic members can be removed over AMI; a member queues.conf (or realtime) lists comes back at the
 * next reload, so that is refused and said plainly. Not a member: nothing to do, success.
 */
export async function agentLogout(params: OperationParams<'agent-logout'>, ctx: OpContext) {
  const { members, exists } = await queueState(ctx.ami, params.queue);
  if (!exists) throw new ApiError('NOT_FOUND', `Queue ${params.queue} does not exist`);
  const mine = membersFor(members, params.extension, await new Phones(ctx).deviceOf(params.extension));
  const fixed = mine.find((m) => m.membership !== 'dynamic');
  if (fixed) {
    const where = fixed.membership === 'static' ? 'queues.conf' : 'the realtime queue_members table';
    throw new ApiError(
      'CONFLICT',
      `${params.extension} is a ${fixed.membership} member of queue ${params.queue} (${fixed.location}), configured in ${where}; remove it there to log it out`,
    );
  }
  for (const m of mine) {
    try {
      await ctx.ami.action({ Action: 'QueueRemove', Queue: params.queue, Interface: m.location });
    } catch (err) {
      // Removed by someone else since QueueStatus answered: the wanted state is reached.
      if (!refusedWith(err, /Not there/)) throw err;
    }
  }
  return SUCCESS;
}
