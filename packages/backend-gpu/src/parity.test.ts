import { afterAll, describe, expect, it } from 'vitest';
import { gpu, type GpuBackend } from './index.js';
import { parityCases } from '../test/parity-cases.js';
import { NODE_MODES } from '../test/modes.js';
import { TOLERANCE } from '../test/tolerance.js';

for (const mode of NODE_MODES) {
  describe(`gpu backend (${mode} mode) agrees with the CPU backend`, () => {
    const b: GpuBackend = gpu({ mode });
    afterAll(() => b.destroy());
    for (const c of parityCases) {
      it(`${c.group}: ${c.name}`, () => {
        const before = b.liveTensors();
        c.run(b, TOLERANCE);
        expect(b.liveTensors()).toBe(before);
      });
    }
    it('ran every kernel in the requested mode', () => {
      expect(b.info().mode).toBe(mode);
      expect(b.info().fallbacks).toEqual([]);
    });
  });
}
