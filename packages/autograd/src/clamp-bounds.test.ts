// clamp with two number bounds takes a short path (two comparisons and two selects): the values and
// the gradient must be those of the general rule, which it replaces for that case.
import { describe, expect, it } from 'vitest';
import { clamp, tensor } from '@bp/tensor';
import './index.js';

describe('clamp with number bounds', () => {
  it('keeps NaN, sends ±Infinity to the bounds, and passes the gradient on [min, max] but not at NaN', () => {
    const x = tensor([-Infinity, -2, -0.5, 0, 0.5, 2, Infinity, Number.NaN], { requiresGrad: true });
    const y = clamp(x, -0.5, 0.5);
    expect(Array.from(y.dataSync())).toEqual([-0.5, -0.5, -0.5, 0, 0.5, 0.5, 0.5, Number.NaN]);
    y.sum().backward();
    // torch 1.13: x.clamp(-0.5, 0.5).sum().backward() at [-inf, -2, -0.5, 0, 0.5, 2, inf, nan] -> [0, 0, 1, 1, 1, 0, 0, 0]
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 0, 1, 1, 1, 0, 0, 0]);
  });

  it('gives the values and gradient of tensor bounds with the same values', () => {
    const values = [-3, -1e-8, 1e-8, 0.25, 1 - 1e-7, 1, 7];
    const a = tensor(values, { requiresGrad: true });
    const b = tensor(values, { requiresGrad: true });
    const w = tensor([1, 2, 3, 4, 5, 6, 7]);
    const ya = clamp(a, 1e-7, 1 - 1e-7);
    const yb = clamp(b, tensor(1e-7), tensor(1 - 1e-7));
    expect(Array.from(ya.dataSync())).toEqual(Array.from(yb.dataSync()));
    ya.mul(w).sum().backward();
    yb.mul(w).sum().backward();
    expect(Array.from(a.grad!.dataSync())).toEqual(Array.from(b.grad!.dataSync()));
  });

  it('with min above max, gives max everywhere as PyTorch', () => {
    expect(Array.from(clamp(tensor([-2, 0.5, 2]), 1, 0).dataSync())).toEqual([0, 0, 0]);
  });
});
