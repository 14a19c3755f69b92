import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{agent,edge,shared,test}/**/*.test.ts'],
    // The faults suite has its own run: npm run test:faults (vitest.faults.config.ts).
    exclude: ['**/node_modules/**', 'test/faults/**', 'test/dist/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Two cores here and in CI: more workers only contend.
    maxWorkers: 2,
  },
});
