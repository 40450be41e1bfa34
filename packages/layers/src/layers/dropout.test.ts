import '@bp/autograd';
import { manualSeed, ones, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { Dropout } from './dropout.js';

describe('Dropout', () => {
  it('zeroes about p of the elements and scales the rest by 1/(1-p)', () => {
    manualSeed(0);
    const n = 20000;
    const y = new Dropout(0.3).forward(ones([n])).dataSync();
    let zeros = 0;
    let others = 0;
    const scale = Math.fround(1 / 0.7);
    for (const v of y) {
      if (v === 0) zeros++;
      else if (v !== scale) others++;
    }
    expect(others).toBe(0);
    // Binomial(20000, 0.3): sd ~ 65, so 4 sd is ~0.013 of n.
    expect(Math.abs(zeros / n - 0.3)).toBeLessThan(0.013);
  });

  it('is the identity in eval mode and for p = 0', () => {
    const x = tensor([1, 2, 3]);
    expect(new Dropout(0.5).eval().forward(x)).toBe(x);
    expect(new Dropout(0).forward(x)).toBe(x);
    expect(new Dropout(1).forward(x).toArray()).toEqual([0, 0, 0]);
  });

  it('draws its mask from the seeded generator', () => {
    manualSeed(42);
    const a = new Dropout(0.5).forward(ones([64])).dataSync();
    manualSeed(42);
    const b = new Dropout(0.5).forward(ones([64])).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('passes gradients only through kept elements', () => {
    manualSeed(1);
    const x = tensor([1, 1, 1, 1, 1, 1, 1, 1], { requiresGrad: true });
    const y = new Dropout(0.5).forward(x);
    y.sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual(Array.from(y.dataSync()));
  });

  it('refuses p outside [0, 1]', () => {
    expect(() => new Dropout(1.5)).toThrow(/Dropout: p must be a probability in \[0, 1\], got 1.5/);
  });
});
