// Junk where a shape, an axis, a tensor, a dtype or a size belongs: every entry point of
// @bp/tensor returns a result or throws a BpError whose message starts with an op name, never
// a TypeError or RangeError from deep inside, and never tries to allocate an absurd size.
// The hand-written table of exact messages lives in packages/conformance/src/cases/errors.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AxisError,
  adaptiveAvgPool2d,
  adaptiveMaxPool2d,
  BpError,
  ShapeError,
  argmax,
  arange,
  broadcastTo,
  cast,
  clamp,
  concat,
  eye,
  flatten,
  full,
  gather,
  linspace,
  logSoftmax,
  manualSeed,
  matmul,
  max,
  mean,
  narrow,
  ones,
  oneHot,
  pad,
  rand,
  randint,
  randn,
  reshape,
  slice,
  softmax,
  squeeze,
  stack,
  sum,
  tensor,
  transpose,
  uniform,
  unsqueeze,
  where,
  zeros,
  isTensor,
  type Tensor,
} from './index.js';

/**
 * Values that are wrong in every way a caller gets them wrong, plus absurdly large sizes.
 * Symbols and BigInts are left out: TypeScript rejects them everywhere and they cannot be
 * printed in an error message without special care.
 */
const junk = fc.oneof(
  fc.constantFrom(
    null,
    undefined,
    NaN,
    Infinity,
    -Infinity,
    -1,
    1.5,
    2 ** 33,
    1e12,
    -0,
    '',
    '2',
    'float64',
    true,
    false,
    {},
    [],
    [[]],
    [1, [2]],
    () => 1,
  ),
  fc.integer({ min: -4, max: 4 }),
  fc.array(fc.oneof(fc.integer({ min: -3, max: 5 }), fc.constantFrom(NaN, 1.5, 2 ** 33, '1', null)), { maxLength: 4 }),
  fc.anything({ maxDepth: 2, withBigInt: false }),
);

const t = () => zeros([2, 3]);
const ti = () => tensor([0, 1], { dtype: 'int32' });

/** Every public entry point, with one argument replaced by junk. */
const calls: [string, (j: unknown) => unknown][] = [
  ['tensor(data)', (j) => tensor(j as never)],
  ['tensor(data, {shape})', (j) => tensor([1, 2, 3, 4], { shape: j as never })],
  ['tensor(data, {dtype})', (j) => tensor([1], { dtype: j as never })],
  ['zeros', (j) => zeros(j as never)],
  ['ones', (j) => ones(j as never)],
  ['full(shape)', (j) => full(j as never, 1)],
  ['full(value)', (j) => full([2], j as never)],
  ['rand', (j) => rand(j as never)],
  ['randn', (j) => randn(j as never)],
  ['uniform', (j) => uniform([2], j as never, 1)],
  ['randint', (j) => randint(0, j as never, [2])],
  ['arange', (j) => arange(0, j as never)],
  ['arange(step)', (j) => arange(0, 4, j as never)],
  ['linspace', (j) => linspace(0, 1, j as never)],
  ['eye', (j) => eye(j as never)],
  ['manualSeed', (j) => manualSeed(j as never)],
  ['reshape', (j) => reshape(t(), j as never)],
  ['transpose', (j) => transpose(t(), j as never)],
  ['flatten', (j) => flatten(t(), j as never)],
  ['squeeze', (j) => squeeze(t(), j as never)],
  ['unsqueeze', (j) => unsqueeze(t(), j as never)],
  ['broadcastTo', (j) => broadcastTo(t(), j as never)],
  ['sum', (j) => sum(t(), j as never)],
  ['mean', (j) => mean(t(), j as never)],
  ['max', (j) => max(t(), j as never)],
  ['argmax', (j) => argmax(t(), j as never)],
  ['softmax', (j) => softmax(t(), j as never)],
  ['logSoftmax', (j) => logSoftmax(t(), j as never)],
  ['slice(starts)', (j) => slice(t(), j as never)],
  ['slice(ends)', (j) => slice(t(), [0, 0], j as never)],
  ['narrow', (j) => narrow(t(), 1, j as never, 1)],
  ['pad', (j) => pad(t(), j as never)],
  ['concat(list)', (j) => concat(j as never)],
  ['concat(axis)', (j) => concat([t(), t()], j as never)],
  ['stack', (j) => stack([t(), t()], j as never)],
  ['gather(index)', (j) => gather(t(), j as never)],
  ['gather(axis)', (j) => gather(t(), ti(), j as never)],
  ['oneHot', (j) => oneHot(ti(), j as never)],
  ['clamp', (j) => clamp(t(), j as never, 1)],
  ['cast', (j) => cast(t(), j as never)],
  ['where', (j) => where(j as never, t(), t())],
  ['matmul', (j) => matmul(t(), j as never)],
  ['add', (j) => t().add(j as never)],
  ['mul', (j) => t().mul(j as never)],
  ['pow', (j) => t().pow(j as never)],
  ['item', (j) => (isTensor(j) ? (j as Tensor).item() : zeros([2]).item())],
];

