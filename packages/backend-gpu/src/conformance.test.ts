import '@bp/autograd';
import { setBackend } from '@bp/tensor';
import { runConformanceSuite } from '@bp/conformance/vitest';
import { gpu, type GpuBackend } from './index.js';
import { NODE_MODES } from '../test/modes.js';
import { TOLERANCE } from '../test/tolerance.js';

for (const mode of NODE_MODES) {
  let b: GpuBackend | null = null;
  runConformanceSuite({
    name: `gpu (${mode} mode)`,
    setup: async () => {
      b = gpu({ mode });
      await setBackend(b);
    },
    teardown: async () => {
      await setBackend('cpu');
      b?.destroy();
    },
    tolerance: TOLERANCE,
    quick: true,
  });
}
