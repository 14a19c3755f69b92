import type { Pbx } from '../pbx.ts';
import { failure, header, success, type ActionTable } from './reply.ts';

/** Redirect: the channel leaves its bridge (the other party is hung up by its Dial) and runs context,exten. */
export function redirect(pbx: Pbx, name: string, context: string | undefined, exten: string): boolean {
  const ch = pbx.channels.get(name);
  if (!ch) return false;
  ch.redirect = { context: context ?? ch.context, exten };
  if (ch.bridge) pbx.dissolve(ch.bridge, ch);
  ch.interrupt();
  return true;
}

export const channelActions: ActionTable = {
  Hangup(ctx) {
    const spec = header(ctx, 'Channel');
    if (!spec) return failure(ctx, 'No channel specified');
    const chans = ctx.pbx.findChannels(spec);
    if (chans.length === 0) return failure(ctx, 'No such channel');
    const cause = Number.parseInt(header(ctx, 'Cause') ?? '16', 10) || 16;
    for (const ch of chans) ctx.pbx.softHangup(ch, cause);
    return [success(ctx, [['Message', 'Channel Hungup']])];
  },
  Redirect(ctx) {
    const name = header(ctx, 'Channel');
    if (!name) return failure(ctx, 'Channel not specified');
    const exten = header(ctx, 'Exten');
    if (!exten) return failure(ctx, 'Exten not specified');
    if (!ctx.pbx.channels.has(name)) return failure(ctx, `Channel does not exist: ${name}`);
    redirect(ctx.pbx, name, header(ctx, 'Context'), exten);
    return [success(ctx, [['Message', 'Redirect successful']])];
  },
  MixMonitor(ctx) {
    const name = header(ctx, 'Channel');
    if (!name) return failure(ctx, 'No channel specified');
    const ch = ctx.pbx.channels.get(name);
    if (!ch) return failure(ctx, 'No such channel');
    ctx.pbx.startRecording(ch, header(ctx, 'File') ?? `${ch.uniqueid}.wav`);
    return [success(ctx)];
  },
  StopMixMonitor(ctx) {
    const name = header(ctx, 'Channel');
    if (!name) return failure(ctx, 'No channel specified');
    const ch = ctx.pbx.channels.get(name);
    if (!ch) return failure(ctx, 'No such channel');
    ctx.pbx.stopRecording(ch);
    return [success(ctx)];
  },
};
