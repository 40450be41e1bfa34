import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

/** `pnpm test:browser`: the conformance suite and parity checks in Chromium's WebGL2 and WebGL. */
const config = mergeConfig(shared, defineConfig({ test: { testTimeout: 900_000 } }));
// mergeConfig concatenates include lists; this run is the browser tests alone.
config.test!.include = ['test/browser.test.ts', 'test/webgpu.test.ts'];
export default config;
