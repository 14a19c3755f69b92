import { edgeContract } from '../contract/edge-contract.ts';
import { startEdge, tempDataDir } from '../support/edge-harness.ts';

/** The edge contract against the Node edge: node:http + ws, SQLite in a temp folder. */
edgeContract(async ({ commandTimeoutMs, keepDeliveredMs }) => {
  const data = tempDataDir();
  const options = { ...(commandTimeoutMs ? { commandTimeoutMs } : {}), ...(keepDeliveredMs ? { keepDeliveredMs } : {}) };
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
