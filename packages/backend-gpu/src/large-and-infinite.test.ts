// pow of -Infinity to a fractional power (NaN before; |p|^q as IEEE), and sin, cos and tan past the range where the kernels' float32 reduction is exact (|x| > 8192): the
// built-in serves there. In the modes that run in Node it is JavaScript's, so the values match the
// CPU backend's; before, sin(1e8) came out as -0.98 instead of 0.93 and sin(1e10) as -3.3e17.
import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, getBackend, setBackend, tensor } from '@bp/tensor';
import { gpu } from './index.js';
import { NODE_MODES } from '../test/modes.js';

const xs = [0.5, -3, 8000, 9000, -1e5, 1e6, 16777215, 1e8, 1e10, 1e15, -1e30, Infinity, -Infinity, Number.NaN];
const ops = ['sin', 'cos', 'tan'] as const;

describe('sin, cos and tan of large arguments on the gpu backend', () => {
  const previous = getBackend();
  afterAll(() => setBackend(previous));
  for (const mode of NODE_MODES) {
    it(`${mode} mode: as the CPU backend, NaN for infinities`, async () => {
      await setBackend(cpuBackend());
      const expected = Object.fromEntries(ops.map((op) => [op, Array.from(tensor(xs)[op]().dataSync())]));
      await setBackend(gpu({ mode }));
      for (const op of ops) {
        const got = Array.from(tensor(xs)[op]().dataSync());
        got.forEach((v, i) => {
          const want = expected[op][i];
          if (Number.isNaN(want)) expect(v, `${op}(${xs[i]})`).toBeNaN();
          else expect(Math.abs(v - want), `${op}(${xs[i]}): ${v} against ${want}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(want));
        });
      }
    });
  }
});

describe('pow of -Infinity on the gpu backend', () => {
  const previous = getBackend();
  afterAll(() => setBackend(previous));
  for (const mode of NODE_MODES) {
    it(`${mode} mode: |p|^q for a fractional power, as IEEE pow and the CPU backend (it gave NaN)`, async () => {
      const a = [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -2];
      const b = [2.5, 0.5, -2.5, 3, -3, 0.5];
      await setBackend(gpu({ mode }));
      // torch.tensor([-inf] * 5 + [-2.]).pow(torch.tensor([2.5, .5, -2.5, 3., -3., .5])) = [inf, inf, 0, -inf, -0, nan]
      expect(Array.from(tensor(a).pow(tensor(b)).dataSync())).toEqual([Infinity, Infinity, 0, -Infinity, -0, Number.NaN]);
    });
  }
});
