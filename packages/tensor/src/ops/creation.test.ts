// tensor() on hostile user data: a BpError naming the op, never a TypeError or a stack overflow.
import { describe, expect, it } from 'vitest';
import { ArgumentError, DTypeError, ShapeError, tensor } from '../index.js';

describe('tensor() refuses', () => {
  it('BigInt64Array and BigUint64Array data, at the top level or nested, naming the array and where it is', () => {
    expect(() => tensor(new BigInt64Array([1n, 2n]) as never)).toThrow(DTypeError);
    expect(() => tensor(new BigInt64Array([1n, 2n]) as never)).toThrow(/^tensor: a BigInt64Array at the top level holds BigInt values/);
    expect(() => tensor(new BigUint64Array([1n]) as never, { dtype: 'int32' })).toThrow(DTypeError);
    expect(() => tensor([new BigInt64Array([1n])] as never)).toThrow(/^tensor: a BigInt64Array at \[0\] holds BigInt values/);
  });

  it('nested arrays deeper than 64 levels, instead of overflowing the stack', () => {
    let deep: unknown = [1];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => tensor(deep as never)).toThrow(ShapeError);
    expect(() => tensor(deep as never)).toThrow(/^tensor: nested arrays deeper than 64 levels/);
    let ok: unknown = 1;
    for (let i = 0; i < 64; i++) ok = [ok];
    expect(tensor(ok as never).rank).toBe(64);
  });

  it('options that are not an object', () => {
    expect(() => tensor([1], null as never)).toThrow(ArgumentError);
    expect(() => tensor([1], null as never)).toThrow(/^tensor: options must be an object/);
    expect(() => tensor([1], 'int32' as never)).toThrow(/got string/);
    expect(tensor([1], undefined).shape).toEqual([1]);
  });

  it('still reads other typed arrays as numbers', () => {
    expect(Array.from(tensor(new Float64Array([1.5, -2])).dataSync())).toEqual([1.5, -2]);
    expect(tensor(new Uint8Array([1, 255]), { dtype: 'int32' }).toArray()).toEqual([1, 255]);
  });
});
