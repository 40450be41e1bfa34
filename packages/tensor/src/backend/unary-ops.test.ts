// erf is evaluated from Chebyshev fits of a slow float64 series: the fits must stay within
// 1e-13 (relative) of the series everywhere, so that float32 results round the same way.
import { describe, expect, it } from 'vitest';
import { erf, erfReference } from './unary-ops.js';

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
