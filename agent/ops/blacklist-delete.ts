import type { OperationParams } from '../../shared/api/operations.ts';
import { ApiError } from '../../shared/errors.ts';
import type { OpContext } from './context.ts';
import { BLACKLIST_FAMILY } from './blacklist-index.ts';
import { refusedWith } from './refusal.ts';

/** DELETE /blacklist/delete: DBDel; a number that is not listed is 404 (the named entry does not exist). */
export async function blacklistDelete(params: OperationParams<'blacklist-delete'>, ctx: OpContext) {
  try {
    await ctx.ami.action({ Action: 'DBDel', Family: BLACKLIST_FAMILY, Key: params.number });
  } catch (err) {
    if (refusedWith(err, /could not be deleted/)) throw new ApiError('NOT_FOUND', `${params.number} is not in the blacklist`);
    throw err;
  }
  return { status: 'success' as const, message: 'Key deleted successfully' };
}
