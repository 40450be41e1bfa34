// erf is evaluated from Chebyshev fits of a slow float64 series: the fits must stay within
// 1e-13 (relative) of the series everywhere, so that float32 results round the same way.
import { describe, expect, it } from 'vitest';
import { erf, erfReference, gelu, geluGrad } from './unary-ops.js';

describe('erf', () => {
  it('matches the float64 series within 1e-13 on [-6, 6], and rounds to the same float32', () => {
    let worst = 0;
    let differ = 0;
    for (let i = 0; i <= 240_000; i++) {
      const x = -6 + i / 20_000;
      const want = erfReference(x);
      const got = erf(x);
      worst = Math.max(worst, Math.abs(got - want) / Math.max(Math.abs(want), 1e-300));
      if (Math.fround(got) !== Math.fround(want)) differ++;
    }
    expect(worst).toBeLessThan(1e-13);
    expect(differ).toBe(0);
  });

  it('keeps edge values: signed zeros, tiny arguments, the tails, NaN', () => {
    expect(Object.is(erf(0), 0)).toBe(true);
    expect(Object.is(erf(-0), -0)).toBe(true);
    // erf(x) = 2x / sqrt(pi) for tiny x.
    expect(erf(1e-20) / 1e-20).toBeCloseTo(1.1283791670955126, 14);
    expect(erf(-3e-8) / -3e-8).toBeCloseTo(1.1283791670955126, 14);
    // Hand-checked values: erf(0.5), erf(1), erf(2), erf(3).
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf(1)).toBeCloseTo(0.842700792949715, 14);
    expect(erf(-2)).toBeCloseTo(-0.9953222650189527, 14);
    expect(erf(3)).toBeCloseTo(0.9999779095030014, 14);
    expect(erf(10)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(Number.NaN)).toBeNaN();
  });
});

// Exact GELU and its derivative, against x Φ(x) and Φ(x) + x φ(x) in float64 (Φ from the
// reference erf), and PyTorch's values at the edges.
describe('gelu and geluGrad', () => {
  const cdf = (x: number) => 0.5 * (1 + erfReference(x / Math.SQRT2));
  const pdf = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);

  it('are x Φ(x) and Φ(x) + x φ(x) within float32 rounding on [-3, 3]', () => {
    for (let i = 0; i <= 6000; i++) {
      const x = Math.fround(-3 + i / 1000);
      // Each value is made of a few float32 steps: a handful of ulps of the largest term.
      const ulp = 2 ** -23;
      expect(Math.abs(gelu(x) - x * cdf(x))).toBeLessThanOrEqual(4 * ulp * Math.max(Math.abs(x), 2 ** -10));
      expect(Math.abs(geluGrad(x) - (cdf(x) + x * pdf(x)))).toBeLessThanOrEqual(4 * ulp * Math.max(1, Math.abs(x)));
    }
    expect(gelu(1)).toBeCloseTo(0.8413447460685429, 7);
    expect(gelu(-1)).toBeCloseTo(-0.15865525393145707, 7);
    expect(geluGrad(1)).toBeCloseTo(0.8413447460685429 + 0.24197072451914337, 7);
    expect(geluGrad(-1)).toBeCloseTo(0.15865525393145707 - 0.24197072451914337, 7);
  });

  it('are the float32 steps of x * 0.5 * (1 + erf(x * sqrt(1/2))), as PyTorch rounds them', () => {
    // Below about -4, 1 + erf keeps few bits in float32: PyTorch gives -1.4901161193847656e-6 at -5
    // (x Φ(x) is -1.4333e-6), and its gradient there is -7.12e-6 give or take its own erf.
    expect(gelu(-5)).toBe(-1.4901161193847656e-6);
    expect(geluGrad(-5)).toBeCloseTo(-7.1356e-6, 9);
  });

  it("give PyTorch's values at 0, ±Infinity, NaN and large |x|", () => {
    expect(Object.is(gelu(0), 0)).toBe(true);
    expect(Object.is(gelu(-0), 0)).toBe(true); // +0, as PyTorch's CPU kernel
    expect(gelu(Infinity)).toBe(Infinity);
    expect(gelu(-Infinity)).toBeNaN(); // -Inf * 0
    expect(gelu(NaN)).toBeNaN();
    expect(gelu(1e4)).toBe(1e4);
    expect(Object.is(gelu(-1e4), 0)).toBe(true);
    expect(Object.is(gelu(-10), 0)).toBe(true);
    expect(gelu(Math.fround(3e38))).toBe(Math.fround(3e38));
    expect(Object.is(gelu(-Math.fround(3e38)), 0)).toBe(true);
    expect(gelu(1e-30)).toBeCloseTo(5e-31, 37);

    expect(geluGrad(0)).toBe(0.5);
    expect(geluGrad(-0)).toBe(0.5);
    expect(geluGrad(Infinity)).toBeNaN(); // 1 + Inf * 0
    expect(geluGrad(-Infinity)).toBeNaN();
    expect(geluGrad(NaN)).toBeNaN();
    expect(geluGrad(1e4)).toBe(1);
    expect(geluGrad(Math.fround(3e38))).toBe(1);
    expect(geluGrad(-1e4)).toBe(0);
    expect(geluGrad(-Math.fround(3e38))).toBe(0);
  });
});
