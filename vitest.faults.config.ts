import { defineConfig } from 'vitest/config';

/** `npm run test:faults`: the faults and abuse suite, kept out of `npm test` (see vitest.config.ts). */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/faults/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 20_000,
    // Faults measure recovery times: two files at once on two cores would only blur the figures.
    maxWorkers: 1,
  },
});
