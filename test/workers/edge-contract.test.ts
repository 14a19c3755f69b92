import { edgeContract } from '../contract/edge-contract.ts';
import { startWorkersEdge } from '../support/workers-edge.ts';

/** The edge contract against the Workers edge: the same suite as Node, in workerd. */
edgeContract(startWorkersEdge);
