// erf and GELU are evaluated in float32 from Chebyshev fits of a slow float64 series.
import { describe, expect, it } from 'vitest';
import { erfF32, erfReference, expF32, gelu, geluGrad } from './unary-ops.js';

/** The gap between |x| rounded to float32 and the next float32 up. */
function ulp32(x: number): number {
  const a = new Float32Array([Math.abs(x)]);
  new Int32Array(a.buffer)[0]++;
  return a[0] - Math.fround(Math.abs(x));
}

// GELU's erf and exponential run in float32 arithmetic, four lanes at a time on the SIMD kernels:
// their error against the float64 references, in float32 ulps of the exact value, at every
// 2^-16 (and the odd symmetry, the edges).
describe('erfF32 and expF32', () => {
  it('erfF32 is within 1.4 ulps of erf on [0, 1) and 0.75 from 1 on; ±1 from 3.92; odd', () => {
    let worstSmall = 0;
    let worstLarge = 0;
    for (let i = 0; i <= 5 * 65536; i++) {
      const x = i / 65536;
      const want = erfReference(x);
      const err = Math.abs(erfF32(x) - want) / ulp32(want);
      if (x < 1) worstSmall = Math.max(worstSmall, err);
      else worstLarge = Math.max(worstLarge, err);
      expect(erfF32(-x)).toBe(-erfF32(x));
    }
    expect(worstSmall).toBeLessThan(1.4);
    expect(worstLarge).toBeLessThan(0.75);
    // Tiny arguments keep their relative accuracy: erf(x) = 2x / sqrt(pi).
    expect(erfF32(1e-30) / 1e-30).toBeCloseTo(1.1283791670955126, 6);
    expect(Object.is(erfF32(0), 0)).toBe(true);
    expect(Object.is(erfF32(-0), -0)).toBe(true);
    // Hand-checked values: erf(0.5), erf(1), erf(2), erf(3).
    expect(erfF32(0.5)).toBeCloseTo(0.5204998778130465, 7);
    expect(erfF32(1)).toBeCloseTo(0.842700792949715, 7);
    expect(erfF32(-2)).toBeCloseTo(-0.9953222650189527, 7);
    expect(erfF32(3)).toBeCloseTo(0.9999779095030014, 7);
    expect(erfF32(10)).toBe(1);
    expect(erfF32(Math.fround(3.92))).toBe(1);
    expect(erfF32(-Infinity)).toBe(-1);
    expect(erfF32(Number.NaN)).toBeNaN();
  });

  it('expF32 is within an ulp of e^y on [-87.3, 0]; 0 below, NaN for NaN', () => {
    let worst = 0;
    for (let i = 0; i <= 400_000; i++) {
      const y = Math.fround(-87.3 * (i / 400_000));
      worst = Math.max(worst, Math.abs(expF32(y) - Math.exp(y)) / ulp32(Math.exp(y)));
    }
    expect(worst).toBeLessThan(1);
    expect(expF32(0)).toBe(1);
    expect(expF32(-88)).toBe(0);
    expect(expF32(-Infinity)).toBe(0);
    expect(expF32(Number.NaN)).toBeNaN();
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
