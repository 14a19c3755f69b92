import type { OperationParams } from '../../shared/api/operations.ts';
import type { OpContext } from './context.ts';
import { BLACKLIST_FAMILY } from './blacklist-index.ts';

/** POST /blacklist/create: DBPut `1`; the dialplan blocks a caller whose entry is non-empty. */
export async function blacklistCreate(params: OperationParams<'blacklist-create'>, ctx: OpContext) {
  await ctx.ami.action({ Action: 'DBPut', Family: BLACKLIST_FAMILY, Key: params.number, Val: '1' });
  return { status: 'success' as const, message: 'Updated database successfully' };
}
