import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

/**
 * `pnpm test:browser`: the conformance suite and parity checks in Chromium's
 * WebGL2, WebGL and WebGPU. One file at a time: each page keeps SwiftShader's
 * threads busy on its own, and two at once only make both slower.
 */
const config = mergeConfig(shared, defineConfig({ test: { testTimeout: 900_000, fileParallelism: false } }));
// mergeConfig concatenates include lists; this run is the browser tests alone.
config.test!.include = ['test/browser.test.ts', 'test/webgpu.test.ts'];
export default config;
