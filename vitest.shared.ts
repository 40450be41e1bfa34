import { defineConfig } from 'vitest/config';

/** Shared test settings: tests run on `src` through the `@bp/source` export condition. */
export default defineConfig({
  resolve: { conditions: ['@bp/source'] },
  ssr: { resolve: { conditions: ['@bp/source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
