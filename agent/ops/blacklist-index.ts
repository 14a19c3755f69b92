import type { OperationParams } from '../../shared/api/operations.ts';
import type { AmiRunner } from '../ami/types.ts';
import type { OpContext } from './context.ts';
import { refusedWith } from './refusal.ts';

export const BLACKLIST_FAMILY = 'blacklist';

/**
 * GET /blacklist/index: the numbers stored directly under the astdb family `blacklist` (keys of
 * sub-families such as `/blacklist/sub/x` are not numbers the dialplan checks). DBGetTree where the
 * box has it; older Asterisk (before 20.x/18.x) answers it as an unknown action, and then the CLI's
 * `database show blacklist` through the Command action gives the same entries as text.
 */
export async function blacklistIndex(_params: OperationParams<'blacklist-index'>, ctx: OpContext) {
  let keys: string[];
  try {
    const { events } = await ctx.ami.action({ Action: 'DBGetTree', Family: BLACKLIST_FAMILY });
    keys = events.filter((e) => e.event === 'DBGetTreeResponse').map((e) => e.get('Key') ?? '');
  } catch (err) {
    if (!refusedWith(err, /Invalid\/unknown command/)) throw err;
    keys = await keysFromCli(ctx.ami);
  }
  const prefix = `/${BLACKLIST_FAMILY}/`;
  const data = keys.filter((k) => k.startsWith(prefix) && !k.slice(prefix.length).includes('/')).map((k) => k.slice(prefix.length));
  return { status: 'success' as const, data };
}

/**
 * `database show blacklist` prints `/blacklist/123456      : 1` per entry and a `N results found.`
 * line. Asterisk 14+ sends the lines as `Output:` headers, older ones as a `Response: Follows` body;
 * the parser turns both into Output values.
 */
async function keysFromCli(ami: AmiRunner): Promise<string[]> {
  const { response } = await ami.action({ Action: 'Command', Command: `database show ${BLACKLIST_FAMILY}` });
  const keys: string[] = [];
  for (const line of response.all('Output')) {
    const m = /^(\/\S+?)\s*:\s/.exec(line);
    if (m) keys.push(m[1] as string);
  }
  return keys;
}
