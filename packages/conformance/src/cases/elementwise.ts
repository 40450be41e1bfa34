import {
  abs,
  add,
  cast,
  clamp,
  clone,
  div,
  eq,
  exp,
  ge,
  gt,
  le,
  leakyRelu,
  log,
  lt,
  maximum,
  minimum,
  mul,
  ne,
  neg,
  pow,
  relu,
  sigmoid,
  sign,
  sqrt,
  square,
  step,
  sub,
  tanh,
  tensor,
  where,
  sin,
  cos,
  log1p,
  expm1,
  reciprocal,
  floor,
  ceil,
  round,
  type Tensor,
} from '@bp/tensor';
import { reluBackward } from '@bp/tensor/internal';
import { check, expectClose, expectExact, expectFinite } from '../assert.js';
import { awayFromZero, distinct, expectGradcheck, group, normal, uniformIn, type CaseBuilder, type CaseContext } from '../context.js';
import { broadcastBinary } from '../reference.js';

const c = group('elementwise');

/** Shape pairs for binary gradchecks: equal, trailing broadcast, leading broadcast, scalar. */
function shapePairs(quick: boolean): [number[], number[]][] {
  const all: [number[], number[]][] = [
    [
      [3, 4],
      [3, 4],
    ],
    [
      [2, 3, 4],
      [3, 1],
    ],
    [[4], [2, 1, 4]],
    [[], [3]],
  ];
  return quick ? all.slice(1, 2) : all;
}

type Binary = (a: Tensor, b: Tensor) => Tensor;

function binaryGradCases(ctx: CaseContext): ReturnType<CaseBuilder> {
  const ops: [string, Binary, (s: number[], seed: number) => Tensor, (s: number[], seed: number) => Tensor][] = [
    ['add', add, normal, normal],
    ['sub', sub, normal, normal],
    ['mul', mul, normal, normal],
    ['div', div, normal, (s, seed) => uniformIn(s, 0.5, 2, seed)],
    ['pow', pow, (s, seed) => uniformIn(s, 0.5, 2, seed), normal],
    // Offsetting one side by half a step keeps the two sides apart: no ties, no kinks.
    ['maximum', maximum, distinct, (s, seed) => distinct(s, seed).add(0.05)],
    ['minimum', minimum, distinct, (s, seed) => distinct(s, seed).add(0.05)],
  ];
  return ops.map(([name, f, genA, genB]) =>
    c(`${name}: gradcheck with broadcasting`, () => {
      // Both orders of each shape pair, so either side can be the broadcast one.
      shapePairs(ctx.quick).forEach(([sa, sb], k) => {
        expectGradcheck(ctx, f, [genA(sa, 10 + k), genB(sb, 20 + k)], `${name} [${sa}] , [${sb}]`);
        expectGradcheck(ctx, f, [genA(sb, 30 + k), genB(sa, 40 + k)], `${name} [${sb}] , [${sa}]`);
      });
    }),
  );
}

