import * as bp from '@bp/tensor';
import {
  acos,
  acosh,
  add,
  asin,
  asinh,
  atan,
  atanh,
  clamp,
  copysign,
  cosh,
  erf,
  exp2,
  isfinite,
  isinf,
  isnan,
  lerp,
  log2,
  log10,
  logaddexp,
  maximum,
  minimum,
  pow,
  rsqrt,
  sinh,
  tan,
  tensor,
  trunc,
  type Tensor,
} from '@bp/tensor';
import { check, expectClose, expectExact, expectFinite } from '../assert.js';
import { awayFromZero, distinct, expectGradcheck, group, normal, uniformIn, type CaseBuilder } from '../context.js';

const c = group('elementwise');

/** The gradients of `sum(f(...xs))` with respect to each input. */
export function gradsOf(xs: Tensor[], f: (...t: Tensor[]) => Tensor): Tensor[] {
  const ts = xs.map((x) => {
    const t = x.detach();
    t.requiresGrad = true;
    return t;
  });
  f(...ts)
    .sum()
    .backward();
  return ts.map((t, i) => {
    check(t.grad !== null, `no gradient reached input ${i}`);
    return t.grad!;
  });
}

/** Elementwise ops beyond the basics and PyTorch's conventions at edges (hand-derived). */
export const elementwiseMathCases: CaseBuilder = (ctx) => {
  const { tol } = ctx;
  return [
    c('pow gradient at base 0: 0 for exponent 0, PyTorch values for exponent >= 0 (regression)', () => {
      const [ga, gb] = gradsOf([tensor([0, 0, 0, 0, 2]), tensor([0, 1, 2, 0.5, 0])], pow);
      expectClose(ga, [0, 1, 0, Infinity, 0], tol, 'd pow / d base');
      expectClose(gb, [0, 0, 0, 0, Math.log(2)], tol, 'd pow / d exponent');
      expectClose(gradsOf([tensor([0, 3])], (x) => x.pow(0))[0], [0, 0], tol, 'x.pow(0)');
      expectClose(gradsOf([tensor([0, 2])], (y) => pow(0, y))[0], [0, 0], tol, 'pow(0, y)');
      expectClose(gradsOf([tensor([-1])], (y) => pow(0, y))[0], [-Infinity], tol, 'pow(0, -1)');
    }),
    c('pow of 1 to any power and of -1 to an infinite one is 1, as C and PyTorch (JavaScript gives NaN); gradients as PyTorch', () => {
      const a = tensor([1, 1, 1, -1, -1, -1, 2, NaN, -8, 1, -1]);
      const b = tensor([NaN, Infinity, -Infinity, Infinity, -Infinity, NaN, NaN, 0, 1 / 3, 2.5, 3]);
      expectClose(pow(a, b), [1, 1, 1, 1, 1, NaN, NaN, 1, NaN, 1, -1], tol, 'pow');
      // PyTorch 1.13's gradients at these points (generated with torch.pow and backward).
      const [ga, gb] = gradsOf([a, b], pow);
      expectClose(ga, [NaN, Infinity, -Infinity, Infinity, -Infinity, NaN, NaN, 0, NaN, 2.5, 3], tol, 'd pow / d base');
      expectClose(gb, [0, 0, 0, NaN, NaN, NaN, NaN, NaN, NaN, 0, NaN], tol, 'd pow / d exponent');
      expectClose(pow(1, tensor([NaN, Infinity])), [1, 1], tol, 'pow(1, y)');
      expectExact(pow(tensor([1, -1, 2], { dtype: 'int32' }), 3), [1, -1, 8], 'int32', 'int32 pow');
    }),
    c('every unary op and activation keeps NaN, as PyTorch (sign and step give 0)', () => {
      const names = (
        'neg exp log sqrt square abs relu sigmoid tanh sin cos floor ceil round log1p expm1 reciprocal ' +
        'tan asin acos atan sinh cosh asinh acosh atanh erf trunc rsqrt log2 log10 exp2 gelu silu ' +
        'elu celu selu softplus mish hardtanh relu6 hardswish hardsigmoid logsigmoid softsign leakyRelu'
      ).split(' ');
      // 5 values, and 261 (where the CPU backend's SIMD kernels take over, with a ragged end).
      for (const n of [5, 261]) {
        const x = tensor(new Array<number>(n).fill(NaN));
        const nans = new Array<number>(n).fill(NaN);
        const ops = bp as unknown as Record<string, (t: Tensor) => Tensor>;
        for (const name of names) expectClose(ops[name](x), nans, tol, `${name} of ${n}`);
        expectClose(bp.gelu(x, { approximate: 'tanh' }), nans, tol, 'gelu tanh');
        // PyTorch's sign(NaN) and heaviside(NaN, 0) are 0.
        expectClose(bp.sign(x), new Array<number>(n).fill(0), tol, 'sign');
        expectClose(bp.step(x), new Array<number>(n).fill(0), tol, 'step');
      }
    }),
    c('maximum minimum: on ties each side gets half the gradient, NaN gets all of it (as PyTorch)', () => {
      const a = tensor([1, 3, 3, NaN]);
      const b = tensor([1, 2, 4, 0]);
      expectClose(maximum(a, b), [1, 3, 4, NaN], tol, 'maximum');
      expectClose(minimum(a, b), [1, 2, 3, NaN], tol, 'minimum');
      const [ga, gb] = gradsOf([a, b], maximum);
      expectClose(ga, [0.5, 1, 0, 1], tol, 'maximum d/da');
      expectClose(gb, [0.5, 0, 1, 1], tol, 'maximum d/db');
      const [ha, hb] = gradsOf([a, b], minimum);
      expectClose(ha, [0.5, 0, 1, 1], tol, 'minimum d/da');
      expectClose(hb, [0.5, 1, 0, 1], tol, 'minimum d/db');
      expectClose(gradsOf([tensor([2, 2])], (x) => maximum(x, tensor([[2], [1]])))[0], [1.5, 1.5], tol, 'maximum ties broadcast');
    }),
    c('clamp with tensor bounds, min > max gives max, NaN stays (as PyTorch)', () => {
      const x = tensor([1, 5, 3, -1, NaN]);
      const lo = tensor([2, 2, 2, 0, 0]);
      const hi = tensor([0, 0, 4, 0, 1]);
      expectClose(clamp(x, lo, hi), [0, 0, 3, 0, NaN], tol, 'clamp(x, lo, hi)');
      expectClose(clamp(tensor([-2, 0.5, 2]), 1, 0), [0, 0, 0], tol, 'clamp(x, 1, 0) is 0 everywhere');
      expectClose(
        clamp(tensor([[-2], [2]]), tensor([-1, 0, 1])),
        [
          [-1, 0, 1],
          [2, 2, 2],
        ],
        tol,
        'clamp min tensor broadcast',
      );
      expectClose(tensor([-2, 0.5, 2]).clamp(null, tensor([0, 0, 3])), [-2, 0, 2], tol, 'clamp max tensor');
      const [gx, glo, ghi] = gradsOf([tensor([1, 5, 3, -1]), tensor([2, 2, 2, 0]), tensor([0, 0, 4, 0])], (t, l, h) => clamp(t, l, h));
      expectClose(gx, [0, 0, 1, 0], tol, 'clamp d/dx');
      expectClose(glo, [0, 0, 0, 0], tol, 'clamp d/dmin');
      expectClose(ghi, [1, 1, 0, 0], tol, 'clamp d/dmax (min == max and x below: no gradient, as PyTorch)');
      const [g2, l2] = gradsOf([tensor([1, 5, 2]), tensor([2, 2, 2])], (t, l) => clamp(t, l));
      expectClose(g2, [0, 1, 1], tol, 'clamp(min) d/dx');
      expectClose(l2, [1, 0, 0], tol, 'clamp(min) d/dmin');
      expectClose(gradsOf([tensor([-1, 0.5, 1])], (t) => clamp(t, -1, 1))[0], [1, 1, 1], tol, 'clamp passes the gradient at the bounds');
    }),
    c('clamp with tensor bounds: gradcheck', () => {
      const shape = ctx.quick ? [5] : [3, 4];
      const x = distinct(shape, 31).mul(3);
      const lo = distinct(shape, 32).add(0.05).sub(0.5);
      const hi = lo.add(normal(shape, 33).abs().add(0.3));
      expectGradcheck(ctx, (t, l, h) => clamp(t, l, h), [x, lo, hi], 'clamp(x, lo, hi)');
      expectGradcheck(ctx, (t, h) => clamp(t, null, h), [x, lo], 'clamp(x, null, hi)');
    }),
    ...(
      [
        ['tan', tan, (s, seed) => uniformIn(s, -1.2, 1.2, seed)],
        ['asin', asin, (s, seed) => uniformIn(s, -0.8, 0.8, seed)],
        ['acos', acos, (s, seed) => uniformIn(s, -0.8, 0.8, seed)],
        ['atan', atan, (s, seed) => normal(s, seed).mul(2)],
        ['sinh', sinh, normal],
        ['cosh', cosh, normal],
        ['asinh', asinh, (s, seed) => normal(s, seed).mul(2)],
        ['acosh', acosh, (s, seed) => uniformIn(s, 1.3, 4, seed)],
        ['atanh', atanh, (s, seed) => uniformIn(s, -0.8, 0.8, seed)],
        ['erf', erf, normal],
        ['trunc', (x) => add(trunc(x), x), (s, seed) => uniformIn(s, 0.1, 0.9, seed)],
        ['rsqrt', rsqrt, (s, seed) => uniformIn(s, 0.5, 3, seed)],
        ['log2', log2, (s, seed) => uniformIn(s, 0.5, 3, seed)],
        ['log10', log10, (s, seed) => uniformIn(s, 0.5, 3, seed)],
        ['exp2', exp2, normal],
      ] as [string, (x: Tensor) => Tensor, (s: number[], seed: number) => Tensor][]
    ).map(([name, f, gen]) => c(`${name}: gradcheck`, () => expectGradcheck(ctx, f, [gen(ctx.quick ? [5] : [3, 4], 34)], name))),
    c('copysign records when only b requires grad: b gets zeros (torch 1.13)', () => {
      // b = torch.tensor([-1., 1.], requires_grad=True); torch.copysign(torch.tensor([1., -2.]), b).sum().backward(); b.grad -> [0, 0]
      const b = tensor([-1, 1], { requiresGrad: true });
      const y = copysign(tensor([1, -2]), b);
      expectClose(y, [-1, 2], tol, 'copysign value');
      y.sum().backward();
      expectClose(b.grad!, [0, 0], tol, 'gradient of b');
      // Both: a = [0, -2, 3], b = [-1, 1, nan] -> y = [-0, 2, 3], a.grad = [0, -1, 1], b.grad = [0, 0, 0]
      const [ga, gb] = gradsOf([tensor([0, -2, 3]), tensor([-1, 1, NaN])], (p, q) => copysign(p, q));
      expectClose(ga, [0, -1, 1], tol, 'gradient of a');
      expectClose(gb, [0, 0, 0], tol, 'gradient of b beside a');
      expectGradcheck(ctx, (q) => copysign(tensor([1, -2, 3]), q), [awayFromZero([3], 44)], 'copysign wrt b alone');
    }),
    c('copysign logaddexp lerp: gradcheck with broadcasting', () => {
      expectGradcheck(ctx, (a, b) => copysign(a, b), [awayFromZero([2, 3], 35), awayFromZero([3], 36)], 'copysign');
      expectGradcheck(ctx, (a, b) => logaddexp(a, b), [normal([2, 3], 37).mul(2), normal([3], 38)], 'logaddexp');
      expectGradcheck(ctx, (a, b, w) => lerp(a, b, w), [normal([2, 3], 39), normal([3], 40), uniformIn([2, 1], 0.1, 0.9, 41)], 'lerp');
      expectGradcheck(ctx, (a, b) => lerp(a, b, 0.7), [normal([3], 42), normal([2, 3], 43)], 'lerp scalar weight');
    }),
    c('tan asin acos atan sinh cosh asinh acosh atanh erf trunc rsqrt log2 log10 exp2 against Math, with edges', () => {
      const xs = [-0.9, -0.5, -0.1, 0, 1e-4, 0.3, 0.75, 0.999];
      const table: [string, (x: Tensor) => Tensor, (v: number) => number, number[]][] = [
        ['tan', tan, Math.tan, [-1.5, -0.5, 0, 1e-4, 0.7, 1.4, 3, 10]],
        ['asin', asin, Math.asin, xs],
        ['acos', acos, Math.acos, xs],
        ['atan', atan, Math.atan, [-1e4, -3, -0.5, 0, 1e-4, 0.4, 1, 2.5, 1e4]],
        ['sinh', sinh, Math.sinh, [-89, -20, -1, -0.3, 0, 1e-4, 0.6, 5, 88.5]],
        ['cosh', cosh, Math.cosh, [-89, -20, -1, 0, 1e-4, 0.6, 5, 88.5]],
        ['asinh', asinh, Math.asinh, [-1e6, -3, -0.2, 0, 1e-4, 0.3, 2, 1e4, 1e20]],
        ['acosh', acosh, Math.acosh, [1, 1 + 1e-3, 1.05, 1.5, 3, 1e4, 1e20]],
        ['atanh', atanh, Math.atanh, xs],
        [
          'erf',
          erf,
          (v) =>
            [
              -1, -0.9999779095030014, -0.8427007929497149, -0.1124629160182849, 0, 1.1283791670951364e-4, 0.5204998778130465,
              0.9953222650189527, 1,
            ][[-6, -3, -1, -0.1, 0, 1e-4, 0.5, 2, 6].indexOf(v)],
          [-6, -3, -1, -0.1, 0, 1e-4, 0.5, 2, 6],
        ],
        ['rsqrt', rsqrt, (v) => 1 / Math.sqrt(v), [1e-6, 0.25, 1, 4, 1e6]],
        ['log2', log2, Math.log2, [1e-6, 0.5, 1, 8, 1e6]],
        ['log10', log10, Math.log10, [1e-6, 0.5, 1, 1000, 1e6]],
        ['exp2', exp2, (v) => 2 ** v, [-100, -1, 0, 0.5, 3, 100]],
      ];
      for (const [name, f, ref, vals] of table) {
        const want = vals.map((v) => Math.fround(ref(v)));
        expectClose(f(tensor(vals)), want, tol, name);
      }
      expectClose(trunc(tensor([-2.7, -0.5, 0, 0.5, 2.7, -Infinity])), [-2, 0, 0, 0, 2, -Infinity], tol, 'trunc');
      expectExact(trunc(tensor([-3, 4], { dtype: 'int32' })), [-3, 4], 'int32', 'trunc keeps int32');
      expectClose(atanh(tensor([-1, 1, 1.5])), [-Infinity, Infinity, NaN], tol, 'atanh at and beyond 1');
      expectClose(asin(tensor([1.5])), [NaN], tol, 'asin beyond 1');
      expectClose(acosh(tensor([0.5])), [NaN], tol, 'acosh below 1');
      expectClose(rsqrt(tensor([0, -1])), [Infinity, NaN], tol, 'rsqrt at 0 and below');
      expectClose(log2(tensor([0, -1])), [-Infinity, NaN], tol, 'log2 at 0 and below');
      expectClose(log10(tensor([0, -1, Infinity])), [-Infinity, NaN, Infinity], tol, 'log10 at 0, below and at Infinity');
      expectClose(sinh(tensor([90, -90])), [Infinity, -Infinity], tol, 'sinh overflows past 89.4');
      expectClose(exp2(tensor([128, -200])), [Infinity, 0], tol, 'exp2 overflow and underflow');
    }),
    c('copysign logaddexp lerp isnan isinf isfinite (hand-derived edges)', async () => {
      expectClose(copysign(tensor([1, 2, -3, 0, 4]), tensor([-0, 0, 5, -1, -Infinity])), [-1, 2, 3, -0, -4], tol, 'copysign');
      check(Object.is((await copysign(tensor([0]), tensor([-1])).data())[0], -0), 'copysign(0, -1) is -0');
      expectClose(copysign(tensor([1, -1]), 2), [1, 1], tol, 'copysign by a number');
      const [ga] = gradsOf([tensor([2, -3, 0])], (a) => copysign(a, tensor([-1, -1, -1])));
      expectClose(ga, [-1, 1, 0], tol, 'copysign gradient (0 at a = 0)');
      const big = logaddexp(tensor([1e4, -1e4, Infinity, -Infinity, 0]), tensor([1e4, -1e4, Infinity, -Infinity, -Infinity]));
      expectClose(big, [1e4 + Math.LN2, -1e4 + Math.LN2, Infinity, -Infinity, 0], tol, 'logaddexp large and infinite');
      expectFinite(logaddexp(tensor([1e4, 80]), tensor([-1e4, 100])), 'logaddexp of large values');
      const [la, lb] = gradsOf([tensor([1, 3]), tensor([1, 0])], logaddexp);
      expectClose(la, [0.5, 1 / (1 + Math.exp(-3))], tol, 'logaddexp d/da (half on ties)');
      expectClose(lb, [0.5, 1 / (1 + Math.exp(3))], tol, 'logaddexp d/db');
      expectClose(lerp(tensor([1, 1, 1]), tensor([3, 3, 3]), tensor([0, 0.5, 1])), [1, 2, 3], tol, 'lerp');
      expectExact(lerp(tensor([0.1]), tensor([1e8]), 1), [1e8], 'float32', 'lerp at weight 1 is end exactly');
      // PyTorch 1.13: an infinite end - start gives the weight an infinite gradient (not NaN), on either formula.
      const [ls, le, lw] = gradsOf([tensor([-Infinity, 0, 1, 2]), tensor([0, Infinity, 3, -1]), tensor([0.5, 0.2, 0.7, 0.1])], lerp);
      expectClose(ls, [0.5, 0.8, 0.3, 0.9], tol, 'lerp d/dstart');
      expectClose(le, [0.5, 0.2, 0.7, 0.1], tol, 'lerp d/dend');
      expectClose(lw, [Infinity, Infinity, 2, -3], tol, 'lerp d/dweight with an infinite difference');
      const v = tensor([0, NaN, Infinity, -Infinity, -2.5]);
      expectExact(isnan(v), [0, 1, 0, 0, 0], 'int32', 'isnan');
      expectExact(isinf(v), [0, 0, 1, 1, 0], 'int32', 'isinf');
      expectExact(isfinite(v), [1, 0, 0, 0, 1], 'int32', 'isfinite');
      expectExact(v.isnan(), [0, 1, 0, 0, 0], 'int32', 'isnan as a method');
      expectExact(isfinite(tensor([1, -2], { dtype: 'int32' })), [1, 1], 'int32', 'isfinite of int32');
    }),
  ];
};
