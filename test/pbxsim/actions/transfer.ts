import type { Channel } from '../channel.ts';
import { INTERNAL } from '../config.ts';
import { atxfer, blindTransfer } from '../transfer.ts';
import { failure, header, success, type ActionContext, type ActionTable, type Reply } from './reply.ts';

/** The channel and extension both transfer actions need, or manager.c's refusal when one is missing. */
function transferRequest(ctx: ActionContext): { ch: Channel; exten: string } | Reply {
  const name = header(ctx, 'Channel');
  if (!name) return failure(ctx, 'No channel specified');
  const exten = header(ctx, 'Exten');
  if (!exten) return failure(ctx, 'No extension specified');
  const ch = ctx.pbx.channels.get(name);
  if (!ch) return failure(ctx, 'Channel specified does not exist');
  return { ch, exten };
}

/** manager.c's action_blind_transfer and action_atxfer, with their words. */
export const transferActions: ActionTable = {
  BlindTransfer(ctx) {
    const req = transferRequest(ctx);
    if (Array.isArray(req)) return req;
    const result = blindTransfer(ctx.pbx, req.ch, req.exten, header(ctx, 'Context') ?? req.ch.context);
    if (result !== 'Transfer succeeded') return failure(ctx, result);
    return [success(ctx, [['Message', result]])];
  },
  Atxfer(ctx) {
    const req = transferRequest(ctx);
    if (Array.isArray(req)) return req;
    const { ch, exten } = req;
    // The feature code's DTMF is queued on the channel; a channel in no bridge just ignores it.
    const context = header(ctx, 'Context') ?? (ch.context || INTERNAL);
    ctx.pbx.clock.after(0, () => {
      if (!ch.hungUp) atxfer(ctx.pbx, ch, exten, context);
    });
    return [success(ctx, [['Message', 'Atxfer successfully queued']])];
  },
};
