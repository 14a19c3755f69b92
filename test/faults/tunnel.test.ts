import { nodeEdge } from './edges.ts';
import { tunnelFaults } from './tunnel-faults.ts';

tunnelFaults('tunnel', nodeEdge);
