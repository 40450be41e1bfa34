import { grad } from '@bp/autograd';
import { conv2d, linear, maxPool2d, relu, tensor, where, type Tensor } from '@bp/tensor';
import { conv2dReluMaxPool2d, reluBackward, reluMaxPool2d } from '@bp/tensor/internal';
import { expectClose, expectExact } from '../assert.js';

/** Every value of `actual` (any shape) is `expected` (flat) to the bit, NaN where NaN. */
function exact(actual: Tensor, expected: ArrayLike<number>, label: string): void {
  expectClose(actual, expected, { atol: 0, rtol: 0 }, label, actual.shape);
}
import { group, normal, type CaseBuilder } from '../context.js';

const c = group('nn');

/** `x` with NaN at every flat index in `at`. */
async function withNaN(x: Tensor, at: number[]): Promise<Tensor> {
  const v = Float32Array.from(await x.data());
  for (const i of at) v[i] = NaN;
  return tensor(v, { shape: x.shape.slice() });
}

/**
 * relu keeps NaN, as PyTorch's does (it is max(x, 0), which propagates NaN): on small and large
 * tensors (the CPU backend's TypeScript and SIMD paths), and in every fused form (linear with its
 * activation, ReLU then 2x2 max pooling, convolution then ReLU then pooling), whose values must be
 * those of the ops one by one. Its gradient passes dy where x is NaN (PyTorch's threshold_backward:
 * 0 where x <= 0, else dy).
 */
export const reluNanCases: CaseBuilder = (ctx) => {
  const { tol } = ctx;
  return [
    c('relu keeps NaN and its gradient passes dy there (as PyTorch)', async () => {
      expectExact(relu(tensor([NaN, -1, -0, 0, 2])), [NaN, 0, 0, 0, 2], 'float32', 'relu [5]');
      const big = await withNaN(normal([20, 30], 700), [0, 7, 301, 599]);
      const xs = await big.data();
      const want = Array.from(xs, (v) => (v <= 0 ? 0 : v));
      exact(relu(big), want, 'relu [20,30]');
      const dy = normal([20, 30], 701);
      const dys = await dy.data();
      exact(
        reluBackward(dy, big),
        Array.from(dys, (g, i) => (xs[i] <= 0 ? 0 : g)),
        'reluBackward [20,30]',
      );
      const g = grad((t: Tensor) => relu(t).mul(dy).sum())(big);
      exact(
        g,
        Array.from(dys, (v, i) => (xs[i] <= 0 ? 0 : v)),
        'autograd through relu [20,30]',
      );
    }),
    c('fused relu forms keep NaN as the ops one by one do', async () => {
      // linear with relu: row 3 of x holds a NaN, so row 3 of the output is NaN.
      const x = await withNaN(normal([8, 40], 702), [3 * 40 + 5]);
      const w = normal([24, 40], 703);
      const b = normal([24], 704);
      const fusedLinear = linear(x, w, b, { activation: 'relu' });
      expectClose(fusedLinear, await relu(linear(x, w, b)).data(), tol, 'linear relu', [8, 24]);
      const row3 = (await fusedLinear.data()).subarray(3 * 24, 4 * 24);
      expectExact(tensor(Array.from(row3)), new Array(24).fill(NaN), 'float32', 'linear relu: the row with a NaN');
      // ReLU then 2x2 max pooling, one op where fused: the windows holding a NaN pool to NaN.
      const p = await withNaN(normal([2, 3, 8, 8], 705), [0, 64 + 18, 3 * 64 + 63]);
      exact(reluMaxPool2d(p, 2), await maxPool2d(relu(p), 2).data(), 'reluMaxPool2d');
      const dp = normal([2, 3, 4, 4], 706);
      const gf = grad((t: Tensor) => reluMaxPool2d(t, 2).mul(dp).sum())(p);
      const gu = grad((t: Tensor) => maxPool2d(relu(t), 2).mul(dp).sum())(p);
      exact(gf, await gu.data(), 'reluMaxPool2d gradient');
      // Convolution, ReLU and pooling, one op where fused: a NaN pixel spreads over its 3x3 reach.
      const img = await withNaN(normal([2, 2, 8, 8], 707), [2 * 64 + 27]);
      const k = normal([4, 2, 3, 3], 708);
      const kb = normal([4], 709);
      const fusedConv = conv2dReluMaxPool2d(img, k, kb, { padding: 1 }, 2);
      const plain = maxPool2d(relu(conv2d(img, k, kb, { padding: 1 })), 2);
      expectClose(fusedConv, await plain.data(), tol, 'conv2dReluMaxPool2d', [2, 4, 4, 4]);
      const nans = (await where(fusedConv.isnan(), 1, 0).sum().data())[0];
      expectExact(tensor([nans]), [4 * 4], 'float32', 'conv2dReluMaxPool2d: NaN windows (2x2 of 4 channels)');
      const dc = normal([2, 4, 4, 4], 710);
      const [gcx, gcw] = grad((a: Tensor, wt: Tensor) => conv2dReluMaxPool2d(a, wt, kb, { padding: 1 }, 2).mul(dc).sum())(img, k);
      const [gux, guw] = grad((a: Tensor, wt: Tensor) =>
        maxPool2d(relu(conv2d(a, wt, kb, { padding: 1 })), 2)
          .mul(dc)
          .sum(),
      )(img, k);
      expectClose(gcx, await gux.data(), tol, 'conv2dReluMaxPool2d dx', img.shape);
      expectClose(gcw, await guw.data(), tol, 'conv2dReluMaxPool2d dweight', k.shape);
    }),
  ];
};
