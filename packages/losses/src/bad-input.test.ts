// Every loss against junk arguments, probabilities outside [0, 1], labels out of range and
// logits as large as +-1e4: a BpError naming the loss and the value, or a finite loss with
// finite gradients.
import fc from 'fast-check';
import { grad } from '@bp/autograd';
import { ArgumentError, BpError, IndexError, manualSeed, ones, softmax, tensor, zeros, type Tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { bceWithLogitsLoss } from './bce-with-logits.js';
import { bceLoss } from './bce.js';
import { categoricalCrossentropy } from './categorical-crossentropy.js';
import { crossEntropyLoss } from './cross-entropy.js';
import { huberLoss } from './huber.js';
import { l1Loss } from './l1.js';
import { mseLoss } from './mse.js';
import { nllLoss } from './nll.js';
import { sparseCategoricalCrossentropy } from './sparse-categorical-crossentropy.js';

type Loss = (a: Tensor, b: Tensor, opts?: never) => Tensor;
const junk = fc.oneof(
  fc.constantFrom(null, NaN, Infinity, -1, 1.5, '', 'mean', true, {}, [], [[0.5, 0.5]], () => 1),
  fc.anything({ maxDepth: 2, withBigInt: false, key: fc.constantFrom('a', 'reduction', 'delta', 'shape') }),
);
const j = <T>(v: unknown) => v as T;
const labels = (v: number[]) => tensor(v, { dtype: 'int32' });
const p2 = () =>
  tensor([
    [0.3, 0.7],
    [0.6, 0.4],
  ]);
const oh2 = () =>
  tensor([
    [0, 1],
    [1, 0],
  ]);

/** [name, loss, a good first argument, a good second argument] */
const losses: [string, Loss, () => Tensor, () => Tensor][] = [
  ['mseLoss', mseLoss, p2, oh2],
  ['l1Loss', l1Loss, p2, oh2],
  ['huberLoss', huberLoss as Loss, p2, oh2],
  ['bceLoss', bceLoss, p2, oh2],
  ['bceWithLogitsLoss', bceWithLogitsLoss as Loss, p2, oh2],
  ['crossEntropyLoss', crossEntropyLoss as Loss, p2, () => labels([1, 0])],
  ['nllLoss', nllLoss, () => p2().log(), () => labels([1, 0])],
  ['categoricalCrossentropy', categoricalCrossentropy, p2, oh2],
  ['sparseCategoricalCrossentropy', sparseCategoricalCrossentropy, p2, () => labels([1, 0])],
];

function show(v: unknown): string {
  try {
    return typeof v === 'function' ? String(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    return Object.prototype.toString.call(v);
  }
}

function expectBpError(name: string, what: string, call: () => unknown): void {
  try {
    call();
  } catch (e) {
    if (!(e instanceof BpError) || !e.message.startsWith(`${name}: `)) {
      throw new Error(`${name}(${what}) threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
    }
  }
}

describe('every loss against junk', () => {
  it.each(losses)('%s: junk input, target or options is a BpError naming the loss', (name, loss, a, b) => {
    fc.assert(
      fc.property(junk, (v) => {
        expectBpError(name, `input ${show(v)}`, () => loss(j(v), b()));
        expectBpError(name, `target ${show(v)}`, () => loss(a(), j(v)));
        expectBpError(name, `options ${show(v)}`, () => loss(a(), b(), j(v)));
      }),
      { numRuns: 60, seed: 8, endOnFailure: true },
    );
  });
});

describe('values out of range', () => {
  const outside = fc.oneof(
    fc.double({ min: 1.000001, max: 1e6, noNaN: true }),
    fc.double({ min: -1e6, max: -1e-6, noNaN: true }),
    fc.constant(NaN),
  );

  it('probabilities outside [0, 1] are an ArgumentError naming the loss and the value', () => {
    const probabilityLosses: [string, Loss, boolean][] = [
      ['bceLoss', bceLoss, true],
      ['categoricalCrossentropy', categoricalCrossentropy, false],
      ['sparseCategoricalCrossentropy', sparseCategoricalCrossentropy, false],
    ];
    fc.assert(
      fc.property(outside, fc.integer({ min: 0, max: 3 }), fc.constantFrom(...probabilityLosses), (bad, at, [name, loss, elementwise]) => {
        const values = [0.1, 0.9, 0.5, 0.5];
        values[at] = bad;
        const input = tensor(values, { shape: [2, 2] });
        const target = elementwise || name === 'categoricalCrossentropy' ? oh2() : labels([1, 0]);
        let error: unknown = null;
        try {
          loss(input, target);
        } catch (e) {
          error = e;
        }
        expect(error, `${name} with ${bad}`).toBeInstanceOf(ArgumentError);
        expect((error as Error).message).toMatch(new RegExp(`^${name}: input must be probabilities in \\[0, 1\\], got `));
      }),
      { numRuns: 100, seed: 2 },
    );
  });

  it('class labels out of range are an IndexError naming the loss and the label', () => {
    const labelLosses: [string, Loss][] = [
      ['crossEntropyLoss', crossEntropyLoss as Loss],
      ['nllLoss', nllLoss],
      ['sparseCategoricalCrossentropy', sparseCategoricalCrossentropy],
    ];
    const badLabel = fc.oneof(fc.integer({ min: 3, max: 2 ** 31 - 1 }), fc.integer({ min: -(2 ** 31), max: -1 }));
    fc.assert(
      fc.property(badLabel, fc.integer({ min: 0, max: 1 }), fc.constantFrom(...labelLosses), (bad, at, [name, loss]) => {
        const l = [0, 2];
        l[at] = bad;
        const input =
          name === 'nllLoss'
            ? tensor([
                [0.2, 0.3, 0.5],
                [0.1, 0.1, 0.8],
              ]).log()
            : tensor([
                [0.2, 0.3, 0.5],
                [0.1, 0.1, 0.8],
              ]);
        expect(() => loss(input, labels(l))).toThrow(IndexError);
        expect(() => loss(input, labels(l))).toThrow(`${name}: label ${bad} at position ${at} is out of range for 3 classes`);
      }),
      { numRuns: 100, seed: 3 },
    );
  });
});

describe('logits as large as +-1e4', () => {
  const logits = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 5 })).chain(([n, c]) =>
    fc.tuple(
      fc.constant([n, c]),
      fc.array(fc.oneof(fc.constantFrom(1e4, -1e4, 0), fc.double({ min: -1e4, max: 1e4, noNaN: true })), {
        minLength: n * c,
        maxLength: n * c,
      }),
    ),
  );

  const finite = (t: Tensor) => Array.from(t.dataSync()).every(Number.isFinite);

  it('every loss and its gradient stay finite', () => {
    fc.assert(
      fc.property(logits, fc.integer({ min: 0, max: 1 << 20 }), ([[n, c], values], seed) => {
        manualSeed(seed);
        const x = tensor(values, { shape: [n, c] });
        const ids = labels(Array.from({ length: n }, (_, i) => (seed + i) % c));
        const onehot = tensor(
          Array.from({ length: n * c }, (_, k) => (k % c === (seed + Math.floor(k / c)) % c ? 1 : 0)),
          { shape: [n, c] },
        );
        const cases: [string, (z: Tensor) => Tensor][] = [
          ['crossEntropyLoss', (z) => crossEntropyLoss(z, ids)],
          ['crossEntropyLoss (labelSmoothing)', (z) => crossEntropyLoss(z, ids, { labelSmoothing: 0.1 })],
          ['nllLoss(logSoftmax)', (z) => nllLoss(z.logSoftmax(-1), ids)],
          ['bceWithLogitsLoss', (z) => bceWithLogitsLoss(z, onehot)],
          ['bceLoss(sigmoid)', (z) => bceLoss(z.sigmoid(), onehot)],
          ['categoricalCrossentropy(softmax)', (z) => categoricalCrossentropy(softmax(z, -1), onehot)],
          ['sparseCategoricalCrossentropy(softmax)', (z) => sparseCategoricalCrossentropy(softmax(z, -1), ids)],
          ['mseLoss(softmax)', (z) => mseLoss(softmax(z, -1), onehot)],
          ['huberLoss', (z) => huberLoss(z, onehot)],
          ['l1Loss', (z) => l1Loss(z, onehot)],
        ];
        for (const [name, f] of cases) {
          const value = f(x);
          expect(Number.isFinite(value.item()), `${name} = ${value.item()} for ${JSON.stringify(values)}`).toBe(true);
          expect(finite(grad(f)(x) as Tensor), `${name} gradient for ${JSON.stringify(values)}`).toBe(true);
        }
        expect(finite(softmax(x, -1))).toBe(true);
        expect(finite(x.logSoftmax(-1))).toBe(true);
      }),
      { numRuns: 60, seed: 4 },
    );
  });
});

describe('hostile options and targets are refused, naming the loss', () => {
  it('options that are not an object, and reduction null', () => {
    const p = tensor([0.5, 0.5]);
    const y = tensor([1, 0]);
    expect(() => mseLoss(p, y, 'sum' as never)).toThrow(/mseLoss: options must be an object such as \{ reduction: 'sum' \}, got "sum"/);
    expect(() => mseLoss(p, y, 5 as never)).toThrow(/mseLoss: options must be an object/);
    expect(() => mseLoss(p, y, { reduction: null } as never)).toThrow(/mseLoss: reduction must be 'mean', 'sum' or 'none', got null/);
  });

  it('categoricalCrossentropy refuses targets outside [0, 1] (the loss would turn negative)', () => {
    const probs = tensor([
      [0.5, 0.5],
      [0.9, 0.1],
    ]);
    const bad = tensor([
      [-1, 1],
      [1, 0],
    ]);
    expect(() => categoricalCrossentropy(probs, bad)).toThrow(/categoricalCrossentropy: target must be probabilities in \[0, 1\], got -1/);
  });

  it('bceWithLogitsLoss names posWeight when it does not broadcast to the input', () => {
    expect(() => bceWithLogitsLoss(zeros([2, 2]), zeros([2, 2]), { posWeight: ones([3]) })).toThrow(
      /bceWithLogitsLoss: posWeight \[3\] does not broadcast to the input \[2,2\]/,
    );
  });
});
