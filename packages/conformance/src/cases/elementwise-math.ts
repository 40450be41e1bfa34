import { clamp, maximum, minimum, pow, tensor, type Tensor } from '@bp/tensor';
import { check, expectClose } from '../assert.js';
import { distinct, expectGradcheck, group, normal, type CaseBuilder } from '../context.js';

const c = group('elementwise');

/** The gradients of `sum(f(...xs))` with respect to each input. */
export function gradsOf(xs: Tensor[], f: (...t: Tensor[]) => Tensor): Tensor[] {
  const ts = xs.map((x) => {
    const t = x.detach();
    t.requiresGrad = true;
    return t;
  });
  f(...ts).sum().backward();
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
      expectClose(clamp(tensor([[-2], [2]]), tensor([-1, 0, 1])), [[-1, 0, 1], [2, 2, 2]], tol, 'clamp min tensor broadcast');
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
  ];
};
