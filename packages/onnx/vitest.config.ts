import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

/** The Node tests; the Chromium run (test/browser.test.ts) is `pnpm test:browser` (vitest.browser.config.ts). */
export default mergeConfig(shared, defineConfig({ test: { exclude: ['**/node_modules/**', 'test/browser.test.ts'] } }));
