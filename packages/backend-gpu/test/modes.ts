import { GPU } from 'gpu.js';
import type { GpuMode } from '../src/index.js';

/**
 * The gpu.js modes that run in this Node process: WebAssembly and JavaScript
 * kernels always, headless-gl when the `gl` module is built and a display is
 * up (`pnpm test:headlessgl`). The browser GL modes run in test/browser.test.ts.
 */
export const NODE_MODES: GpuMode[] = [
  ...(GPU.isHeadlessGLSupported ? (['headlessgl'] as const) : []),
  ...(GPU.isWebAssemblySupported ? (['webasm'] as const) : []),
  'cpu',
];
