import { ArgumentError, manualSeed } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { circles, linearRegression, moons, spirals, xor } from './synthetic.js';

function counts(labels: Int32Array | Float32Array, k: number): number[] {
  const c = new Array(k).fill(0);
  for (const v of labels) c[v]++;
  return c;
}

function seeded<T>(seed: number, f: () => T): T {
  manualSeed(seed);
  return f();
}

describe('xor', () => {
  it('is the truth table as float32 [4,2] inputs and [4,1] targets', () => {
    const { x, y } = xor();
    expect(x.dtype).toBe('float32');
    expect(y.dtype).toBe('float32');
    expect(x.toArray()).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    expect(y.toArray()).toEqual([[0], [1], [1], [0]]);
  });
});

describe('spirals', () => {
  it('has the requested shape, dtypes and a balanced split of classes', () => {
    const { x, y } = seeded(1, () => spirals({ n: 100, classes: 3, noise: 0.2 }));
    expect(x.shape).toEqual([100, 2]);
    expect(x.dtype).toBe('float32');
    expect(y.shape).toEqual([100]);
    expect(y.dtype).toBe('int32');
    expect(counts(y.dataSync(), 3)).toEqual([34, 33, 33]);
  });

  it('puts noiseless point i of arm k at radius i/(m-1) and angle 4k + 4i/(m-1)', () => {
    const { x, y } = spirals({ n: 40, classes: 2, noise: 0, shuffle: false });
    const p = x.dataSync();
    const lab = y.dataSync();
    // Class 0 arm: point i of 20 has radius i/19 and angle 4·i/19.
    for (let i = 0; i < 20; i++) {
      expect(lab[i]).toBe(0);
      const r = i / 19;
      const t = (4 * i) / 19;
      expect(p[2 * i]).toBeCloseTo(r * Math.sin(t), 6);
      expect(p[2 * i + 1]).toBeCloseTo(r * Math.cos(t), 6);
    }
    expect(lab[20]).toBe(1);
  });

  it('is reproducible under manualSeed and differs across seeds', () => {
    const a = seeded(7, () => spirals({ n: 60 }));
    const b = seeded(7, () => spirals({ n: 60 }));
    const c = seeded(8, () => spirals({ n: 60 }));
    expect(Array.from(a.x.dataSync())).toEqual(Array.from(b.x.dataSync()));
    expect(Array.from(a.y.dataSync())).toEqual(Array.from(b.y.dataSync()));
    expect(Array.from(a.x.dataSync())).not.toEqual(Array.from(c.x.dataSync()));
  });

  it('validates its options', () => {
    expect(() => spirals({ n: 0 })).toThrow(ArgumentError);
    expect(() => spirals({ classes: 2.5 })).toThrow('spirals: classes must be a positive integer, got 2.5');
    expect(() => spirals({ noise: -1 })).toThrow('spirals: noise must be a finite number >= 0, got -1');
    expect(() => spirals({ n: 2, classes: 3 })).toThrow(/n \(2\) must be at least the number of classes \(3\)/);
  });
});

describe('moons', () => {
  it('matches make_moons without noise: upper arc class 0, lower arc class 1', () => {
    const { x, y } = moons({ n: 7, noise: 0, shuffle: false });
    expect(x.shape).toEqual([7, 2]);
    expect(Array.from(y.dataSync())).toEqual([0, 0, 0, 1, 1, 1, 1]);
    const p = x.toArray() as number[][];
    // Outer: t = 0, pi/2, pi; inner: t = 0, pi/3, 2pi/3, pi.
    const expected = [
      [1, 0],
      [0, 1],
      [-1, 0],
      [0, 0.5],
      [0.5, 0.5 - Math.sin(Math.PI / 3)],
      [1.5, 0.5 - Math.sin((2 * Math.PI) / 3)],
      [2, 0.5],
    ];
    p.forEach((pt, i) => {
      expect(pt[0]).toBeCloseTo(expected[i][0], 6);
      expect(pt[1]).toBeCloseTo(expected[i][1], 6);
    });
  });

  it('is shuffled, noisy and reproducible under manualSeed', () => {
    const a = seeded(3, () => moons({ n: 200, noise: 0.1 }));
    const b = seeded(3, () => moons({ n: 200, noise: 0.1 }));
    expect(Array.from(a.x.dataSync())).toEqual(Array.from(b.x.dataSync()));
    expect(counts(a.y.dataSync(), 2)).toEqual([100, 100]);
    const first = Array.from(a.y.dataSync()).slice(0, 100);
    expect(first.some((v) => v === 1)).toBe(true);
  });
});

