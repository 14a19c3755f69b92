import { edgeContract } from '../contract/edge-contract.ts';
import { nodeContractOptions, startContractNodeEdge } from '../contract/node-edge-options.ts';
import { tempDataDir } from '../support/edge-harness.ts';

/** The edge contract against the Node edge: node:http + ws, SQLite in a temp folder. */
edgeContract(async (o) => {
  const data = tempDataDir();
  return startContractNodeEdge(data.dir, nodeContractOptions(o), data.remove);
});
