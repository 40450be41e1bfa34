// int32 never wraps silently: values that do not fit are refused when a tensor is made, and
// sums and products whose total leaves the int32 range are refused instead of wrapping.
// `setBackend` refuses what is not a backend (a factory function, a plain object).
import { describe, expect, it } from 'vitest';
import { cpuBackend } from './cpu/cpu-backend.js';
import { reduce } from './cpu/reduce.js';
import { DTypeError, ArgumentError } from './errors.js';
import { getBackend, setBackend } from './backend/registry.js';
import { full, tensor } from './ops/creation.js';
import { add, cast, clamp, lt, where } from './ops/elementwise.js';
import { maskedFill } from './ops/indexing.js';
import { scatter } from './ops/movement.js';
import { setDebugChecks } from './debug-checks.js';

describe('int32 range', () => {
  it('refuses values outside int32, NaN and ±Infinity, naming the value and index', () => {
    expect(() => tensor([3e9], { dtype: 'int32' })).toThrow(DTypeError);
    expect(() => tensor([3e9], { dtype: 'int32' })).toThrow('tensor: value 3000000000 at index 0 does not fit in int32');
    expect(() => tensor([1, Number.NaN], { dtype: 'int32' })).toThrow('value NaN at index 1 does not fit in int32');
    expect(() => tensor(Number.POSITIVE_INFINITY, { dtype: 'int32' })).toThrow('value Infinity at index 0');
    expect(() =>
      tensor(
        [
          [1, 2],
          [3, -2147483649],
        ],
        { dtype: 'int32' },
      ),
    ).toThrow('value -2147483649 at index 3');
    expect(() => tensor(new Float32Array([1, 2 ** 31]), { dtype: 'int32' })).toThrow('value 2147483648 at index 1');
    expect(() => tensor(new Uint32Array([2 ** 32 - 1]), { dtype: 'int32' })).toThrow('value 4294967295 at index 0');
  });

  it('keeps the limits and truncates fractions toward zero, as before', () => {
    expect(Array.from(tensor([2147483647, -2147483648, 2.9, -2.9, 2147483647.5], { dtype: 'int32' }).dataSync())).toEqual([
      2147483647, -2147483648, 2, -2, 2147483647,
    ]);
    expect(Array.from(tensor(new Uint8Array([255, 0]), { dtype: 'int32' }).dataSync())).toEqual([255, 0]);
  });

  it('cast to int32 refuses a float with no int32 value where value checks run, naming it; truncates the rest', () => {
    // PyTorch 1.13's torch.tensor([nan, 3e9]).int() gives [-2147483648, -2147483648] (undefined in C++); bp used to wrap.
    expect(() => cast(tensor([1, Number.NaN]), 'int32')).toThrow(DTypeError);
    expect(() => cast(tensor([1, Number.NaN]), 'int32')).toThrow('cast: value NaN at index 1 of [2] has no int32 value');
    expect(() => cast(tensor([[0, 3e9]]), 'int32')).toThrow('value 3000000000 at index 1 of [1,2]');
    expect(() => cast(tensor([Number.NEGATIVE_INFINITY]), 'int32')).toThrow('value -Infinity at index 0');
    expect(Array.from(cast(tensor([2.9, -2.9, -2147483648, 2147483520]), 'int32').dataSync())).toEqual([2, -2, -2147483648, 2147483520]);
    setDebugChecks(false);
    try {
      // Unchecked (as on a GPU by default): no error, and the value is unspecified.
      expect(cast(tensor([Number.NaN, 1.5]), 'int32').dataSync()[1]).toBe(1);
    } finally {
      setDebugChecks('auto');
    }
  });

  it('a number that meets an int32 tensor must fit in int32: refused, not wrapped, naming the op', () => {
    // PyTorch 1.13 refuses these ("value cannot be converted to type int without overflow"); bp
    // used to wrap them: clamp(x, 0, 3e9) turned [1, 2, 3] into [-1294967296, -1294967296, -1294967296].
    const x = tensor([1, 2, 3], { dtype: 'int32' });
    const m = tensor([1, 0, 1], { dtype: 'int32' });
    const i0 = tensor([0], { dtype: 'int32' });
    expect(() => clamp(x, 0, 3e9)).toThrow(DTypeError);
    expect(() => clamp(x, 0, 3e9)).toThrow('clamp: max 3000000000 does not fit in int32');
    expect(() => clamp(x, -3e9)).toThrow('clamp: min -3000000000 does not fit in int32');
    expect(() => where(m, x, 3e9)).toThrow('where: the number 3000000000 does not fit in int32');
    expect(() => maskedFill(x, m, -1e10)).toThrow('maskedFill: value -10000000000 does not fit in int32');
    expect(() => maskedFill(x, m, Number.NaN)).toThrow('maskedFill: value NaN does not fit in int32');
    expect(() => scatter(x, 0, i0, 3e9)).toThrow('scatter: src 3000000000 does not fit in int32');
    expect(() => full([2], 1e10, { dtype: 'int32' })).toThrow('full: value 10000000000 does not fit in int32');
    expect(() => full([2], Number.NaN, { dtype: 'int32' })).toThrow('full: value NaN does not fit in int32');
    // Arithmetic and comparisons too (PyTorch wraps there: its int32 tensor < 3e9 is all false).
    expect(() => add(x, 3e9)).toThrow('add: the number 3000000000 does not fit in int32');
    expect(() => lt(x, 3e9)).toThrow(DTypeError);
    // What fits still works, fractions truncated toward zero (PyTorch's values).
    expect(Array.from(clamp(x, 0, 2147483647).dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(maskedFill(x, m, -2.7).dataSync())).toEqual([-2, 2, -2]);
    expect(Array.from(maskedFill(x, m, -2147483648).dataSync())).toEqual([-2147483648, 2, -2147483648]);
    expect(Array.from(scatter(x, 0, i0, 2.5).dataSync())).toEqual([2, 2, 3]);
    expect(Array.from(full([2], 2.5, { dtype: 'int32' }).dataSync())).toEqual([2, 2]);
    // A fraction next to an int32 tensor makes the result float32, as PyTorch.
    expect(add(x, 0.5).dtype).toBe('float32');
  });

  it('sums and products of int32 values are exact or refused, never wrapped', () => {
    const big = tensor([2147483647, 2147483647, -2147483648], { dtype: 'int32' });
    expect(big.sum().item()).toBe(2147483646); // the running total passes 2^31 but the sum fits: exact
    expect(() => tensor([2147483647, 1], { dtype: 'int32' }).sum()).toThrow('sum: the int32 sum is 2147483648, beyond the int32 range');
    const rows = tensor(
      [
        [2147483647, 0],
        [1, 5],
      ],
      { dtype: 'int32' },
    );
    expect(() => rows.sum(0)).toThrow('the int32 sum is 2147483648');
    expect(Array.from(rows.sum(1).dataSync())).toEqual([2147483647, 6]);
    // The CPU kernel's products, which no public op exposes yet.
    expect(() => reduce('prod', Int32Array.from([65536, 65536]), [2], [0], 'int32')).toThrow('the int32 prod is 4294967296');
    expect(() => reduce('prod', Int32Array.from([65536, 1, 65536, 1]), [2, 2], [0], 'int32')).toThrow('the int32 prod is 4294967296');
    expect(Array.from(reduce('prod', Int32Array.from([46340, 46340]), [2], [0], 'int32'))).toEqual([2147395600]);
  });
});

describe('setBackend', () => {
  it('refuses the factory itself, and objects that are not backends, before any op runs', async () => {
    const before = getBackend();
    await expect(setBackend(cpuBackend as never)).rejects.toThrow(ArgumentError);
    await expect(setBackend(cpuBackend as never)).rejects.toThrow(
      'setBackend: got a function (cpuBackend), not a backend: call the factory first, e.g. setBackend(cpuBackend())',
    );
    await expect(setBackend({ name: 'fake' } as never)).rejects.toThrow(
      "the backend object 'fake' lacks upload, read, fill, cast, unary, binary, where, reduce, matmul, transpose, slice, pad, concat, gather, scatterAdd",
    );
    // One required method missing is named at once, not found by the first op that needs it.
    const { matmul: _omitted, ...noMatmul } = cpuBackend();
    await expect(setBackend({ ...noMatmul, name: 'no-matmul' } as never)).rejects.toThrow(
      "setBackend: the backend object 'no-matmul' lacks matmul",
    );
    await expect(setBackend(null as never)).rejects.toThrow('expected a backend name or object, got null');
    expect(getBackend()).toBe(before);
    expect(tensor([1, 2]).sum().item()).toBe(3);
  });
});
