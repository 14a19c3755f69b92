import { DEFAULT_EDGE_RATE_LIMITS } from '../../edge/core/app.ts';
import type { EdgeServerOptions } from '../../edge/node/server.ts';
import { passThenRefuse, startEdge } from '../support/edge-harness.ts';
import type { ContractEdge, ContractEdgeOptions } from './edge-contract.ts';

/** The contract's options as the Node edge takes them. */
export function nodeContractOptions(o: ContractEdgeOptions): Partial<EdgeServerOptions> {
  const { perKey, perDevice } = o.rateLimits ?? {};
  return {
    ...(o.commandTimeoutMs ? { commandTimeoutMs: o.commandTimeoutMs } : {}),
    ...(o.keepDeliveredMs ? { keepDeliveredMs: o.keepDeliveredMs } : {}),
    ...(o.rateLimits
      ? {
          rateLimits: {
            perKey: perKey ? passThenRefuse(perKey) : DEFAULT_EDGE_RATE_LIMITS.perKey,
            perDevice: perDevice ? passThenRefuse(perDevice) : DEFAULT_EDGE_RATE_LIMITS.perDevice,
          },
        }
      : {}),
  };
}

/** One Node edge as the contract drives it: a restart comes back on the same port and storage. */
export async function startContractNodeEdge(dataDir: string, options: Partial<EdgeServerOptions>, removeStorage: () => void = () => {}): Promise<ContractEdge> {
  let edge = await startEdge(dataDir, options);
  const before: Record<string, unknown>[] = [];
  return {
    url: edge.url,
    logs: () => [...before, ...edge.logs],
    async restart(whileDown) {
      const { port } = edge;
      await edge.close();
      before.push(...edge.logs);
      whileDown?.();
      edge = await startEdge(dataDir, { ...options, port });
    },
    async close() {
      await edge.close();
      removeStorage();
    },
  };
}
