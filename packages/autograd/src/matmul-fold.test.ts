// A batch of matrices times one matrix is one product over the stacked rows, forward and in the
// gradient of the shared matrix: checked against the per-matrix products summed by hand, for
// either operand transposed, and for empty batches, rows and depths.
import { describe, expect, it } from 'vitest';
import { manualSeed, matmul, matmulT, ones, randn, type Tensor } from '@bp/tensor';
import './index.js';

/** sum over t of op(a_t)^T-side products, one matrix at a time, as plain numbers. */
function perMatrix(a: Tensor, b: Tensor, transB: boolean, dy: Tensor): { y: number[]; db: number[] } {
  const [batch, m, k] = a.shape;
  const n = transB ? b.shape[0] : b.shape[1];
  const av = a.dataSync();
  const bv = b.dataSync();
  const g = dy.dataSync();
  const bAt = (p: number, j: number) => (transB ? bv[j * k + p] : bv[p * n + j]);
  const y = new Array<number>(batch * m * n).fill(0);
  const db = new Array<number>(k * n).fill(0);
  for (let t = 0; t < batch; t++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++)
        for (let p = 0; p < k; p++) {
          y[(t * m + i) * n + j] += av[(t * m + i) * k + p] * bAt(p, j);
          db[transB ? j * k + p : p * n + j] += av[(t * m + i) * k + p] * g[(t * m + i) * n + j];
        }
  return { y, db };
}

describe('batched @ shared matrix', () => {
  for (const transB of [false, true]) {
    it(`[4,5,6] @ ${transB ? '[7,6]^T' : '[6,7]'}: values and the shared matrix's gradient`, () => {
      manualSeed(3);
      const a = randn([4, 5, 6], { requiresGrad: true });
      const b = randn(transB ? [7, 6] : [6, 7], { requiresGrad: true });
      const y = matmulT(a, b, false, transB);
      const dy = randn(y.shape);
      y.backward(dy);
      const want = perMatrix(a, b, transB, dy);
      Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want.y[i], 4));
      Array.from(b.grad!.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want.db[i], 4));
      expect(a.grad!.shape).toEqual([4, 5, 6]);
    });
  }

  for (const [as, bs] of [
    [
      [2, 0, 3],
      [3, 4],
    ],
    [
      [2, 3, 0],
      [0, 4],
    ],
    [
      [0, 3, 2],
      [2, 5],
    ],
  ]) {
    it(`empty: [${as}] @ [${bs}] gives gradients of the operands' shapes (zeros)`, () => {
      const a = ones(as, { requiresGrad: true });
      const b = ones(bs, { requiresGrad: true });
      matmul(a, b).sum().backward();
      expect(a.grad!.shape).toEqual(as);
      expect(b.grad!.shape).toEqual(bs);
      expect(Array.from(b.grad!.dataSync()).every((v) => v === 0)).toBe(true);
    });
  }
});
