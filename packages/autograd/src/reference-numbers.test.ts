// The worked numbers of the backprop tutorials this library is checked against, computed with
// tensor ops end to end (values derived by hand in the comments).
import { describe, expect, it } from 'vitest';
import { tensor } from '@bp/tensor';
import { noGrad } from './index.js';

describe('reference numbers', () => {
  it('x = 2, y = x**2: dy/dx = 2x = 4 exactly', () => {
    const x = tensor(2, { requiresGrad: true });
    x.pow(2).backward();
    expect(x.grad!.item()).toBe(4);
  });

  it('MSE of 0.8 vs 1.0 is (0.8 - 1)^2 = 0.04, with gradient 2(0.8 - 1) = -0.4', () => {
    const pred = tensor([0.8], { requiresGrad: true });
    const loss = pred
      .sub(tensor([1.0]))
      .pow(2)
      .mean();
    expect(loss.item()).toBeCloseTo(0.04, 7);
    loss.backward();
    expect(pred.grad!.item()).toBeCloseTo(-0.4, 6);
  });

  it('BCE of 0.8 vs 1 is -(1 log 0.8 + 0 log 0.2) = 0.2231, with gradient -1/0.8 = -1.25', () => {
    const p = tensor([0.8], { requiresGrad: true });
    const y = tensor([1]);
    const bce = y
      .mul(p.log())
      .add(y.neg().add(1).mul(p.neg().add(1).log()))
      .neg()
      .mean();
    expect(bce.item()).toBeCloseTo(0.2231, 4);
    expect(bce.item()).toBeCloseTo(-Math.log(0.8), 6);
    bce.backward();
    expect(p.grad!.item()).toBeCloseTo(-1.25, 5);
  });

  it('one SGD step: 0.5 - 0.1 * 0.028 = 0.4972', () => {
    // L = (w x - t)^2 at w = 0.5, x = 0.2, t = 0.03: dL/dw = 2 x (w x - t) = 2 * 0.2 * 0.07 = 0.028.
    const w = tensor(0.5, { requiresGrad: true });
    w.mul(0.2).sub(0.03).pow(2).backward();
    expect(w.grad!.item()).toBeCloseTo(0.028, 7);
    noGrad(() => w.assign(w.sub(w.grad!.mul(0.1))));
    expect(w.item()).toBeCloseTo(0.4972, 6);
  });
});
