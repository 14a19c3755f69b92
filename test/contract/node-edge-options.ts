import { DEFAULT_EDGE_RATE_LIMITS } from '../../edge/core/app.ts';
import type { EdgeServerOptions } from '../../edge/node/server.ts';
import { passThenRefuse } from '../support/edge-harness.ts';
import type { ContractEdgeOptions } from './edge-contract.ts';

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
