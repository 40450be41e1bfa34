import { describe, expect, it } from 'vitest';
import { cummax, cummin, tensor } from '../index.js';

const int32 = (v: number[][]) => tensor(v, { dtype: 'int32' });

describe('cummax and cummin of int32 tensors', () => {
  it('give PyTorch values and indices, the int32 extremes included', () => {
    // python3 -c "import torch; r=torch.cummax(torch.tensor([[1,3,2,3,-2147483648,7],[-2147483648,-2147483648,5,2147483647,2147483647,0]]),1); print(r.values.tolist(), r.indices.tolist())"
    const mx = cummax(
      int32([
        [1, 3, 2, 3, -2147483648, 7],
        [-2147483648, -2147483648, 5, 2147483647, 2147483647, 0],
      ]),
      1,
    );
    expect(mx.values.dtype).toBe('int32');
    expect(mx.indices.dtype).toBe('int32');
    expect(mx.values.toArray()).toEqual([
      [1, 3, 3, 3, 3, 7],
      [-2147483648, -2147483648, 5, 2147483647, 2147483647, 2147483647],
    ]);
    expect(mx.indices.toArray()).toEqual([
      [0, 1, 1, 3, 3, 5],
      [0, 1, 2, 3, 4, 4],
    ]);
    // python3 -c "import torch; r=torch.cummin(torch.tensor([[1,3,0,0,2147483647,-1],[2147483647,2147483647,5,-2147483648,4,-2147483648]]),1); print(r.values.tolist(), r.indices.tolist())"
    const mn = cummin(
      int32([
        [1, 3, 0, 0, 2147483647, -1],
        [2147483647, 2147483647, 5, -2147483648, 4, -2147483648],
      ]),
      1,
    );
    expect(mn.values.dtype).toBe('int32');
    expect(mn.values.toArray()).toEqual([
      [1, 1, 0, 0, 0, -1],
      [2147483647, 2147483647, 5, -2147483648, -2147483648, -2147483648],
    ]);
    expect(mn.indices.toArray()).toEqual([
      [0, 0, 2, 3, 3, 5],
      [0, 1, 2, 3, 3, 5],
    ]);
  });

  it('scan along the first axis', () => {
    // python3 -c "import torch; r=torch.cummax(torch.tensor([[1,3],[0,4],[2,2]]),0); print(r.values.tolist(), r.indices.tolist())"
    const r = cummax(
      int32([
        [1, 3],
        [0, 4],
        [2, 2],
      ]),
      0,
    );
    expect(r.values.toArray()).toEqual([
      [1, 3],
      [1, 4],
      [2, 4],
    ]);
    expect(r.indices.toArray()).toEqual([
      [0, 0],
      [0, 1],
      [2, 1],
    ]);
  });
});
