import { tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { graphTensors, noGrad } from './index.js';

describe('graphTensors', () => {
  it('lists each tensor once, after its inputs, ending with the root', () => {
    const w = tensor([0.5, -1], { requiresGrad: true });
    const x = tensor([2, 3]);
    const h = w.mul(x);
    const y = h.add(h).sum(); // h is used twice, listed once
    const order = graphTensors(y);
    expect(order.map((t) => t.id)).toEqual([w.id, x.id, h.id, order[3].id, y.id]);
    expect(order[3].isLeaf).toBe(false);
    expect(order.filter((t) => t.isLeaf).map((t) => t.id)).toEqual([w.id, x.id]);
  });

  it('stops at tensors computed without recording', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const frozen = noGrad(() => w.mul(2));
    const y = frozen.add(w).sum();
    expect(graphTensors(y).map((t) => t.id)).toEqual([frozen.id, w.id, graphTensors(y)[2].id, y.id]);
  });
});