describe('circles', () => {
  it('puts noiseless points on radius 1 (class 0) and radius factor (class 1)', () => {
    const { x, y } = circles({ n: 50, noise: 0, factor: 0.3 });
    const p = x.dataSync();
    const lab = y.dataSync();
    expect(counts(lab, 2)).toEqual([25, 25]);
    for (let i = 0; i < 50; i++) {
      expect(Math.hypot(p[2 * i], p[2 * i + 1])).toBeCloseTo(lab[i] === 0 ? 1 : 0.3, 6);
    }
  });

  it('validates factor', () => {
    expect(() => circles({ factor: 1 })).toThrow('circles: factor must be in [0, 1), got 1');
  });

  it('is reproducible under manualSeed', () => {
    const a = seeded(11, () => circles({ n: 30 }));
    const b = seeded(11, () => circles({ n: 30 }));
    expect(Array.from(a.x.dataSync())).toEqual(Array.from(b.x.dataSync()));
  });
});

describe('linearRegression', () => {
  it('without noise, y = x @ weights + bias', () => {
    const { x, y, weights, bias } = linearRegression({ n: 20, features: 3, noise: 0, weights: [2, -1, 0.5], bias: 3 });
    expect(x.shape).toEqual([20, 3]);
    expect(y.shape).toEqual([20, 1]);
    expect(weights).toEqual([2, -1, 0.5]);
    expect(bias).toBe(3);
    const xv = x.dataSync();
    const yv = y.dataSync();
    for (let i = 0; i < 20; i++) {
      expect(yv[i]).toBeCloseTo(2 * xv[3 * i] - xv[3 * i + 1] + 0.5 * xv[3 * i + 2] + 3, 5);
    }
  });

  it('draws weights when none are given and is reproducible', () => {
    const a = seeded(5, () => linearRegression({ n: 10, features: 4 }));
    const b = seeded(5, () => linearRegression({ n: 10, features: 4 }));
    expect(a.weights).toHaveLength(4);
    expect(a.weights).toEqual(b.weights);
    expect(Array.from(a.y.dataSync())).toEqual(Array.from(b.y.dataSync()));
  });

  it('adds noise with the requested standard deviation', () => {
    const { x, y } = seeded(2, () => linearRegression({ n: 4000, weights: [1], noise: 0.5 }));
    const xv = x.dataSync();
    const yv = y.dataSync();
    let ss = 0;
    for (let i = 0; i < 4000; i++) ss += (yv[i] - xv[i]) ** 2;
    expect(Math.sqrt(ss / 4000)).toBeCloseTo(0.5, 1);
  });

  it('validates weights against features', () => {
    expect(() => linearRegression({ features: 2, weights: [1] })).toThrow(
      'linearRegression: weights must be 2 finite numbers (one per feature), got [1]',
    );
  });
});

describe('hostile options', () => {
  it('treats null options as the defaults and refuses other non-objects and unknown names', () => {
    manualSeed(0);
    expect(spirals(null).x.shape).toEqual([300, 2]);
    expect(moons(null).x.shape).toEqual([200, 2]);
    expect(circles(null).x.shape).toEqual([200, 2]);
    expect(linearRegression(null).x.shape).toEqual([100, 1]);
    expect(() => spirals(5 as never)).toThrow(ArgumentError);
    expect(() => spirals(5 as never)).toThrow(/spirals: options must be an object, got number 5/);
    expect(() => moons({ nosie: 0.1 } as never)).toThrow(/moons: unknown option "nosie" \(did you mean 'noise'\?\)/);
  });

  it('refuses n * features too large to allocate, before allocating', () => {
    expect(() => linearRegression({ n: 2 ** 20, features: 2 ** 20 })).toThrow(ArgumentError);
    expect(() => linearRegression({ n: 2 ** 20, features: 2 ** 20 })).toThrow(
      /linearRegression: n \* features must be at most 268435456 values, got 1048576 \* 1048576 = 1099511627776/,
    );
  });
});
