import { edgeContract } from '../contract/edge-contract.ts';
import { nodeContractOptions } from '../contract/node-edge-options.ts';
import { startEdge, tempDataDir } from '../support/edge-harness.ts';
import { startNginx } from '../support/nginx.ts';
import { postgresForFile } from '../support/postgres-for-file.ts';

const INSTANCES = 3;
const pg = postgresForFile();

/**
 * The edge contract against three Node edges on one PostgreSQL, behind Debian's nginx with the
 * shipped deploy/nginx-edge.conf in round robin: consecutive requests, and an agent's tunnel, land
 * on any instance, so nearly every case crosses the hop to the device's home.
 */
edgeContract(async (o) => {
  const databaseUrl = await pg().createDatabase();
  const data = tempDataDir();
  const options = { ...nodeContractOptions(o), databaseUrl };
  const start = (port = 0) => startEdge(data.dir, { ...options, port });
  let edges = await Promise.all(Array.from({ length: INSTANCES }, () => start()));
  const stopped: typeof edges = [];
  const lb = await startNginx({ upstreams: edges.map((e) => e.port), balance: 'round-robin' });
  return {
    url: lb.url,
    logs: () => [...stopped, ...edges].flatMap((e) => e.logs),
    instanceUrls: () => edges.map((e) => e.url),
    async restart(whileDown) {
      const ports = edges.map((e) => e.port);
      await Promise.all(edges.map((e) => e.close()));
      stopped.push(...edges);
      whileDown?.();
      edges = await Promise.all(ports.map((p) => start(p)));
    },
    async close() {
      await Promise.all(edges.map((e) => e.close()));
      await lb.close();
      data.remove();
    },
  };
});
