import { arange, argmax, argmin, max, mean, min, prod, sum, tensor, zeros, type Tensor } from '@bp/tensor';
import { check, expectClose, expectExact, expectMeta } from '../assert.js';
import { distinct, expectGradcheck, group, normal, uniformIn, type CaseBuilder } from '../context.js';
import { reduceRef } from '../reference.js';

const c = group('reduce');

type Reducer = (x: Tensor, axis?: number | number[] | null, keepDims?: boolean) => Tensor;

/** Reductions: one axis, several axes, all axes, keepDims, arg-reductions; values and gradients. */
export const reduceCases: CaseBuilder = (ctx) => {
  const { tol } = ctx;
  const axisSets: (number | number[] | undefined)[] = ctx.quick ? [1, [0, 2]] : [undefined, 0, -1, [0, 2], [1, 2], [0, 1, 2]];
  return [
    c('sum mean max min prod over one axis, all axes and keepDims (hand-derived)', () => {
      const x = tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      expectClose(sum(x), 21, tol, 'sum()');
      expectMeta(sum(x), [], 'float32', 'sum() is 0-d');
      expectClose(sum(x, 0), [5, 7, 9], tol, 'sum(0)');
      expectClose(x.sum(1), [6, 15], tol, 'sum(1)');
      expectClose(x.sum(-1, true), [[6], [15]], tol, 'sum(-1, keepDims)');
      expectClose(x.sum([0, 1], true), [[21]], tol, 'sum([0,1], keepDims)');
      expectClose(mean(x), 3.5, tol, 'mean()');
      expectClose(x.mean(0), [2.5, 3.5, 4.5], tol, 'mean(0)');
      expectClose(x.mean(1, true), [[2], [5]], tol, 'mean(1, keepDims)');
      expectClose(max(x), 6, tol, 'max()');
      expectClose(x.max(0), [4, 5, 6], tol, 'max(0)');
      expectClose(x.max(1), [3, 6], tol, 'max(1)');
      expectClose(min(x), 1, tol, 'min()');
      expectClose(x.min(1, true), [[1], [4]], tol, 'min(1, keepDims)');
      expectClose(prod(x, 1), [6, 120], tol, 'prod(1)');
      expectClose(prod(x), 720, tol, 'prod()');
    }),
    c('sum max min over several axes, contiguous or not (hand-derived)', () => {
      const x = arange(24).reshape([2, 3, 4]).cast('float32'); // x[i,j,k] = 12i + 4j + k
      expectClose(x.sum([0, 2]), [60, 92, 124], tol, 'sum([0,2])');
      expectClose(x.sum([0, 2], true), [[[60], [92], [124]]], tol, 'sum([0,2], keepDims)');
      expectClose(x.sum([1, 2]), [66, 210], tol, 'sum([1,2])');
      expectClose(x.max([0, 2]), [15, 19, 23], tol, 'max([0,2])');
      expectClose(x.min([0, 2]), [0, 4, 8], tol, 'min([0,2])');
      expectClose(x.mean([0, 1]), [10, 11, 12, 13], tol, 'mean([0,1])');
      expectClose(x.max([-1, 0], true), [[[15], [19], [23]]], tol, 'max([-1,0], keepDims)');
    }),
    c('reductions over random shapes agree with an explicit loop', async () => {
      const shape = [3, 4, 5];
      const x = normal(shape, 70);
      const v = await x.data();
      for (const axes of [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]) {
        const s = reduceRef(v, shape, axes, (a, b) => a + b, 0);
        expectClose(x.sum(axes), s.values, tol, `sum([${axes}])`, s.shape);
        const m = reduceRef(v, shape, axes, Math.max, -Infinity);
        expectClose(x.max(axes), m.values, tol, `max([${axes}])`, m.shape);
        const n = reduceRef(v, shape, axes, Math.min, Infinity);
        expectClose(x.min(axes), n.values, tol, `min([${axes}])`, n.shape);
        const count = axes.reduce((p, a) => p * shape[a], 1);
        expectClose(
          x.mean(axes),
          s.values.map((u) => u / count),
          tol,
          `mean([${axes}])`,
          s.shape,
        );
      }
    }),
    c('argmax argmin: int32 indices, first on ties, flattened without an axis', () => {
      const x = tensor([
        [1, 5, 3],
        [7, 2, 7],
      ]);
      expectExact(argmax(x, 1), [1, 0], 'int32', 'argmax(1)');
      expectExact(x.argmax(0), [1, 0, 1], 'int32', 'argmax(0)');
      expectExact(x.argmax(), 3, 'int32', 'argmax()');
      expectExact(argmin(x, 1), [0, 1], 'int32', 'argmin(1)');
      expectExact(x.argmin(-1, true), [[0], [1]], 'int32', 'argmin(-1, keepDims)');
      expectExact(x.argmin(), 0, 'int32', 'argmin()');
      expectExact(tensor([3, 1, 2], { dtype: 'int32' }).argmax(), 0, 'int32', 'argmax of int32');
    }),
    c('int32 sum keeps int32, mean is float32, empty sum is zero', () => {
      const i = tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { dtype: 'int32' },
      );
      expectExact(i.sum(0), [4, 6], 'int32', 'int32 sum(0)');
      expectExact(i.max(), 4, 'int32', 'int32 max()');
      const m = i.mean();
      check(m.dtype === 'float32', `mean of int32 is float32, got ${m.dtype}`);
      expectClose(m, 2.5, tol, 'int32 mean');
      expectClose(zeros([0, 3]).sum(0), [0, 0, 0], tol, 'sum over an empty axis');
    }),
    c('max() and min() of a tensor holding NaN send the gradient to the NaN (torch 1.13)', () => {
      const grad = (f: (t: Tensor) => Tensor, v: number[]) => {
        const x = tensor(v, { requiresGrad: true });
        f(x).backward();
        return x.grad!;
      };
      // x = torch.tensor([1., nan, 3], requires_grad=True); x.max().backward(); x.grad -> [0, 1, 0]
      expectClose(max(tensor([1, NaN, 3])), NaN, tol, 'max() is NaN');
      expectClose(grad(max, [1, NaN, 3]), [0, 1, 0], tol, 'max() gradient');
      expectClose(grad(min, [1, NaN, 3]), [0, 1, 0], tol, 'min() gradient');
      // torch.tensor([nan, 1., nan]).max() backward -> [0.5, 0, 0.5]; ties split as before: [3, 1, 3] -> [0.5, 0, 0.5]
      expectClose(grad(max, [NaN, 1, NaN]), [0.5, 0, 0.5], tol, 'max() gradient split between two NaNs');
      expectClose(grad(max, [3, 1, 3]), [0.5, 0, 0.5], tol, 'max() ties');
      // Per slice over a list of axes: the NaN rows' gradient goes to their NaN, the others' to the maximum.
      expectClose(
        grad((t) => max(t.reshape([2, 2]), [1]).sum(), [1, NaN, 3, 4]),
        [0, 1, 0, 1],
        tol,
        'max([1]) per row',
      );
    }),
    ...(
      [
        ['sum', sum, normal],
        ['mean', mean, normal],
        ['max', max, distinct],
        ['min', min, distinct],
      ] as [string, Reducer, typeof normal][]
    ).map(([name, f, gen]) =>
      c(`${name}: gradcheck over one, several and all axes, with keepDims`, () => {
        const x = gen([2, 3, 4], 80);
        axisSets.forEach((axis, k) => {
          const keep = k % 2 === 1;
          expectGradcheck(ctx, (t) => f(t, axis, keep), [x], `${name}(${JSON.stringify(axis)}, ${keep})`);
        });
      }),
    ),
    c('prod: gradcheck', () => {
      const x = uniformIn([3, 4], 0.5, 1.5, 81);
      expectGradcheck(ctx, (t) => prod(t, 1), [x], 'prod(1)');
      if (!ctx.quick) expectGradcheck(ctx, (t) => prod(t), [uniformIn([5], 0.5, 1.5, 82)], 'prod()');
    }),
  ];
};
