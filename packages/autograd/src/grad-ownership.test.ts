// A leaf's gradient made by the backward pass becomes `.grad` without a copy when nothing else
// sees its storage; gradients that share storage (a rule handing the same tensor to two inputs,
// a caller's seed) are still copied, so no two `.grad` tensors ever alias.
import { describe, expect, it } from 'vitest';
import { tensor } from '@bp/tensor';
import './index.js';

describe('who owns a leaf gradient', () => {
  it('two inputs given the same upstream gradient get separate .grad tensors', () => {
    const a = tensor([1, 2, 3], { requiresGrad: true });
    const b = tensor([4, 5, 6], { requiresGrad: true });
    a.add(b).sum().backward();
    expect(a.grad!.toArray()).toEqual([1, 1, 1]);
    expect(b.grad!.toArray()).toEqual([1, 1, 1]);
    // A second pass adds into each in place: neither may see the other's additions.
    a.add(b).mul(2).sum().backward();
    expect(a.grad!.toArray()).toEqual([3, 3, 3]);
    expect(b.grad!.toArray()).toEqual([3, 3, 3]);
    a.grad!.assign(tensor([0, 0, 0]));
    expect(b.grad!.toArray()).toEqual([3, 3, 3]);
  });

  it('a caller-supplied seed is copied, never adopted', () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const seed = tensor([5, 7]);
    a.reshape([2]).backward(seed);
    expect(a.grad!.toArray()).toEqual([5, 7]);
    seed.assign(tensor([0, 0]));
    expect(a.grad!.toArray()).toEqual([5, 7]);
    seed.dispose();
    expect(a.grad!.toArray()).toEqual([5, 7]);
  });

  it('a gradient made by the pass is adopted and survives the pass', () => {
    const w = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    const x = tensor([
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    const y = x.matmul(w).sum();
    y.backward();
    expect(w.grad!.toArray()).toEqual([
      [2, 2],
      [2, 2],
    ]);
    // Later passes accumulate into it in place.
    x.matmul(w).sum().backward();
    expect(w.grad!.toArray()).toEqual([
      [4, 4],
      [4, 4],
    ]);
  });
});