function unaryGradCases(ctx: CaseContext): ReturnType<CaseBuilder> {
  const shape = ctx.quick ? [5] : [3, 4];
  const ops: [string, (x: Tensor) => Tensor, (s: number[], seed: number) => Tensor][] = [
    ['neg', neg, normal],
    ['exp', exp, normal],
    ['log', log, (s, seed) => uniformIn(s, 0.5, 3, seed)],
    ['sqrt', sqrt, (s, seed) => uniformIn(s, 0.5, 3, seed)],
    ['square', square, normal],
    ['abs', abs, awayFromZero],
    ['relu', relu, awayFromZero],
    ['leakyRelu', (x) => leakyRelu(x, 0.1), awayFromZero],
    ['sigmoid', sigmoid, (s, seed) => normal(s, seed).mul(2)],
    ['tanh', tanh, (s, seed) => normal(s, seed).mul(2)],
    ['clamp', (x) => clamp(x, -0.5, 0.5), (s, seed) => distinct(s, seed).add(0.05)],
    ['clone (identity)', clone, normal],
    ['sign', (x) => mul(sign(x), x), awayFromZero],
    ['step', (x) => mul(step(x), x), awayFromZero],
    ['sin', sin, normal],
    ['cos', cos, normal],
    ['log1p', log1p, (s, seed) => uniformIn(s, -0.5, 2, seed)],
    ['expm1', expm1, normal],
    ['reciprocal', reciprocal, (s, seed) => uniformIn(s, 0.5, 2, seed)],
    // Zero gradient almost everywhere: checked away from the jumps.
    ['floor', (x) => add(floor(x), x), (s, seed) => uniformIn(s, 0.1, 0.9, seed)],
    ['ceil', (x) => add(ceil(x), x), (s, seed) => uniformIn(s, 0.1, 0.9, seed)],
    ['round', (x) => add(round(x), x), (s, seed) => uniformIn(s, 0.1, 0.4, seed)],
  ];
  return ops.map(([name, f, gen]) => c(`${name}: gradcheck`, () => expectGradcheck(ctx, f, [gen(shape, 30)], name)));
}

