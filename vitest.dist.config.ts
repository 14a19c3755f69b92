import { defineConfig } from 'vitest/config';

/**
 * `npm run test:dist`: what an operator installs. The agent's single executable from an empty folder
 * with no node on PATH (LAN API, events, tunnel, kill -9, backfill from MariaDB), and the bundle and the edge on every
 * supported Node line. The global setup builds with scripts/build.ts and fetches the Node binaries.
 */
export default defineConfig({
  test: {
    include: ['test/dist/**/*.test.ts', 'test/e2e/agent-kill.test.ts', 'test/e2e/backfill-edge-mariadb.test.ts'],
    globalSetup: ['test/dist/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
