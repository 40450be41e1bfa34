import { describe, expect, it } from 'vitest';
import { tensor, mul, sub } from '@bp/tensor';
import './index.js';

describe('the seed examples', () => {
  it('x = 2, y = x**2, dy/dx = 4', () => {
    const x = tensor(2, { requiresGrad: true });
    x.pow(2).backward();
    expect(x.grad!.item()).toBe(4);
  });

  it('MSE of 0.8 vs 1.0 is 0.04 and one step of 0.5 - 0.1 * 0.028 = 0.4972', () => {
    const pred = tensor(0.8);
    const target = tensor(1.0);
    expect(sub(pred, target).pow(2).mean().item()).toBeCloseTo(0.04, 6);
    const w = tensor(0.5, { requiresGrad: true });
    // a loss whose gradient at w is 0.028: L = 0.028 * w
    mul(w, 0.028).backward();
    expect(w.grad!.item()).toBeCloseTo(0.028, 7);
    expect(w.sub(w.grad!.mul(0.1)).item()).toBeCloseTo(0.4972, 6);
  });
});
