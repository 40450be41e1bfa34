import {
  all,
  any,
  argmax,
  argmin,
  cummax,
  cummin,
  cumprod,
  cumsum,
  max,
  maxWithIndices,
  mean,
  min,
  minWithIndices,
  norm,
  prod,
  std,
  sum,
  tensor,
  variance,
  zeros,
  type Tensor,
} from '@bp/tensor';
import { check, expectClose, expectExact, expectMeta } from '../assert.js';
import { distinct, expectGradcheck, group, normal, uniformIn, type CaseBuilder } from '../context.js';

const c = group('reduce');

/** `f(x)` summed and differentiated: the gradient of `x`. */
function gradOf(x: Tensor, f: (t: Tensor) => Tensor): Tensor {
  const t = x.detach();
  t.requiresGrad = true;
  f(t).sum().backward();
  check(t.grad !== null, 'no gradient reached the input');
  return t.grad!;
}

/** Reductions beyond the basics: 0-d inputs, zero factors, ties (hand-derived, as PyTorch). */
export const reduceMoreCases: CaseBuilder = (ctx) => {
  const { tol } = ctx;
  return [
    c('sum mean max min prod argmax of a 0-d tensor over axis 0 or -1 keep its value, gradient 1 (regression)', () => {
      const reducers: [string, (x: Tensor, axis: number, keep?: boolean) => Tensor][] = [
        ['sum', sum],
        ['mean', mean],
        ['max', max],
        ['min', min],
        ['prod', prod],
      ];
      for (const [name, f] of reducers) {
        for (const axis of [0, -1]) {
          const y = f(tensor(2.5), axis);
          expectMeta(y, [], 'float32', `${name}(tensor(2.5), ${axis})`);
          expectClose(y, 2.5, tol, `${name}(tensor(2.5), ${axis})`);
          expectMeta(f(tensor(2.5), axis, true), [], 'float32', `${name}(tensor(2.5), ${axis}, keepDims)`);
          expectClose(
            gradOf(tensor(2.5), (t) => f(t, axis)),
            1,
            tol,
            `${name}(tensor(2.5), ${axis}) gradient`,
          );
        }
      }
      expectClose(sum(tensor(2.5), [0]), 2.5, tol, 'sum(tensor(2.5), [0])');
      expectExact(argmax(tensor(2.5), 0), 0, 'int32', 'argmax(tensor(2.5), 0)');
      expectExact(argmin(tensor(2.5), -1), 0, 'int32', 'argmin(tensor(2.5), -1)');
      expectExact(sum(tensor(4, { dtype: 'int32' }), 0), 4, 'int32', 'int32 sum(0-d, 0)');
    }),
    c('prod gradient where factors are 0: one zero, several, along an axis (regression)', () => {
      expectClose(
        gradOf(tensor([2, 0, 3]), (t) => prod(t)),
        [0, 6, 0],
        tol,
        'prod([2,0,3])',
      );
      expectClose(
        gradOf(tensor([2, 0, 3, 0]), (t) => prod(t)),
        [0, 0, 0, 0],
        tol,
        'prod([2,0,3,0])',
      );
      expectClose(
        gradOf(tensor([2, 5, 3]), (t) => prod(t)),
        [15, 6, 10],
        tol,
        'prod([2,5,3])',
      );
      expectClose(
        gradOf(
          tensor([
            [2, 0],
            [3, 4],
            [0, 0],
          ]),
          (t) => prod(t, 1),
        ),
        [
          [0, 2],
          [4, 3],
          [0, 0],
        ],
        tol,
        'prod(axis 1)',
      );
      expectClose(
        gradOf(
          tensor([
            [0, 2],
            [3, 4],
          ]),
          (t) => prod(t, 0, true),
        ),
        [
          [3, 4],
          [0, 2],
        ],
        tol,
        'prod(axis 0, keepDims)',
      );
    }),
    c('max min: ties split the gradient over the full reduction and axis lists, the first gets it with one axis (regression)', () => {
      expectClose(
        gradOf(tensor([1, 3, 3]), (t) => max(t)),
        [0, 0.5, 0.5],
        tol,
        'max() of 1-D',
      );
      expectClose(
        gradOf(tensor([1, 3, 3]), (t) => max(t, [0])),
        [0, 0.5, 0.5],
        tol,
        'max([0]) of 1-D',
      );
      expectClose(
        gradOf(tensor([1, 3, 3]), (t) => max(t, 0)),
        [0, 1, 0],
        tol,
        'max(0) of 1-D',
      );
      expectClose(
        gradOf(tensor([2, 1, 1, 1]), (t) => min(t)),
        [0, 1 / 3, 1 / 3, 1 / 3],
        tol,
        'min() of 1-D',
      );
      expectClose(
        gradOf(
          tensor([
            [4, 1],
            [4, 0],
          ]),
          (t) => max(t),
        ),
        [
          [0.5, 0],
          [0.5, 0],
        ],
        tol,
        'max() of 2-D',
      );
      expectClose(
        gradOf(
          tensor([
            [4, 1, 4],
            [0, 2, 2],
          ]),
          (t) => max(t, 1),
        ),
        [
          [1, 0, 0],
          [0, 1, 0],
        ],
        tol,
        'max(1)',
      );
    }),
    c('argmax argmin: the first index on ties and NaN counts as the extreme (as PyTorch)', () => {
      expectExact(argmin(tensor([2, 1, 1, 3])), 1, 'int32', 'argmin ties');
      expectExact(argmax(tensor([2, 3, 3, 1])), 1, 'int32', 'argmax ties');
      expectExact(argmin(tensor([2, 1, 1, NaN])), 3, 'int32', 'argmin with NaN');
      expectExact(
        argmax(
          tensor([
            [5, NaN, 5],
            [1, 1, 0],
          ]),
          1,
        ),
        [1, 0],
        'int32',
        'argmax(1) with NaN and ties',
      );
      expectExact(
        argmin(
          tensor([
            [5, 4],
            [4, 5],
          ]),
          0,
        ),
        [1, 0],
        'int32',
        'argmin(0)',
      );
    }),
    c('variance std norm (hand-derived; correction; zero gradients where PyTorch has them)', () => {
      const x = tensor([
        [1, 2, 3, 4],
        [2, 2, 2, 2],
      ]);
      expectClose(variance(x, 1), [5 / 3, 0], tol, 'variance(1)');
      expectClose(x.var(1, { correction: 0 }), [1.25, 0], tol, 'var(1, correction 0)');
      expectClose(std(x, 1, { keepDims: true }), [[Math.sqrt(5 / 3)], [0]], tol, 'std(1, keepDims)');
      expectClose(variance(tensor([3])), NaN, tol, 'variance of one value is NaN (N - correction = 0)');
      expectClose(variance(tensor(2), 0, { correction: 0 }), 0, tol, 'variance of a 0-d tensor');
      expectClose(
        gradsOfOne(tensor([2, 2, 2]), (t) => std(t)),
        [0, 0, 0],
        tol,
        'std gradient of equal values is 0',
      );
      expectClose(norm(tensor([3, -4])), 5, tol, 'norm 2');
      expectClose(
        norm(
          tensor([
            [3, -4],
            [1, 1],
          ]),
          1,
          1,
        ),
        [7, 2],
        tol,
        'norm 1 over axis 1',
      );
      expectClose(
        norm(
          tensor([
            [3, -4],
            [1, 1],
          ]),
          Infinity,
          1,
          true,
        ),
        [[4], [1]],
        tol,
        'norm Infinity keepDims',
      );
      expectClose(x.norm('fro'), Math.sqrt(46), tol, 'norm fro');
      expectClose(
        gradsOfOne(tensor([0, 0]), (t) => norm(t)),
        [0, 0],
        tol,
        'norm 2 gradient at zero',
      );
      expectClose(
        gradsOfOne(tensor([1, -3, 3]), (t) => norm(t, Infinity)),
        [0, -0.5, 0.5],
        tol,
        'norm Infinity splits ties',
      );
      expectClose(
        gradsOfOne(tensor([0, -2]), (t) => norm(t, 1)),
        [0, -1],
        tol,
        'norm 1 gradient is sign(x)',
      );
      // Any order p: sum(|x|^p)^(1/p), gradient x |x|^(p-2) / norm^(p-1) (as torch.linalg.vector_norm).
      const c17 = Math.cbrt(17);
      expectClose(norm(tensor([1, -2, 2]), 3), c17, tol, 'norm 3');
      expectClose(
        gradsOfOne(tensor([1, -2, 2]), (t) => norm(t, 3)),
        [1 / c17 ** 2, -4 / c17 ** 2, 4 / c17 ** 2],
        tol,
        'norm 3 gradient',
      );
      expectClose(
        gradsOfOne(tensor([0, 0]), (t) => norm(t, 3)),
        [0, 0],
        tol,
        'norm 3 gradient at zero',
      );
      expectClose(
        norm(
          tensor([
            [4, 1],
            [0, 9],
          ]),
          0.5,
          1,
        ),
        [9, 9],
        tol,
        'norm 0.5 over axis 1',
      );
      expectClose(norm(tensor([0, 3, -1, 0]), 0), 2, tol, 'norm 0 counts nonzeros');
      // PyTorch 1.13: vector_norm(x, 0) over [0, 3, -1, inf, nan] is 4, and backward() leaves x a zero gradient.
      expectClose(
        gradsOfOne(tensor([0, 3, -1, Infinity, NaN]), (t) => norm(t, 0)),
        [0, 0, 0, 0, 0],
        tol,
        'norm 0 gradient',
      );
      expectClose(norm(tensor([2, -1, 3]), -Infinity), 1, tol, 'norm -Infinity');
      // PyTorch 1.13 (linalg.vector_norm): an infinite value off the extreme changes nothing.
      expectClose(norm(tensor([Infinity, 1, 0.5]), -Infinity), 0.5, tol, 'norm -Infinity beside Infinity');
      expectClose(
        norm(
          tensor([
            [Infinity, 2],
            [3, -Infinity],
          ]),
          -Infinity,
          0,
        ),
        [3, 2],
        tol,
        'norm -Infinity over axis 0 beside ±Infinity',
      );
      expectClose(
        gradsOfOne(tensor([Infinity, 1, 0.5]), (t) => norm(t, -Infinity)),
        [0, 0, 1],
        tol,
        'norm -Infinity gradient',
      );
      expectClose(
        gradsOfOne(tensor([Infinity, 1, -Infinity]), (t) => norm(t, Infinity)),
        [0.5, 0, -0.5],
        tol,
        'norm Infinity gradient, tied',
      );
      expectClose(norm(tensor([2, 4]), -1), 4 / 3, tol, 'norm -1');
    }),
    c('cumsum cumprod cummax cummin (hand-derived; zeros, ties, NaN)', async () => {
      expectClose(
        cumsum(
          tensor([
            [1, 2, 3],
            [4, 5, 6],
          ]),
          1,
        ),
        [
          [1, 3, 6],
          [4, 9, 15],
        ],
        tol,
        'cumsum(1)',
      );
      expectClose(
        tensor([
          [1, 2, 3],
          [4, 5, 6],
        ]).cumsum(0),
        [
          [1, 2, 3],
          [5, 7, 9],
        ],
        tol,
        'cumsum(0)',
      );
      expectExact(cumsum(tensor([1, 2, 3, 4, 5], { dtype: 'int32' }), -1), [1, 3, 6, 10, 15], 'int32', 'cumsum of int32');
      expectClose(cumsum(tensor(2.5), 0), 2.5, tol, 'cumsum of a 0-d tensor');
      expectClose(cumsum(zeros([2, 0]), 1), [], tol, 'cumsum of an empty axis', [2, 0]);
      expectClose(cumprod(tensor([2, 0, 3, 0, 1.5]), 0), [2, 0, 0, 0, 0], tol, 'cumprod with zeros');
      expectClose(
        gradsOfOne(tensor([2, 0, 3, 0]), (t) => cumprod(t, 0)),
        [1, 8, 0, 0],
        tol,
        'cumprod gradient with zeros',
      );
      expectClose(
        gradsOfOne(tensor([2, 0, 3]), (t) => cumprod(t, 0)),
        [1, 8, 0],
        tol,
        'cumprod gradient with one zero',
      );
      const m = cummax(tensor([1, 3, 3, 2, NaN, 5, NaN, 7]), 0);
      expectClose(m.values, [1, 3, 3, 3, NaN, NaN, NaN, NaN], tol, 'cummax values');
      expectExact(m.indices, [0, 1, 2, 2, 4, 4, 6, 6], 'int32', 'cummax indices: the later on ties and NaN');
      const n = cummin(tensor([[3, 1, 1, 2, 0]]), 1);
      expectClose(n.values, [[3, 1, 1, 1, 0]], tol, 'cummin values');
      expectExact(n.indices, [[0, 1, 2, 2, 4]], 'int32', 'cummin indices');
      expectClose(
        gradsOfOne(tensor([1, 3, 3, 2]), (t) => cummax(t, 0).values),
        [1, 1, 2, 0],
        tol,
        'cummax gradient goes to the source',
      );
    }),
    c('maxWithIndices minWithIndices all any (hand-derived, as PyTorch)', () => {
      const x = tensor([
        [1, 3, 3],
        [5, -1, 5],
      ]);
      const mx = maxWithIndices(x, 1);
      expectClose(mx.values, [3, 5], tol, 'maxWithIndices values');
      expectExact(mx.indices, [1, 0], 'int32', 'maxWithIndices indices: first on ties');
      const mn = x.minWithIndices(0, true);
      expectClose(mn.values, [[1, -1, 3]], tol, 'minWithIndices values keepDims');
      expectExact(mn.indices, [[0, 1, 0]], 'int32', 'minWithIndices indices');
      expectClose(
        gradsOfOne(x, (t) => maxWithIndices(t, 1).values),
        [
          [0, 1, 0],
          [1, 0, 0],
        ],
        tol,
        'maxWithIndices gradient to the first',
      );
      const b = tensor([
        [1, 0, 2],
        [1, NaN, -1],
      ]);
      expectExact(all(b, 1), [0, 1], 'int32', 'all(1), NaN counts as true');
      expectExact(any(b, 0), [1, 1, 1], 'int32', 'any(0)');
      expectExact(b.all(), 0, 'int32', 'all()');
      expectExact(any(zeros([2, 2])), 0, 'int32', 'any of zeros');
      expectExact(all(zeros([0])), 1, 'int32', 'all of nothing is 1');
      expectExact(any(zeros([0])), 0, 'int32', 'any of nothing is 0');
    }),
    ...(
      [
        ['variance', (t) => variance(t, 1), normal],
        ['variance', (t) => variance(t, [0, 1], { correction: 0, keepDims: true }), normal],
        ['std', (t) => std(t, 0), normal],
        ['norm', (t) => norm(t, 2, 1), normal],
        ['norm', (t) => norm(t, 1), (s, seed) => distinct(s, seed).add(0.05)],
        ['norm', (t) => norm(t, Infinity, 0), (s, seed) => distinct(s, seed).add(0.05)],
        ['cumsum', (t) => cumsum(t, 1), normal],
        ['cumprod', (t) => cumprod(t, 1), (s, seed) => uniformIn(s, 0.5, 1.5, seed)],
        ['cumprod', (t) => cumprod(t, 0), normal],
        ['cummax', (t) => cummax(t, 1).values, distinct],
        ['cummin', (t) => cummin(t, 0).values, distinct],
        ['maxWithIndices', (t) => maxWithIndices(t, 1).values, distinct],
        ['minWithIndices', (t) => minWithIndices(t, 0).values, distinct],
      ] as [string, (t: Tensor) => Tensor, (s: number[], seed: number) => Tensor][]
    ).map(([name, f, gen], k) =>
      c(`${name}: gradcheck ${k}`, () => expectGradcheck(ctx, f, [gen(ctx.quick ? [3, 4] : [4, 5], 90 + k)], name)),
    ),
  ];
};

function gradsOfOne(x: Tensor, f: (t: Tensor) => Tensor): Tensor {
  return gradOf(x, f);
}