function describeValue(v: unknown): string {
  try {
    return typeof v === 'symbol' || typeof v === 'function' || typeof v === 'bigint' ? String(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    return Object.prototype.toString.call(v);
  }
}

describe('junk arguments to every entry point', () => {
  it.each(calls)('%s: a result or a BpError naming the op', (name, call) => {
    fc.assert(
      fc.property(junk, (j) => {
        try {
          call(j);
        } catch (e) {
          if (!(e instanceof BpError) || !/^[A-Za-z0-9]+: /.test(e.message)) {
            throw new Error(`${name}(${describeValue(j)}) threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
          }
        }
      }),
      { numRuns: 150, seed: 31, endOnFailure: true },
    );
  });
});

describe('sizes too large to allocate are refused up front', () => {
  it('names the op and the shape instead of failing inside the allocator', () => {
    expect(() => zeros([1e12])).toThrow(ShapeError);
    expect(() => zeros([1e12])).toThrow(
      'zeros: shape [1000000000000] has 1000000000000 elements, more than the 4294967296 a tensor can hold',
    );
    expect(() => randn([65536, 65536, 2])).toThrow(/^randn: shape \[65536,65536,2\] has 8589934592 elements/);
    expect(() => arange(0, 1e12)).toThrow(/^arange: \(0, 1000000000000, 1\) gives 1000000000000 values/);
    expect(() => eye(1e6)).toThrow(/^eye: sizes must be non-negative integers with at most/);
    expect(() => linspace(0, 1, 2 ** 40)).toThrow(/^linspace: n must be an integer in/);
    // Adaptive pooling builds windows of out * in numbers per axis: refused before any of them.
    const img = zeros([1, 1, 28, 28]);
    expect(() => adaptiveAvgPool2d(img, 1e9)).toThrow(
      'adaptiveAvgPool2d: outputSize 1000000000 on [1,1,28,28] gives [1,1,1000000000,1000000000], more than the 4294967296 elements a tensor can hold',
    );
    expect(() => adaptiveMaxPool2d(img, [null, 2 ** 28])).toThrow(
      /^adaptiveMaxPool2d: outputSize \[null,268435456\] on \[1,1,28,28\] gives/,
    );
    expect(adaptiveAvgPool2d(img, [null, 3]).shape).toEqual([1, 1, 28, 3]);
  });

  it('an axis of the wrong type is an AxisError naming the op', () => {
    expect(() => sum(t(), '1' as never)).toThrow(AxisError);
    expect(() => sum(t(), '1' as never)).toThrow('sum: axis must be a number or an array of numbers, got "1"');
    expect(() => mean(t(), true as never)).toThrow('mean: axis must be a number or an array of numbers, got true');
  });
});
