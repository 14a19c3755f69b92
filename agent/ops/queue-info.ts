import type { OperationParams } from '../../shared/api/operations.ts';
import type { OpContext } from './context.ts';
import { queueStatus } from './queue-members.ts';

export interface QueueInfoMember {
  /** The member's interface (QueueMember `Location`), not its MemberName. */
  name: string;
  paused: string;
  penalty: string;
}

/** GET /queues/queue-info: every queue (members or not) keyed by its name. */
export async function queueInfo(_params: OperationParams<'queue-info'>, ctx: OpContext) {
  const queues = await queueStatus(ctx.ami);
  const data: Record<string, QueueInfoMember[]> = {};
  for (const [queue, members] of queues) {
    data[queue] = members.map((m) => ({ name: m.location, paused: m.paused, penalty: m.penalty }));
  }
  return { status: 'success' as const, message: 'Queue status will follow', data };
}
