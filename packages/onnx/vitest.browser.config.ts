import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

/** `pnpm test:browser`: exported models in onnxruntime-web, in Chromium. */
const config = mergeConfig(shared, defineConfig({ test: { testTimeout: 180_000 } }));
// mergeConfig concatenates include lists; this run is the browser test alone.
config.test!.include = ['test/browser.test.ts'];
export default config;
