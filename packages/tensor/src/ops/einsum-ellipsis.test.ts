import { describe, expect, it } from 'vitest';
import { arange, einsum, tensor } from '../index.js';

describe('einsum with an output term that leaves out the ellipsis', () => {
  // python3 -c "import torch; x=torch.arange(24.).reshape(2,3,4)+0.5; print(torch.einsum('b...,b...->b',x,x).tolist(), torch.einsum('...ij->j',x).tolist(), torch.einsum('...i,i->',x,torch.tensor([1.,2,3,4])).tolist(), torch.einsum('i...,...->i',x,torch.tensor([1.,2,3,4])).tolist())"
  const x = arange(24).reshape([2, 3, 4]).add(0.5);

  it("sums the '...' axes, as PyTorch", () => {
    const perRow = einsum('b...,b...->b', x, x);
    expect(perRow.shape).toEqual([2]);
    expect(perRow.toArray()).toEqual([575, 4031]);
    expect(einsum('...ij->j', x).toArray()).toEqual([63, 69, 75, 81]);
    const all = einsum('...i,i->', x, tensor([1, 2, 3, 4]));
    expect(all.shape).toEqual([]);
    expect(all.item()).toBe(750);
    expect(einsum('i...,...->i', x, tensor([1, 2, 3, 4])).toArray()).toEqual([195, 555]);
  });
});
