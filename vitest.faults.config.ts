import { defineConfig } from 'vitest/config';
import { sourceAliases } from './vitest.config.ts';

// `pnpm test:faults`: the fault scenarios of tools/faults, one file at a time, because each
// runs worker processes that load the whole machine and the timing of a fault must not depend
// on a neighbour's.
export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    include: ['tools/faults/scenarios/**/*.test.ts'],
    globalSetup: ['tools/faults/src/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
