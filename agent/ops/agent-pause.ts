import type { OperationParams } from '../../shared/api/operations.ts';
import { ApiError } from '../../shared/errors.ts';
import type { OpContext } from './context.ts';
import { Phones } from './phones.ts';
import { membersFor, queueState } from './queue-members.ts';
import { refusedWith } from './refusal.ts';

/**
 * POST /queues/agent-pause: QueuePause on the interface the queue really has for the member
 * (SIP/808, PJSIP/808 or Local/808@agents/n), found with QueueStatus; QueuePause matches the
 * interface exactly, so the bare extension would not do.
 */
export async function agentPause(params: OperationParams<'agent-pause'>, ctx: OpContext) {
  const { members, exists } = await queueState(ctx.ami, params.queue);
  if (!exists) throw new ApiError('NOT_FOUND', `Queue ${params.queue} does not exist`);
  const mine = membersFor(members, params.member, await new Phones(ctx).deviceOf(params.member));
  if (mine.length === 0) throw notMember(params.member, params.queue);
  const paused = params.state === 'on';
  for (const m of mine) {
    try {
      await ctx.ami.action({ Action: 'QueuePause', Interface: m.location, Paused: paused, Queue: params.queue });
    } catch (err) {
      // Logged out since QueueStatus answered.
      if (refusedWith(err, /Interface not found/)) throw notMember(params.member, params.queue);
      throw err;
    }
  }
  return {
    status: 'success' as const,
    message: paused ? ('Interface paused successfully' as const) : ('Interface unpaused successfully' as const),
  };
}

function notMember(member: string, queue: string): ApiError {
  return new ApiError('CONFLICT', `${member} is not a member of queue ${queue}; log it in first`);
}
