import { DEFAULT_EDGE_RATE_LIMITS } from '../../edge/core/app.ts';
import type { EdgeServerOptions } from '../../edge/node/server.ts';
import { edgeContract, type ContractEdgeOptions } from '../contract/edge-contract.ts';
import { passThenRefuse, startEdge, tempDataDir } from '../support/edge-harness.ts';

/** The contract's options as the Node edge takes them. */
function nodeOptions(o: ContractEdgeOptions): Partial<EdgeServerOptions> {
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

/** The edge contract against the Node edge: node:http + ws, SQLite in a temp folder. */
edgeContract(async (o) => {
  const data = tempDataDir();
  const options = nodeOptions(o);
  let edge = await startEdge(data.dir, options);
  return {
    url: edge.url,
    logs: () => edge.logs,
    async restart(whileDown) {
      const { port } = edge;
      await edge.close();
      whileDown?.();
      edge = await startEdge(data.dir, { ...options, port });
    },
    async close() {
      await edge.close();
      data.remove();
    },
  };
});
