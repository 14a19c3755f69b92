import { eventList, failure, header, success, type ActionTable } from './reply.ts';

/** AstDB actions (manager.c / db.c): keys are stored under their full path `/family/key`. */
export const databaseActions: ActionTable = {
  DBPut(ctx) {
    const family = header(ctx, 'Family');
    const key = header(ctx, 'Key');
    if (!family) return failure(ctx, 'No family specified');
    if (!key) return failure(ctx, 'No key specified');
    ctx.pbx.db.set(`/${family}/${key}`, ctx.msg.get('Val') ?? '');
    return [success(ctx, [['Message', 'Updated database successfully']])];
  },
  DBGet(ctx) {
    const family = header(ctx, 'Family');
    const key = header(ctx, 'Key');
    if (!family) return failure(ctx, 'No family specified.');
    if (!key) return failure(ctx, 'No key specified.');
    const val = ctx.pbx.db.get(`/${family}/${key}`);
    if (val === undefined) return failure(ctx, 'Database entry not found');
    return eventList(
      ctx,
      'Result will follow',
      [{ event: 'DBGetResponse', idLast: true, body: [['Family', family], ['Key', key], ['Val', val]] }],
      'DBGetComplete',
    );
  },
  DBGetTree(ctx) {
    const family = header(ctx, 'Family') ?? '';
    const key = header(ctx, 'Key');
    const prefix = key ? `/${family}/${key}` : `/${family}`;
    const items = [...ctx.pbx.db.entries()]
      .filter(([k]) => k === prefix || k.startsWith(`${prefix}/`))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => ({ event: 'DBGetTreeResponse', idLast: true, body: [['Key', k], ['Val', v]] as [string, string][] }));
    return eventList(ctx, 'Result will follow', items, 'DBGetTreeComplete');
  },
  DBDel(ctx) {
    const family = header(ctx, 'Family');
    const key = header(ctx, 'Key');
    if (!family) return failure(ctx, 'No family specified.');
    if (!key) return failure(ctx, 'No key specified.');
    if (!ctx.pbx.db.delete(`/${family}/${key}`)) return failure(ctx, 'Database entry could not be deleted');
    return [success(ctx, [['Message', 'Key deleted successfully']])];
  },
  DBDelTree(ctx) {
    const family = header(ctx, 'Family');
    if (!family) return failure(ctx, 'No family specified.');
    const key = header(ctx, 'Key');
    const prefix = key ? `/${family}/${key}` : `/${family}`;
    let n = 0;
    for (const k of [...ctx.pbx.db.keys()]) {
      if (k === prefix || k.startsWith(`${prefix}/`)) {
        ctx.pbx.db.delete(k);
        n++;
      }
    }
    if (n === 0) return failure(ctx, 'Database entry could not be deleted');
    return [success(ctx, [['Message', 'Key tree deleted successfully']])];
  },
};

/** `database show <family>`: the CLI's padded `key : value` lines. */
export function databaseShow(db: Map<string, string>, family: string | undefined): string[] {
  const prefix = family ? `/${family}` : '';
  const rows = [...db.entries()]
    .filter(([k]) => !prefix || k === prefix || k.startsWith(`${prefix}/`))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return [...rows.map(([k, v]) => `${k.padEnd(50)}: ${v.padEnd(25)}`), `${rows.length} result${rows.length === 1 ? '' : 's'} found.`];
}
