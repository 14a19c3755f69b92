import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { edgeContract } from '../contract/edge-contract.ts';
import { nodeContractOptions } from '../contract/node-edge-options.ts';
import { startEdge } from '../support/edge-harness.ts';
import { startPostgres, type Postgres } from '../support/postgres.ts';

let pg: Postgres;
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(() => pg?.close());

/**
 * The edge contract against one Node edge on PostgreSQL: a fresh database for each edge, one
 * server for the file. A restart starts the edge again on the same database.
 */
edgeContract(async (o) => {
  const databaseUrl = await pg.createDatabase();
  const options = { ...nodeContractOptions(o), databaseUrl };
  // Never created: on PostgreSQL the edge keeps nothing on disk.
  const unused = join(tmpdir(), 'coo-edge-on-postgres-has-no-data-folder');
  let edge = await startEdge(unused, options);
  return {
    url: edge.url,
    logs: () => edge.logs,
    async restart(whileDown) {
      const { port } = edge;
      await edge.close();
      whileDown?.();
      edge = await startEdge(unused, { ...options, port });
    },
    close: () => edge.close(),
  };
});
