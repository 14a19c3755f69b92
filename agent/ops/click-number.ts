import type { OperationParams } from '../../shared/api/operations.ts';
import type { OpContext } from './context.ts';
import { assertPhoneFree } from './phone-state.ts';
import { Phones } from './phones.ts';

/**
 * POST /extensions/click-number: ring `src`'s phone, then the dialplan (ctx.context) dials `dst`.
 * The caller ID is `src`'s own, so the call record reads src -> dst and `dst` sees who calls, as
 * the original box's records (`"808" <808>`) do.
 */
export async function clickNumber(params: OperationParams<'click-number'>, ctx: OpContext) {
  const phones = new Phones(ctx);
  await assertPhoneFree(phones, params.src);
  await ctx.ami.action({
    Action: 'Originate',
    Channel: await phones.deviceOf(params.src),
    Context: ctx.context,
    Exten: params.dst,
    Priority: 1,
    CallerID: `"${params.src}" <${params.src}>`,
    Timeout: ctx.originateTimeoutMs,
    Async: true,
  });
  return { status: 'success' as const, message: 'Originate successfully queued' };
}
