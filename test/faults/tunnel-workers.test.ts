import { describe } from 'vitest';
import { workersEdge } from './edges.ts';
import { deviceObjectReset, tunnelFaults } from './tunnel-faults.ts';

/** The same tunnel faults against the Workers edge in local workerd, plus the reset only it has. */
tunnelFaults('tunnel-workers', workersEdge);
describe('the Workers edge restarted', () => deviceObjectReset('tunnel-workers', workersEdge));
