import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unstable_startWorker, type Binding } from 'wrangler';
import { KEY_LIMIT_PERIOD_SEC } from '../../edge/workers/key-limit.ts';
import type { ContractEdge, ContractEdgeOptions } from '../contract/edge-contract.ts';
import { ADMIN_KEY, passThenRefuse } from './edge-harness.ts';

/** A contract edge whose restart also waits for an async `whileDown` (the faults suite's downtime). */
export interface WorkersEdge extends ContractEdge {
  restart(whileDown?: () => void | Promise<void>): Promise<void>;
  /** Where workerd keeps the objects' storage: their SQLite files, to read or alter while it is down. */
  persistDir: string;
}

// Keep wrangler off the network, so the tests run offline and send nothing out: no metrics, no
// banner (its update check), no cf fetch (the request.cf data it would download).
process.env.WRANGLER_SEND_METRICS = 'false';
process.env.WRANGLER_HIDE_BANNER = 'true';
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';

/** The period of wrangler.toml's KEY_RATE_LIMIT binding, which local workerd counts in fixed windows of it. */
const KEY_PERIOD_MS = KEY_LIMIT_PERIOD_SEC * 1000;

/** The contract's options as the Workers edge takes them: wrangler vars, and the key limit's binding. */
function workersBindings(o: ContractEdgeOptions): Record<string, Binding> {
  const text = (value: string | number) => ({ type: 'plain_text' as const, value: String(value) });
  const { perKey, perDevice } = o.rateLimits ?? {};
  return {
    ...(o.commandTimeoutMs ? { COMMAND_TIMEOUT_MS: text(o.commandTimeoutMs) } : {}),
    ...(o.keepDeliveredMs ? { KEEP_DELIVERED_MS: text(o.keepDeliveredMs) } : {}),
    ...(perDevice ? { RATE_LIMIT_PER_DEVICE: text(`${passThenRefuse(perDevice).perSecond}/${perDevice}`) } : {}),
    ...(perKey ? { KEY_RATE_LIMIT: { type: 'ratelimit' as const, namespace_id: '1001', simple: { limit: perKey, period: KEY_LIMIT_PERIOD_SEC } } } : {}),
  };
}

/**
 * The Workers edge in local workerd, built from wrangler.toml as `wrangler deploy` would build it,
 * with its Durable Object storage in a temp folder so a restart keeps it. dispose() stops workerd.
 * `vars` override wrangler.toml's [vars] (the benchmarks lift RATE_LIMIT_PER_DEVICE).
 */
export async function startWorkersEdge(opts: ContractEdgeOptions = {}, vars: Record<string, string> = {}): Promise<WorkersEdge> {
  const persist = mkdtempSync(join(tmpdir(), 'coocenter-workers-'));
  const start = async (port: number) => {
    const worker = await unstable_startWorker({
      config: 'wrangler.toml',
      bindings: {
        COOCENTER_ADMIN_KEY: { type: 'plain_text', value: ADMIN_KEY },
        ...workersBindings(opts),
        ...Object.fromEntries(Object.entries(vars).map(([k, value]) => [k, { type: 'plain_text' as const, value }])),
      },
      dev: { server: { hostname: '127.0.0.1', port }, inspector: false, persist, watch: false, logLevel: 'none' },
    });
    await worker.ready;
    return worker;
  };
  let worker = await start(0);
  const url = (await worker.url).origin;
  const port = Number(new URL(url).port);
  return {
    url,
    persistDir: persist,
    async restart(whileDown) {
      await worker.dispose();
      await whileDown?.();
      worker = await start(port);
    },
    async freshRateWindow() {
      const left = KEY_PERIOD_MS - (Date.now() % KEY_PERIOD_MS);
      if (left < 4000) await new Promise((r) => setTimeout(r, left + 100));
    },
    async close() {
      await worker.dispose();
      rmSync(persist, { recursive: true, force: true });
    },
  };
}
