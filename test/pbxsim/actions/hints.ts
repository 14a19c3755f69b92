import { HINT_ORDER } from '../config.ts';
import { eventList, failure, header, success, type ActionTable, type ListItem } from './reply.ts';

export const hintActions: ActionTable = {
  ExtensionStateList(ctx) {
    const exts = [...HINT_ORDER.filter((e) => ctx.pbx.phones.has(e)), ...[...ctx.pbx.phones.keys()].filter((e) => !HINT_ORDER.includes(e))];
    const items: ListItem[] = exts.map((ext) => ({ event: 'ExtensionStatus', body: ctx.pbx.extensionStatus(ext) }));
    return eventList(ctx, 'Extension Statuses will follow', items, 'ExtensionStateListComplete');
  },
  ExtensionState(ctx) {
    const exten = header(ctx, 'Exten');
    if (!exten) return failure(ctx, 'Extension not specified');
    const status = ctx.pbx.extensionStatus(exten).map(([k, v]): [string, string] => (k === 'Context' ? [k, header(ctx, 'Context') ?? 'default'] : [k, v]));
    return [success(ctx, [['Message', 'Extension Status'], ...status])];
  },
};
