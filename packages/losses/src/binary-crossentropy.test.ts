import '@bp/autograd';
import { tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { bceLoss, binaryCrossentropy } from './index.js';

describe('binaryCrossentropy (Keras)', () => {
  it('averages -(y log p + (1 - y) log(1 - p)) over the last axis, then over the samples', () => {
    // -(log 0.9 + log 0.8) / 2, by hand.
    expect(binaryCrossentropy(tensor([[0.9], [0.2]]), tensor([[1], [0]])).item()).toBeCloseTo((-Math.log(0.9) - Math.log(0.8)) / 2, 6);
    const p = tensor([
      [0.2, 0.6],
      [0.5, 0.5],
    ]);
    const y = tensor([
      [0, 1],
      [1, 0],
    ]);
    const each = binaryCrossentropy(p, y, { reduction: 'none' });
    expect(each.shape).toEqual([2]);
    const got = Array.from(each.dataSync());
    expect(got[0]).toBeCloseTo((-Math.log(0.8) - Math.log(0.6)) / 2, 6);
    expect(got[1]).toBeCloseTo(Math.LN2, 6);
    const sum = binaryCrossentropy(p, y, { reduction: 'sum' }).item();
    expect(sum).toBeCloseTo(got[0] + got[1], 6);
  });

  it('equals PyTorch-style bceLoss inside the clip, and clips 0 and 1 to 1e-7 from the ends as Keras', () => {
    const p = tensor([0.3, 0.7, 0.01, 0.99]);
    const y = tensor([1, 0, 0, 1]);
    expect(binaryCrossentropy(p, y).item()).toBeCloseTo(bceLoss(p, y).item(), 6);
    // p = 0 with y = 1: -log(1e-7) (PyTorch's bceLoss gives 100: its log is clamped at -100).
    expect(binaryCrossentropy(tensor([0]), tensor([1])).item()).toBeCloseTo(-Math.log(1e-7), 4);
    expect(binaryCrossentropy(tensor([1]), tensor([0])).item()).toBeCloseTo(-Math.log(Math.fround(1 - Math.fround(1 - 1e-7))), 2);
    expect(bceLoss(tensor([0]), tensor([1])).item()).toBe(100);
  });

  it('has the gradient of the clipped expression: (p - y) / (p (1 - p)) / n inside, 0 where it clips', () => {
    const p = tensor([0.9, 0.25, 0], { requiresGrad: true });
    binaryCrossentropy(p, tensor([1, 0, 1])).backward();
    const g = Array.from(p.grad!.dataSync());
    expect(g[0]).toBeCloseTo(-1 / 0.9 / 3, 5);
    expect(g[1]).toBeCloseTo(1 / 0.75 / 3, 5);
    expect(g[2]).toBe(0);
  });

  it('refuses probabilities outside [0, 1] and shapes that differ, naming itself', () => {
    expect(() => binaryCrossentropy(tensor([1.5]), tensor([1]))).toThrow(/binaryCrossentropy/);
    expect(() => binaryCrossentropy(tensor([0.5, 0.5]), tensor([1]))).toThrow(/binaryCrossentropy/);
  });
});
