import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unstable_startWorker } from 'wrangler';
import type { ContractEdge, ContractEdgeOptions } from '../contract/edge-contract.ts';
import { ADMIN_KEY } from './edge-harness.ts';

/** A contract edge whose restart also waits for an async `whileDown` (the faults suite's downtime). */
export interface WorkersEdge extends ContractEdge {
  restart(whileDown?: () => void | Promise<void>): Promise<void>;
}

// Keep wrangler off the network (TOOLCHAIN.md): no metrics, no banner, no cf fetch.
process.env.WRANGLER_SEND_METRICS = 'false';
process.env.WRANGLER_HIDE_BANNER = 'true';
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';

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
        ...(opts.commandTimeoutMs ? { COMMAND_TIMEOUT_MS: { type: 'plain_text', value: String(opts.commandTimeoutMs) } } : {}),
        ...(opts.keepDeliveredMs ? { KEEP_DELIVERED_MS: { type: 'plain_text', value: String(opts.keepDeliveredMs) } } : {}),
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
    async restart(whileDown) {
      await worker.dispose();
      await whileDown?.();
      worker = await start(port);
    },
    async close() {
      await worker.dispose();
      rmSync(persist, { recursive: true, force: true });
    },
  };
}
