import '@bp/autograd';
import { ShapeError, type Tensor, manualSeed, matmul, zeros } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { Linear, init } from './index.js';

function moments(t: Tensor): { mean: number; std: number; min: number; max: number } {
  const v = t.dataSync();
  let s = 0;
  let s2 = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    s += x;
    s2 += x * x;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const mean = s / v.length;
  return { mean, std: Math.sqrt(s2 / v.length - mean * mean), min, max };
}

describe('init.calculateGain', () => {
  it("equals torch.nn.init.calculate_gain's values", () => {
    // torch 1.13: linear, conv2d, sigmoid, tanh, relu, leaky_relu (0.01), selu; leaky_relu(0.2).
    const want = [1, 1, 1, 1.6666666666666667, 1.4142135623730951, 1.4141428569978354, 0.75];
    const names = ['linear', 'conv2d', 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu'] as const;
    names.forEach((n, i) => expect(init.calculateGain(n)).toBeCloseTo(want[i], 12));
    expect(init.calculateGain('leaky_relu', 0.2)).toBeCloseTo(1.3867504905630728, 12);
    expect(() => init.calculateGain('swish' as never)).toThrow(/unsupported nonlinearity "swish"/);
  });
});

// 400 x 500 = 200000 draws: the sample std is within 1% of the target with overwhelming probability.
describe('initialiser distributions (moments of 200000 draws)', () => {
  const shape = [400, 500];
  const fanIn = 500;
  const fanOut = 400;
  const cases: [string, (t: Tensor) => Tensor, number, number | null][] = [
    ['uniform(-2, 3)', (t) => init.uniform(t, -2, 3), 5 / Math.sqrt(12), 3],
    ['normal(1, 0.5)', (t) => init.normal(t, 1, 0.5), 0.5, null],
    [
      'xavierUniform(gain 2)',
      (t) => init.xavierUniform(t, 2),
      (2 * Math.sqrt(6 / (fanIn + fanOut))) / Math.sqrt(3),
      2 * Math.sqrt(6 / (fanIn + fanOut)),
    ],
    ['xavierNormal', (t) => init.xavierNormal(t), Math.sqrt(2 / (fanIn + fanOut)), null],
    ['kaimingUniform relu', (t) => init.kaimingUniform(t, { nonlinearity: 'relu' }), Math.sqrt(2 / fanIn), Math.sqrt(6 / fanIn)],
    [
      'kaimingUniform a=sqrt(5) (Linear default)',
      (t) => init.kaimingUniform(t, { a: Math.sqrt(5) }),
      1 / Math.sqrt(3 * fanIn),
      1 / Math.sqrt(fanIn),
    ],
    ['kaimingNormal fanOut relu', (t) => init.kaimingNormal(t, { mode: 'fanOut', nonlinearity: 'relu' }), Math.sqrt(2 / fanOut), null],
  ];
  it.each(cases)('%s', (_, fn, std, bound) => {
    manualSeed(7);
    const t = zeros(shape);
    expect(fn(t)).toBe(t);
    const m = moments(t);
    const mean = _.startsWith('uniform') ? 0.5 : _.startsWith('normal') ? 1 : 0;
    expect(Math.abs(m.mean - mean)).toBeLessThan(0.01 * std + 1e-4);
    expect(m.std / std).toBeGreaterThan(0.99);
    expect(m.std / std).toBeLessThan(1.01);
    if (bound !== null) {
      expect(m.max).toBeLessThanOrEqual(_.startsWith('uniform') ? bound : bound + 1e-7);
      expect(m.max).toBeGreaterThan((_.startsWith('uniform') ? bound : bound) - 0.01 * std * 3);
    }
  });
  it('zeros, ones, constant fill every value; conv fans count the kernel', () => {
    expect(Array.from(init.ones(zeros([2, 2])).dataSync())).toEqual([1, 1, 1, 1]);
    expect(Array.from(init.constant(zeros([3]), 2.5).dataSync())).toEqual([2.5, 2.5, 2.5]);
    expect(init.calculateFanInAndFanOut(zeros([8, 3, 5, 5]))).toEqual([75, 200]);
  });
  it('is reproducible from manualSeed', () => {
    manualSeed(42);
    const a = Array.from(init.kaimingNormal(zeros([4, 5])).dataSync());
    manualSeed(42);
    expect(Array.from(init.kaimingNormal(zeros([4, 5])).dataSync())).toEqual(a);
  });
  it('keeps a parameter registered: a Linear re-initialised in place still trains', () => {
    const fc = new Linear(3, 2);
    const w = fc.weight;
    init.xavierNormal(fc.weight);
    init.zeros(fc.bias!);
    expect(fc.weight).toBe(w);
    expect(fc.parameters()[0]).toBe(w);
    expect(Array.from(fc.bias!.dataSync())).toEqual([0, 0]);
  });
  it('rejects tensors without fans', () => {
    expect(() => init.kaimingUniform(zeros([5]))).toThrow(ShapeError);
    expect(() => init.xavierUniform(zeros([5]))).toThrow(/fewer than 2 dimensions, got \[5\]/);
    expect(() => init.kaimingNormal(zeros([2, 2]), { mode: 'fan' as never })).toThrow(/mode must be 'fanIn' or 'fanOut'/);
  });
});

describe('init.orthogonal', () => {
  it.each([[[3, 5]], [[5, 3]], [[4, 2, 3]], [[6, 6]]])('%j has orthonormal rows or columns, times the gain', (shape) => {
    manualSeed(11);
    const gain = 1.5;
    const t = init.orthogonal(zeros(shape), gain);
    const rows = shape[0];
    const m = t.reshape([rows, -1]);
    const cols = m.shape[1];
    const g = rows <= cols ? matmul(m, m.transpose()) : matmul(m.transpose(), m);
    const n = Math.min(rows, cols);
    const v = g.dataSync();
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        expect(Math.abs(v[i * n + j] - (i === j ? gain * gain : 0))).toBeLessThan(1e-5);
      }
  });
});
