import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { edgeContract } from '../contract/edge-contract.ts';
import { nodeContractOptions, startContractNodeEdge } from '../contract/node-edge-options.ts';
import { postgresForFile } from '../support/postgres-for-file.ts';

const pg = postgresForFile();

/**
 * The edge contract against one Node edge on PostgreSQL: a fresh database for each edge, one
 * server for the file. A restart starts the edge again on the same database.
 */
edgeContract(async (o) => {
  const databaseUrl = await pg().createDatabase();
  // Never created: on PostgreSQL the edge keeps nothing on disk.
  return startContractNodeEdge(join(tmpdir(), 'coo-edge-on-postgres-has-no-data-folder'), { ...nodeContractOptions(o), databaseUrl });
});
