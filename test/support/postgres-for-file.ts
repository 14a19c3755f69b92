import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type Postgres } from './postgres.ts';

/**
 * One PostgreSQL for the calling test file: started before its tests, removed after them. Returns
 * the server, to be read inside tests (each test takes a fresh database of it).
 */
export function postgresForFile(): () => Postgres {
  let pg: Postgres | undefined;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(() => pg?.close());
  return () => {
    if (!pg) throw new Error('PostgreSQL is started in beforeAll: read it inside a test');
    return pg;
  };
}
