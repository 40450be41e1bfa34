import { describe, expect, it } from 'vitest';
import { slice } from './movement.js';

describe('CPU slice', () => {
  const x = Float32Array.from({ length: 24 }, (_, i) => i);
  const shape = [4, 3, 2];

  it('returns a view for a run of whole rows, sharing memory with the input', () => {
    const rows = slice(x, shape, [1, 0, 0], [2, 3, 2], 'float32');
    expect(Array.from(rows)).toEqual(Array.from({ length: 12 }, (_, i) => i + 6));
    expect(rows.buffer).toBe(x.buffer);
  });

  it('returns a view inside one leading index too ([1, 1:3, :])', () => {
    const part = slice(x, shape, [1, 1, 0], [1, 2, 2], 'float32');
    expect(Array.from(part)).toEqual([8, 9, 10, 11]);
    expect(part.buffer).toBe(x.buffer);
  });

  it('copies when the region is not contiguous', () => {
    const cols = slice(x, shape, [0, 0, 1], [4, 3, 1], 'float32');
    expect(Array.from(cols)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23]);
    expect(cols.buffer).not.toBe(x.buffer);
  });

  it('copies when the dtype changes', () => {
    const asInt = slice(x, shape, [0, 0, 0], [1, 3, 2], 'int32');
    expect(asInt).toBeInstanceOf(Int32Array);
    expect(Array.from(asInt)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