/** Elementwise ops: broadcasting, scalars, dtype rules, comparisons, where, clamp, cast; forward and gradients. */
export const elementwiseCases: CaseBuilder = (ctx) => {
  const { tol } = ctx;
  return [
    c('add sub mul div pow with broadcasting (hand-derived)', () => {
      const a = tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      expectClose(
        add(a, tensor([10, 20, 30])),
        [
          [11, 22, 33],
          [14, 25, 36],
        ],
        tol,
        'add row',
      );
      expectClose(
        sub(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          tensor([[1], [2]]),
        ),
        [
          [0, 1],
          [1, 2],
        ],
        tol,
        'sub column',
      );
      expectClose(
        mul(tensor([[1], [2]]), tensor([[3, 4, 5]])),
        [
          [3, 4, 5],
          [6, 8, 10],
        ],
        tol,
        'mul outer',
      );
      expectClose(
        div(a, tensor([[2], [4]])),
        [
          [0.5, 1, 1.5],
          [1, 1.25, 1.5],
        ],
        tol,
        'div column',
      );
      expectClose(
        pow(tensor([1, 2, 3]), tensor([[2], [3]])),
        [
          [1, 4, 9],
          [1, 8, 27],
        ],
        tol,
        'pow',
      );
      expectClose(
        a.add(1).mul(2).sub(3).div(4),
        [
          [0.25, 0.75, 1.25],
          [1.75, 2.25, 2.75],
        ],
        tol,
        'method chain',
      );
      const x3 = tensor([[[1, 2]], [[3, 4]]]); // [2,1,2]
      const y3 = tensor([[10], [20], [30]]); // [3,1]
      expectClose(
        add(x3, y3),
        [
          [
            [11, 12],
            [21, 22],
            [31, 32],
          ],
          [
            [13, 14],
            [23, 24],
            [33, 34],
          ],
        ],
        tol,
        'add [2,1,2]+[3,1]',
      );
    }),
    c('broadcasting agrees with an explicit loop', async () => {
      const pairs: [number[], number[]][] = [
        [
          [2, 1, 3],
          [4, 1],
        ],
        [[5], [3, 1, 5]],
        [
          [1, 4, 1],
          [2, 1, 3],
        ],
        [[2, 3], []],
      ];
      const ops: [string, Binary, (x: number, y: number) => number][] = [
        ['add', add, (x, y) => x + y],
        ['sub', sub, (x, y) => x - y],
        ['mul', mul, (x, y) => x * y],
        ['div', div, (x, y) => x / y],
        ['maximum', maximum, Math.max],
        ['minimum', minimum, Math.min],
      ];
      for (const [k, [sa, sb]] of pairs.entries()) {
        const a = normal(sa, 40 + k);
        const b = uniformIn(sb, 0.5, 2, 50 + k);
        const [av, bv] = [await a.data(), await b.data()];
        for (const [name, f, ref] of ops) {
          const want = broadcastBinary(av, sa, bv, sb, ref);
          expectClose(f(a, b), want.values, tol, `${name} [${sa}] , [${sb}]`, want.shape);
          const back = broadcastBinary(bv, sb, av, sa, ref);
          expectClose(f(b, a), back.values, tol, `${name} [${sb}] , [${sa}]`, back.shape);
        }
      }
    }),
    c('scalars on either side of add sub mul div pow maximum minimum', async () => {
      const x = tensor([1, 2, 4]);
      expectClose(add(x, 1), [2, 3, 5], tol, 'add(x, 1)');
      expectClose(add(1, x), [2, 3, 5], tol, 'add(1, x)');
      expectClose(sub(10, x), [9, 8, 6], tol, 'sub(10, x)');
      expectClose(mul(x, -0.5), [-0.5, -1, -2], tol, 'mul(x, -0.5)');
      expectClose(div(1, x), [1, 0.5, 0.25], tol, 'div(1, x)');
      expectClose(pow(x, 2), [1, 4, 16], tol, 'pow(x, 2)');
      expectClose(pow(2, x), [2, 4, 16], tol, 'pow(2, x)');
      expectClose(pow(tensor([4, 9]), 0.5), [2, 3], tol, 'pow(x, 0.5)');
      expectClose(maximum(x, 2), [2, 2, 4], tol, 'maximum(x, 2)');
      expectClose(minimum(3, x), [1, 2, 3], tol, 'minimum(3, x)');
      const s = add(2, 3);
      const sv = (await s.data())[0];
      check(s.rank === 0 && sv === 5, `add(2, 3) gave ${sv}`);
    }),
    c('int32 dtype rules of add sub mul div pow neg abs relu square exp', () => {
      const i = tensor([1, 2, 3], { dtype: 'int32' });
      const j = tensor([2, 2, 2], { dtype: 'int32' });
      expectExact(add(i, j), [3, 4, 5], 'int32', 'int32 + int32 stays int32');
      expectExact(mul(i, 3), [3, 6, 9], 'int32', 'int32 * integer stays int32');
      expectExact(sub(i, 1), [0, 1, 2], 'int32', 'int32 - integer stays int32');
      expectClose(add(i, 0.5), [1.5, 2.5, 3.5], tol, 'int32 + 0.5');
      check(add(i, 0.5).dtype === 'float32', 'int32 + fractional scalar is float32');
      check(add(i, tensor([0.5, 0.5, 0.5])).dtype === 'float32', 'int32 + float32 is float32');
      check(mul(tensor([1.5]), i.slice(0, 1)).dtype === 'float32', 'float32 * int32 is float32');
      const q = div(i, j);
      check(q.dtype === 'float32', 'int32 / int32 is true division in float32');
      expectClose(q, [0.5, 1, 1.5], tol, 'int32 / int32');
      expectExact(pow(i, 2), [1, 4, 9], 'int32', 'int32 ** integer');
      expectExact(neg(i), [-1, -2, -3], 'int32', 'neg keeps int32');
      expectExact(abs(tensor([-3, 4], { dtype: 'int32' })), [3, 4], 'int32', 'abs keeps int32');
      expectExact(relu(tensor([-3, 4], { dtype: 'int32' })), [0, 4], 'int32', 'relu keeps int32');
      expectExact(square(tensor([-3, 4], { dtype: 'int32' })), [9, 16], 'int32', 'square keeps int32');
      check(exp(i).dtype === 'float32', 'exp of int32 is float32');
      expectClose(exp(tensor([0, 1], { dtype: 'int32' })), [1, Math.E], tol, 'exp of int32');
    }),
    c(
      'reluBackward passes dy where x > 0 or x is NaN and 0 elsewhere, also for infinite and NaN dy (as PyTorch); large tensors too',
      async () => {
        const x = tensor([[-2, -0, 0, 1e-30, 3, NaN]]);
        const dy = tensor([[5, 6, Infinity, 7, -8, 9]]);
        expectExact(reluBackward(dy, x), [[0, 0, 0, 7, -8, 9]], 'float32', 'reluBackward');
        expectExact(reluBackward(tensor([[NaN, NaN]]), tensor([[-1, 1]])), [[0, NaN]], 'float32', 'reluBackward of NaN dy');
        // Above the size where the CPU backend switches to its SIMD kernel.
        const big = normal([70, 70], 95);
        const g = normal([70, 70], 96);
        const xs = await big.data();
        expectClose(
          reluBackward(g, big),
          Array.from(await g.data(), (v, i) => (xs[i] > 0 ? v : 0)),
          { atol: 0, rtol: 0 },
          'reluBackward [70,70]',
          [70, 70],
        );
      },
    ),
    c('unary ops against Math (neg exp log sqrt square abs relu leakyRelu sigmoid tanh sign step)', async () => {
      const vals = [-2, -0.5, 0, 0.5, 2];
      const x = tensor(vals);
      const table: [string, Tensor, (v: number) => number][] = [
        ['neg', neg(x), (v) => -v],
        ['exp', exp(x), Math.exp],
        ['square', square(x), (v) => v * v],
        ['abs', abs(x), Math.abs],
        ['relu', relu(x), (v) => Math.max(v, 0)],
        ['leakyRelu', leakyRelu(x, 0.1), (v) => (v > 0 ? v : 0.1 * v)],
        ['leakyRelu default slope', x.leakyRelu(), (v) => (v > 0 ? v : 0.01 * v)],
        ['sigmoid', sigmoid(x), (v) => 1 / (1 + Math.exp(-v))],
        ['tanh', tanh(x), Math.tanh],
        ['sign', sign(x), Math.sign],
        ['step', step(x), (v) => (v > 0 ? 1 : 0)],
      ];
      for (const [name, got, f] of table) expectClose(got, vals.map(f), tol, name);
      const pos = tensor([0.25, 1, 4]);
      expectClose(log(pos), [Math.log(0.25), 0, Math.log(4)], tol, 'log');
      expectClose(sqrt(pos), [0.5, 1, 2], tol, 'sqrt');
      expectClose(log(tensor([0])), [-Infinity], tol, 'log(0) is -Infinity');
      check(Number.isNaN((await sqrt(tensor([-1])).data())[0]), 'sqrt(-1) is NaN');
      const methods = x.neg().exp().log().abs();
      expectClose(methods, [2, 0.5, 0, 0.5, 2], tol, 'method chain neg.exp.log.abs');
    }),
    c('sigmoid and tanh stay finite and saturate at +-1e4', () => {
      const big = tensor([-1e4, -100, 100, 1e4]);
      const s = sigmoid(big);
      expectFinite(s, 'sigmoid');
      expectClose(s, [0, 0, 1, 1], tol, 'sigmoid');
      expectClose(tanh(big), [-1, -1, 1, 1], tol, 'tanh');
    }),
    c('comparisons eq ne gt lt ge le give int32 with broadcasting', () => {
      const a = tensor([1, 2, 3]);
      const b = tensor([3, 2, 1]);
      expectExact(eq(a, b), [0, 1, 0], 'int32', 'eq');
      expectExact(ne(a, b), [1, 0, 1], 'int32', 'ne');
      expectExact(gt(a, b), [0, 0, 1], 'int32', 'gt');
      expectExact(lt(a, b), [1, 0, 0], 'int32', 'lt');
      expectExact(ge(a, b), [0, 1, 1], 'int32', 'ge');
      expectExact(le(a, b), [1, 1, 0], 'int32', 'le');
      expectExact(
        gt(tensor([[1], [2]]), tensor([1, 2, 3])),
        [
          [0, 0, 0],
          [1, 0, 0],
        ],
        'int32',
        'gt broadcast',
      );
      expectExact(a.ge(2), [0, 1, 1], 'int32', 'ge scalar');
      expectExact(le(2, a), [0, 1, 1], 'int32', 'le scalar first');
      expectExact(eq(tensor([1, 2], { dtype: 'int32' }), tensor([1, 2.5])), [1, 0], 'int32', 'eq int32 vs float32');
      const g = normal([3], 1);
      g.requiresGrad = true;
      check(!gt(g, 0).requiresGrad, 'comparisons carry no gradient');
    }),
    c('where picks with broadcasting and any non-zero condition', () => {
      const cond = tensor(
        [
          [1, 0],
          [0, 1],
        ],
        { dtype: 'int32' },
      );
      expectClose(
        where(
          cond,
          tensor([
            [1, 2],
            [3, 4],
          ]),
          -1,
        ),
        [
          [1, -1],
          [-1, 4],
        ],
        tol,
        'where scalar b',
      );
      const col = tensor([[1], [0]], { dtype: 'int32' });
      expectClose(
        where(
          col,
          tensor([
            [1, 2, 3],
            [4, 5, 6],
          ]),
          tensor([7, 8, 9]),
        ),
        [
          [1, 2, 3],
          [7, 8, 9],
        ],
        tol,
        'where broadcast',
      );
      expectClose(where(tensor([0.5, 0, -1]), 1, 2), [1, 2, 1], tol, 'float condition');
      // The method takes PyTorch's order: x.where(condition, other) keeps x where the condition holds.
      expectClose(
        tensor([1, 2, 3]).where(tensor([1, 0, 1], { dtype: 'int32' }), tensor([-1, -2, -3])),
        [1, -2, 3],
        tol,
        'where as a method',
      );
      expectClose(tensor([1, 2]).where(tensor([0, 1], { dtype: 'int32' }), 9), [9, 2], tol, 'where as a method, scalar other');
      const ints = where(tensor([1, 0], { dtype: 'int32' }), tensor([1, 2], { dtype: 'int32' }), tensor([3, 4], { dtype: 'int32' }));
      expectExact(ints, [1, 4], 'int32', 'where of int32 stays int32');
    }),
    c('clamp with both, one or no bound', () => {
      const x = tensor([-2, -0.5, 0.5, 2]);
      expectClose(clamp(x, -1, 1), [-1, -0.5, 0.5, 1], tol, 'clamp(-1, 1)');
      expectClose(x.clamp(0), [0, 0, 0.5, 2], tol, 'clamp(0)');
      expectClose(x.clamp(null, 0), [-2, -0.5, 0, 0], tol, 'clamp(null, 0)');
      expectClose(x.clamp(), [-2, -0.5, 0.5, 2], tol, 'clamp()');
    }),
    c('clamp with NaN bounds gives what PyTorch gives', async () => {
      // torch 1.13: clamp(x, nan, 1) and clamp(x, -1, nan) are all NaN, a NaN in a tensor bound is
      // NaN where it applies, and a lone number bound of NaN (clamp_min / clamp_max) leaves x.
      const x = tensor([-5, 5]);
      const allNaN = async (t: Tensor, what: string) => {
        const v = Array.from(await t.data());
        check(v.every(Number.isNaN), `${what}: expected NaN, got ${v}`);
      };
      await allNaN(clamp(x, NaN, 1), 'clamp(x, NaN, 1)');
      await allNaN(clamp(x, -1, NaN), 'clamp(x, -1, NaN)');
      await allNaN(clamp(x, tensor([NaN, NaN]), tensor([1, 1])), 'clamp(x, [NaN, NaN], [1, 1])');
      await allNaN(clamp(x, tensor([NaN, NaN])), 'clamp(x, [NaN, NaN])');
      const half = await clamp(x, null, tensor([NaN, 2])).data();
      check(Number.isNaN(half[0]) && half[1] === 2, `clamp(x, null, [NaN, 2]): expected [NaN, 2], got ${Array.from(half)}`);
      expectClose(clamp(x, NaN), [-5, 5], tol, 'clamp(x, NaN)');
      expectClose(clamp(x, null, NaN), [-5, 5], tol, 'clamp(x, null, NaN)');
    }),
    c('clamp of NaN is NaN with a zero gradient (torch 1.13), on every path', () => {
      const gradAt = (f: (t: Tensor) => Tensor, v: number[] | Float32Array) => {
        const t = tensor(v, { requiresGrad: true });
        f(t).sum().backward();
        return t.grad!;
      };
      // x = torch.tensor([nan, 1., 0.2], requires_grad=True); x.clamp(0, 0.5).sum().backward() -> [0, 0, 1]
      expectClose(clamp(tensor([NaN, 1, 0.2]), 0, 0.5), [NaN, 0.5, 0.2], tol, 'clamp(0, 0.5) keeps NaN');
      expectClose(
        gradAt((t) => clamp(t, 0, 0.5), [NaN, 1, 0.2]),
        [0, 0, 1],
        tol,
        'clamp(0, 0.5)',
      );
      // x.clamp(min=0.) and x.clamp(max=0.) at [nan, 1, -1] -> [0, 1, 0] and [0, 0, 1]
      expectClose(
        gradAt((t) => clamp(t, 0), [NaN, 1, -1]),
        [0, 1, 0],
        tol,
        'clamp(0)',
      );
      expectClose(
        gradAt((t) => clamp(t, null, 0), [NaN, 1, -1]),
        [0, 0, 1],
        tol,
        'clamp(null, 0)',
      );
      // x.clamp(torch.tensor(0.), torch.tensor(0.5)) -> [0, 0, 1]
      expectClose(
        gradAt((t) => clamp(t, tensor(0), tensor(0.5)), [NaN, 1, 0.2]),
        [0, 0, 1],
        tol,
        'tensor bounds',
      );
      // A long input (the vectorised kernels): NaN at both ends, 0.25 between -> [0, 1, ..., 1, 0].
      const n = 5000;
      const v = new Float32Array(n).fill(0.25);
      v[0] = v[n - 1] = NaN;
      const expected = Array.from({ length: n }, (_, i) => (i === 0 || i === n - 1 ? 0 : 1));
      expectClose(
        gradAt((t) => clamp(t, 0, 0.5), v),
        expected,
        tol,
        'clamp(0, 0.5) over 5000',
      );
    }),
    c('cast truncates toward zero and clone copies', () => {
      expectExact(cast(tensor([1.7, -1.7, 2.5, -0.2]), 'int32'), [1, -1, 2, 0], 'int32', 'float to int32');
      expectExact(tensor([3, -4], { dtype: 'int32' }).cast('float32'), [3, -4], 'float32', 'int32 to float');
      const f = tensor([1.5]);
      expectExact(cast(f, 'float32'), [1.5], 'float32', 'cast to the same dtype');
      const x = tensor([1, 2, 3]);
      const y = clone(x);
      x.assign([7, 8, 9]);
      expectExact(y, [1, 2, 3], 'float32', 'a clone keeps its values when the source changes');
      expectExact(x.clone(), [7, 8, 9], 'float32', 'clone as a method');
    }),
    ...binaryGradCases(ctx),
    ...unaryGradCases(ctx),
    c('where: gradcheck to both branches with broadcasting', () => {
      const cond = tensor(
        [
          [1, 0, 1, 0],
          [0, 0, 1, 1],
          [1, 1, 0, 0],
        ],
        { dtype: 'int32' },
      );
      expectGradcheck(ctx, (a, b) => where(cond, a, b), [normal([3, 4], 60), normal([4], 61)], 'where');
      expectGradcheck(ctx, (a, b) => where(cond, a, b), [normal([3, 1], 62), normal([], 63)], 'where [3,1] , []');
    }),
  ];
};
