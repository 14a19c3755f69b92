import { deliveryFaults, evictDeviceObject } from './delivery-faults.ts';
import { workersEdge } from './edges.ts';

/**
 * On the Workers edge, whose clock is real time (workerd takes none from a test). The poison row
 * waits the real 5-minute step before the third attempt: about 5 minutes. The eviction comes after
 * one failed attempt, while the head waits the 5-second step, so the row stays short.
 */
deliveryFaults('delivery-workers', workersEdge, {
  poisonScale: 1,
  poisonHoldMs: 400_000,
  restartName: 'Durable Object eviction mid-retry-schedule',
  restartScale: 1,
  restartAfterAttempts: 1,
  restart: evictDeviceObject,
  restartSlackMs: 2000,
});
