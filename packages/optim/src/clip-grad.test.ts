import '@bp/autograd';
import { ArgumentError, BpError, tensor, zeros } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { clipGradNorm, clipGradValue } from './index.js';
import { closeTo, refs } from './__fixtures__/problem.js';

function withGrads() {
  const a = zeros([2, 3], { requiresGrad: true });
  const c = zeros([4], { requiresGrad: true });
  a.grad = tensor(refs.clipGradNorm.grads[0], { shape: [2, 3] });
  c.grad = tensor(refs.clipGradNorm.grads[1]);
  return { a, c };
}

describe('clipGradNorm matches torch.nn.utils.clip_grad_norm_', () => {
  for (const ref of refs.clipGradNorm.cases) {
    const normType = ref.normType === 'Infinity' ? Infinity : (ref.normType as number);
    it(`maxNorm ${ref.maxNorm}, normType ${ref.normType}`, () => {
      const { a, c } = withGrads();
      const gradA = a.grad;
      const total = clipGradNorm([a, c], ref.maxNorm, normType);
      expect(total.shape).toEqual([]);
      expect(closeTo([total.item()], [ref.total])).toBeNull();
      expect(a.grad).toBe(gradA); // rewritten in place
      expect(closeTo(a.grad!.dataSync(), ref.grads[0])).toBeNull();
      expect(closeTo(c.grad!.dataSync(), ref.grads[1])).toBeNull();
    });
  }

  it('ignores parameters without a gradient, and returns 0 when none has one', () => {
    const { a } = withGrads();
    const none = zeros([3], { requiresGrad: true });
    expect(clipGradNorm([none], 1).item()).toBe(0);
    const both = clipGradNorm([a, none], 1e9).item();
    expect(both).toBeCloseTo(Math.hypot(...refs.clipGradNorm.grads[0]), 4);
  });

  it('hand-derived: a [3, 4] gradient has norm 5 and is scaled to norm 1', () => {
    const p = zeros([2], { requiresGrad: true });
    p.grad = tensor([3, 4]);
    expect(clipGradNorm(p, 1).item()).toBe(5);
    const g = p.grad.dataSync();
    expect(g[0]).toBeCloseTo(0.6, 6);
    expect(g[1]).toBeCloseTo(0.8, 6);
  });

  it('validates its arguments, and can refuse non-finite norms', () => {
    const { a } = withGrads();
    expect(() => clipGradNorm([a], -1)).toThrow(ArgumentError);
    expect(() => clipGradNorm([a], 1, 0)).toThrow(/clipGradNorm: normType/);
    a.grad = tensor([
      [NaN, 1, 1],
      [1, 1, 1],
    ]);
    expect(() => clipGradNorm([a], 1, 2, { errorIfNonfinite: true })).toThrow(BpError);
  });
});

describe('clipGradValue', () => {
  it('clamps every gradient in place', () => {
    const { a, c } = withGrads();
    clipGradValue([a, c], 0.5);
    for (const g of [a.grad!, c.grad!]) expect(Array.from(g.dataSync()).every((v) => Math.abs(v) <= 0.5)).toBe(true);
    expect(Math.max(...Array.from(a.grad!.dataSync(), Math.abs))).toBe(0.5);
  });
});
