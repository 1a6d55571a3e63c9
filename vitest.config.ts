import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests import the workspace packages from source, so `pnpm test` needs no build first.
export const sourceAliases = [
  { find: /^@pgqueue\/core\/testing$/, replacement: here('./packages/core/src/testing/index.ts') },
  { find: /^@pgqueue\/core\/adapter$/, replacement: here('./packages/core/src/adapter/index.ts') },
  { find: /^@pgqueue\/core$/, replacement: here('./packages/core/src/index.ts') },
  { find: /^@pgqueue\/(pg|postgres-js|pglite|kysely)$/, replacement: here('./packages/$1/src/index.ts') },
];

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'tools/*/test/**/*.test.ts'],
    // Type tests (*.test-d.ts: typed jobs) are checked by tsc as part of `pnpm test`.
    typecheck: {
      enabled: true,
      include: ['packages/*/test/**/*.test-d.ts'],
      tsconfig: 'packages/core/tsconfig.json',
    },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
