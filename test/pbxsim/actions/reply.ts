import type { AmiMessage } from '../../../agent/ami/message.ts';
import type { Pbx } from '../pbx.ts';
import type { Pairs } from '../wire.ts';

/** What a handler sees: the action, its ActionID and the PBX. */
export interface ActionContext {
  pbx: Pbx;
  msg: AmiMessage;
  id: string | undefined;
}

/** Messages to write in order; the first is the response. Events of an event list follow it. */
export type Reply = Pairs[];
export type ActionHandler = (ctx: ActionContext) => Reply | Promise<Reply>;
export type ActionTable = Record<string, ActionHandler>;

const idPair = (ctx: ActionContext): Pairs => (ctx.id === undefined ? [] : [['ActionID', ctx.id]]);

export function success(ctx: ActionContext, body: Pairs = []): Pairs {
  return [['Response', 'Success'], ...idPair(ctx), ...body];
}

export function failure(ctx: ActionContext, message: string, body: Pairs = []): Reply {
  return [[['Response', 'Error'], ...idPair(ctx), ['Message', message], ...body]];
}

export interface ListItem {
  event: string;
  body: Pairs;
  /** QueueParams, QueueMember, QueueEntry, QueueSummary, DBGet*Response and Status carry ActionID last. */
  idLast?: boolean;
  /** Status items alone carry `Privilege: Call`. */
  privilege?: string;
}

/** `Response: Success` + `EventList: start`, the items, and `<complete>` with `ListItems`. */
export function eventList(ctx: ActionContext, message: string, items: ListItem[], complete: string, extra: Pairs = []): Reply {
  const out: Reply = [success(ctx, [['EventList', 'start'], ['Message', message]])];
  for (const it of items) {
    const head: Pairs = [['Event', it.event]];
    if (it.privilege) head.push(['Privilege', it.privilege]);
    out.push(it.idLast ? [...head, ...it.body, ...idPair(ctx)] : [...head, ...idPair(ctx), ...it.body]);
  }
  out.push([['Event', complete], ...idPair(ctx), ['EventList', 'Complete'], ['ListItems', String(items.length)], ...extra]);
  return out;
}

/** Header value, with empty treated as absent (Asterisk's astman_get_header does the same). */
export function header(ctx: ActionContext, key: string): string | undefined {
  const v = ctx.msg.get(key) ?? findCaseless(ctx.msg, key);
  return v === undefined || v === '' ? undefined : v;
}

/** AMI header names are case-insensitive. */
function findCaseless(msg: AmiMessage, key: string): string | undefined {
  const lower = key.toLowerCase();
  for (const [k, v] of msg.entries()) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** ast_true: yes, true, y, t, 1, on. */
export function isTrue(v: string | undefined): boolean {
  return v !== undefined && /^(yes|true|y|t|1|on)$/i.test(v.trim());
}
