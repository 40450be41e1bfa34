import { describe, expect, it } from 'vitest';
import { cpuBackend, getBackend, maxPool2d, setBackend, tensor, type Backend } from '@bp/tensor';
import './index.js';

/** The CPU backend without its fused max pooling: maxPool2d is composed from im2col and max. */
function compositeCpu(): Backend {
  const cpu = cpuBackend() as Backend;
  const { maxPool2d: _dropped, ...fused } = cpu.fused ?? {};
  return { ...cpu, name: 'cpu-composite-pool', fused };
}

/** Values and gradient of sum(maxPool2d(x) * weights) on the active backend. */
function run(values: number[], shape: number[], k: number, opts: { stride?: number; padding?: number }) {
  const x = tensor(values, { shape, requiresGrad: true });
  const y = maxPool2d(x, k, opts);
  const w = tensor(
    Array.from({ length: y.size }, (_, i) => i + 1),
    { shape: y.shape },
  );
  y.mul(w).sum().backward();
  return { y: Array.from(y.dataSync()), dx: Array.from(x.grad!.dataSync()) };
}

describe('fused maxPool2d', () => {
  // Ties, NaN and negative values, with overlapping and padded windows.
  const values = [3, 3, 1, -2, 0, 3, 5, 5, -1, NaN, 2, 2, 4, 4, 4, -7, 1, 1, 1, 1, -3, 2, 8, 8, 6, 6, 0, 9, 9, 2, -5, -5];
  const cases: [number, { stride?: number; padding?: number }][] = [
    [2, {}],
    [2, { stride: 1 }],
    [3, { stride: 2, padding: 1 }],
  ];
  for (const [k, opts] of cases) {
    it(`kernel ${k} ${JSON.stringify(opts)}: values and gradients equal the composite's`, async () => {
      const cpu = getBackend();
      const fused = run(values, [1, 2, 4, 4], k, opts);
      await setBackend(compositeCpu());
      try {
        expect(fused).toEqual(run(values, [1, 2, 4, 4], k, opts));
      } finally {
        await setBackend(cpu);
      }
    });
  }
});
