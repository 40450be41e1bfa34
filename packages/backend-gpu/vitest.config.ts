import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

/**
 * The Node tests. The Chromium run (test/browser.test.ts) takes minutes on
 * SwiftShader, mostly compiling shaders, so it has its own script:
 * `pnpm test:browser` (vitest.browser.config.ts).
 */
export default mergeConfig(
  shared,
  defineConfig({
    test: {
      exclude: ['**/node_modules/**', 'test/browser.test.ts', 'test/webgpu.test.ts'],
      // storage.test.ts forces garbage collection to watch the finalizer free textures.
      execArgv: ['--expose-gc'],
    },
  }),
);
