import { edgeContract } from '../contract/edge-contract.ts';
import { nodeContractOptions } from '../contract/node-edge-options.ts';
import { startEdge, tempDataDir } from '../support/edge-harness.ts';

/** The edge contract against the Node edge: node:http + ws, SQLite in a temp folder. */
edgeContract(async (o) => {
  const data = tempDataDir();
  const options = nodeContractOptions(o);
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
