import type { AmiRunner } from '../ami/types.ts';
import type { ChannelDriver } from './channel-driver.ts';
import { refusedWith } from './refusal.ts';

const DEFAULT_TTL_MS = 5 * 60_000;
const PARALLEL = 4;

/**
 * Caller ID names of phones (`"Agent 800" <800>` -> `Agent 800`). Asterisk has no list action that
 * carries them: SIPpeers and PJSIPShowEndpoints omit the caller ID, so each phone costs one
 * SIPshowpeer / PJSIPShowEndpoint. Names change rarely, so they are kept for a while, misses too.
 */
export class CallerIdNames {
  private readonly cache = new Map<string, { name: string; at: number }>();

  constructor(
    private readonly now: () => number,
    private readonly ttlMs = DEFAULT_TTL_MS,
  ) {}

  /**
   * Name per extension, each asked of its own driver (extension -> driver); an extension without a
   * caller ID name (or unknown to Asterisk) maps to ''.
   */
  async lookup(ami: AmiRunner, phones: ReadonlyMap<string, ChannelDriver>): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const missing: string[] = [];
    const now = this.now();
    for (const ext of phones.keys()) {
      const hit = this.cache.get(ext);
      if (hit && now - hit.at < this.ttlMs) out.set(ext, hit.name);
      else missing.push(ext);
    }
    let next = 0;
    const worker = async () => {
      while (next < missing.length) {
        const ext = missing[next++] as string;
        const name = await this.fetch(ami, phones.get(ext) as ChannelDriver, ext);
        this.cache.set(ext, { name, at: this.now() });
        out.set(ext, name);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, missing.length) }, worker));
    return out;
  }

  private async fetch(ami: AmiRunner, driver: ChannelDriver, ext: string): Promise<string> {
    try {
      if (driver === 'sip') {
        const { response } = await ami.action({ Action: 'SIPshowpeer', Peer: ext });
        return callerIdName(response.get('Callerid') ?? '');
      }
      const { events } = await ami.action({ Action: 'PJSIPShowEndpoint', Endpoint: ext });
      return callerIdName(events.find((e) => e.event === 'EndpointDetail')?.get('Callerid') ?? '');
    } catch (err) {
      // `Peer 899 not found.` and the like: this phone has no name to show, the list still answers.
      if (refusedWith(err, /not found|Unable to retrieve/)) return '';
      throw err;
    }
  }
}

/** `"Agent 800" <800>` -> `Agent 800`; `Agent 800 <800>` -> `Agent 800`; `<800>` -> ''. */
export function callerIdName(callerId: string): string {
  const quoted = /^\s*"((?:[^"\\]|\\.)*)"/.exec(callerId);
  if (quoted) return (quoted[1] as string).replace(/\\(.)/g, '$1').trim();
  const lt = callerId.indexOf('<');
  return (lt === -1 ? '' : callerId.slice(0, lt)).trim();
}
