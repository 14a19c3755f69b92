import { deliveryFaults, evictDeviceObject } from './delivery-faults.ts';
import { workersEdge } from './edges.ts';

/**
 * On the Workers edge, whose clock is real time (workerd takes none from a test). The poison row runs
 * the device object's retry schedule at 1/100 (RETRY_SCALE, tests only): the 5-minute step before the
 * third attempt takes 3 s. The eviction comes after one failed attempt, while the head waits the real
 * 5-second step, so the row stays short.
 */
deliveryFaults('delivery-workers', workersEdge, {
  poisonScale: 1,
  poisonHoldMs: 60_000,
  poisonRetryScale: 0.01,
  restartName: 'Durable Object eviction mid-retry-schedule',
  restartScale: 1,
  restartAfterAttempts: 1,
  restart: evictDeviceObject,
  restartSlackMs: 2000,
});
