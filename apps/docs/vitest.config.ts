import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

/** Unit tests of the site's runtime, and every example run once in Node (`quick` sizes). */
export default mergeConfig(shared, defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 120_000 } }));
