import { manualSeed } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { kaimingUniformBound } from './init.js';
import { Conv2d } from './layers/conv2d.js';
import { Linear } from './layers/linear.js';

function stats(v: ArrayLike<number>): { min: number; max: number; mean: number; variance: number } {
  let min = Infinity;
  let max = -Infinity;
  let s = 0;
  for (let i = 0; i < v.length; i++) {
    min = Math.min(min, v[i]);
    max = Math.max(max, v[i]);
    s += v[i];
  }
  const mean = s / v.length;
  let q = 0;
  for (let i = 0; i < v.length; i++) q += (v[i] - mean) ** 2;
  return { min, max, mean, variance: q / v.length };
}

describe('initialisation (as PyTorch)', () => {
  it('kaiming_uniform with a = sqrt(5) has bound 1/sqrt(fanIn)', () => {
    for (const fanIn of [1, 3, 784, 1000]) expect(kaimingUniformBound(fanIn)).toBeCloseTo(1 / Math.sqrt(fanIn), 12);
    // a = 0 is He initialisation for ReLU: sqrt(6 / fanIn).
    expect(kaimingUniformBound(50, 0)).toBeCloseTo(Math.sqrt(6 / 50), 12);
  });

  it('Linear weight and bias are U(-1/sqrt(in), 1/sqrt(in))', () => {
    manualSeed(7);
    const fc = new Linear(400, 300);
    const b = 1 / Math.sqrt(400);
    const w = stats(fc.weight.dataSync());
    expect(w.min).toBeGreaterThanOrEqual(-b);
    expect(w.max).toBeLessThanOrEqual(b);
    // 120000 draws: the range is nearly filled, the mean ~0 and the variance b^2/3.
    expect(w.max).toBeGreaterThan(0.999 * b);
    expect(w.min).toBeLessThan(-0.999 * b);
    expect(Math.abs(w.mean)).toBeLessThan(0.01 * b);
    expect(w.variance / ((b * b) / 3)).toBeGreaterThan(0.98);
    expect(w.variance / ((b * b) / 3)).toBeLessThan(1.02);
    const bias = stats(fc.bias!.dataSync());
    expect(bias.min).toBeGreaterThanOrEqual(-b);
    expect(bias.max).toBeLessThanOrEqual(b);
    expect(bias.max - bias.min).toBeGreaterThan(1.8 * b);
  });

  it('Conv2d uses fanIn = inC * kH * kW', () => {
    manualSeed(8);
    const conv = new Conv2d(16, 32, [3, 5]);
    const b = 1 / Math.sqrt(16 * 15);
    const w = stats(conv.weight.dataSync());
    expect(w.min).toBeGreaterThanOrEqual(-b);
    expect(w.max).toBeLessThanOrEqual(b);
    expect(w.max).toBeGreaterThan(0.99 * b);
    expect(w.variance / ((b * b) / 3)).toBeGreaterThan(0.95);
    expect(w.variance / ((b * b) / 3)).toBeLessThan(1.05);
    const bias = stats(conv.bias!.dataSync());
    expect(bias.min).toBeGreaterThanOrEqual(-b);
    expect(bias.max).toBeLessThanOrEqual(b);
  });

  it('is reproducible from manualSeed', () => {
    manualSeed(123);
    const a = new Linear(5, 4).weight.dataSync();
    manualSeed(123);
    const b = new Linear(5, 4).weight.dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});
