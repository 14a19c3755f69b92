import { deliveryFaults } from './delivery-faults.ts';
import { nodeEdge } from './edges.ts';
import { LONG_SCALE } from './tunnel-faults.ts';

/**
 * On the Node edge, whose clock is the scenario's: both rows run the whole path at 1/20 speed, so the
 * 5-minute wait before a third attempt takes 15 real seconds. The restart comes after two failed
 * attempts, while the head waits that 5-minute step.
 */
deliveryFaults('delivery', nodeEdge, {
  poisonScale: LONG_SCALE,
  poisonHoldMs: 60_000,
  restartName: 'edge restart mid-retry-schedule',
  restartScale: LONG_SCALE,
  restartAfterAttempts: 2,
  restart: (s) => s.restartEdge(1000),
  // 2 real seconds.
  restartSlackMs: 2000 / LONG_SCALE,
});
