import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradcheck } from '@bp/autograd';
import { ShapeError, add, div, manualSeed, matmul, maximum, minimum, mul, randn, rand, softmax, sub, sum, type Tensor } from '@bp/tensor';
import { broadcastBinary, broadcastShape, matmulRef } from './reference.js';

/** An output shape and two shapes that broadcast to it (leading axes dropped, some sizes set to 1). */
const broadcastPair = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 })
  .chain((out) =>
    fc.tuple(
      fc.constant(out),
      fc.integer({ min: 0, max: out.length }),
      fc.integer({ min: 0, max: out.length }),
      fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
      fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
    ),
  )
  .map(([out, dropA, dropB, onesA, onesB]) => ({
    out,
    a: out.slice(dropA).map((d, i) => (onesA[i + dropA] ? 1 : d)),
    b: out.slice(dropB).map((d, i) => (onesB[i + dropB] ? 1 : d)),
  }));

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 });
const seedArb = fc.integer({ min: 0, max: 1 << 30 });

function close(t: Tensor, want: number[], shape: number[]): void {
  expect(t.shape).toEqual(shape);
  const got = t.dataSync();
  want.forEach((w, i) => expect(Math.abs(got[i] - w)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(w)));
}

describe('broadcasting', () => {
  const ops: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number][] = [
    ['add', add, (x, y) => x + y],
    ['sub', sub, (x, y) => x - y],
    ['mul', mul, (x, y) => x * y],
    ['div', div, (x, y) => x / y],
    ['maximum', maximum, Math.max],
    ['minimum', minimum, Math.min],
  ];

  it('agrees with an explicit loop over the output', () => {
    fc.assert(
      fc.property(broadcastPair, fc.constantFrom(...ops), seedArb, ({ a, b }, [, f, ref], seed) => {
        manualSeed(seed);
        const x = randn(a);
        const y = rand(b).add(0.5); // away from zero for div
        const want = broadcastBinary(x.dataSync(), a, y.dataSync(), b, ref);
        close(f(x, y), want.values, want.shape);
        const back = broadcastBinary(y.dataSync(), b, x.dataSync(), a, ref);
        close(f(y, x), back.values, back.shape);
      }),
      { numRuns: 150 },
    );
  });

  it('throws a ShapeError naming both shapes exactly when they do not broadcast', () => {
    fc.assert(
      fc.property(shapeArb, shapeArb, (a, b) => {
        const want = broadcastShape(a, b);
        const x = randn(a);
        const y = randn(b);
        if (want) expect(add(x, y).shape).toEqual(want);
        else expect(() => add(x, y)).toThrow(ShapeError);
        if (!want) expect(() => mul(x, y)).toThrow(`[${a.join(',')}] and [${b.join(',')}]`);
      }),
      { numRuns: 200 },
    );
  });
});

describe('reshape and transpose', () => {
  const permOf = (n: number) => fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n });

  it('transpose(perm) then transpose(inverse) is the identity', () => {
    fc.assert(
      fc.property(
        shapeArb.chain((s) => fc.tuple(fc.constant(s), permOf(s.length))),
        seedArb,
        ([shape, perm], seed) => {
          manualSeed(seed);
          const x = randn(shape);
          const inv = new Array<number>(perm.length);
          perm.forEach((p, i) => (inv[p] = i));
          const y = x.transpose(perm);
          expect(y.shape).toEqual(perm.map((p) => shape[p]));
          expect(Array.from(y.transpose(inv).dataSync())).toEqual(Array.from(x.dataSync()));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reshape to any factorisation (with -1) and back keeps every value in order', () => {
    fc.assert(
      fc.property(shapeArb, fc.integer({ min: 0, max: 3 }), seedArb, (shape, cut, seed) => {
        manualSeed(seed);
        const x = randn(shape);
        const k = Math.min(cut, shape.length);
        const head = shape.slice(0, k).reduce((p, d) => p * d, 1);
        const y = x.reshape([head, -1]);
        expect(y.shape).toEqual([head, x.size / head]);
        expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()));
        expect(y.reshape(shape).shape).toEqual(shape);
        expect(Array.from(x.flatten(0).reshape(shape).dataSync())).toEqual(Array.from(x.dataSync()));
      }),
      { numRuns: 150 },
    );
  });
});

describe('gradcheck on random shapes', () => {
  const check = (fn: (...xs: Tensor[]) => Tensor, xs: Tensor[]) => {
    const r = gradcheck(fn, xs);
    expect(r.ok, `max abs error ${r.maxAbsError}`).toBe(true);
  };

  it('add and mul with broadcasting', () => {
    fc.assert(
      fc.property(broadcastPair, seedArb, ({ a, b }, seed) => {
        manualSeed(seed);
        check((x, y) => add(x, y).mul(y), [randn(a), randn(b)]);
      }),
      { numRuns: 25 },
    );
  });

  it('sum over random axes, with and without keepDims', () => {
    const arb = shapeArb.chain((s) => fc.tuple(fc.constant(s), fc.subarray([...Array(s.length).keys()]), fc.boolean()));
    fc.assert(
      fc.property(arb, seedArb, ([shape, axes, keep], seed) => {
        manualSeed(seed);
        check((x) => sum(x.mul(x), axes, keep), [randn(shape)]);
      }),
      { numRuns: 25 },
    );
  });

  it('batched matmul with broadcast batch axes', () => {
    const dim = fc.integer({ min: 1, max: 3 });
    fc.assert(
      fc.property(broadcastPair, dim, dim, dim, seedArb, ({ a, b }, m, k, n, seed) => {
        manualSeed(seed);
        const x = randn([...a.slice(-2), m, k]);
        const y = randn([...b.slice(-2), k, n]);
        const want = matmulRef(x.dataSync(), x.shape, y.dataSync(), y.shape);
        close(matmul(x, y), want.values, want.shape);
        check(matmul, [x, y]);
      }),
      { numRuns: 25 },
    );
  });

  it('softmax along a random axis', () => {
    const arb = shapeArb.chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: -s.length, max: s.length - 1 })));
    fc.assert(
      fc.property(arb, seedArb, ([shape, axis], seed) => {
        manualSeed(seed);
        check((x) => softmax(x, axis), [randn(shape)]);
      }),
      { numRuns: 25 },
    );
  });
});
