import '@bp/autograd';
import { ArgumentError, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { SGD } from './index.js';

describe('SGD with the learning rate set only in its parameter groups', () => {
  it("steps as PyTorch's SGD, whose lr may be left out when every group sets one", () => {
    // import torch
    // p = torch.tensor([1., -2.], requires_grad=True); q = torch.tensor([0.5], requires_grad=True)
    // o = torch.optim.SGD([{'params': [p], 'lr': 0.1}, {'params': [q], 'lr': 0.5}], momentum=0.9)
    // for g, h in [([1., 2.], [3.]), ([-1., 0.5], [1.]), ([0.25, 0.25], [-2.])]:
    //     p.grad = torch.tensor(g); q.grad = torch.tensor(h); o.step()
    // p.tolist(), q.tolist()  # [0.894, -2.662], [-3.515]
    const p = tensor([1, -2], { requiresGrad: true });
    const q = tensor([0.5], { requiresGrad: true });
    const opt = new SGD(
      [
        { params: [p], lr: 0.1 },
        { params: [q], lr: 0.5 },
      ],
      { momentum: 0.9 },
    );
    const grads: [number[], number[]][] = [
      [[1, 2], [3]],
      [[-1, 0.5], [1]],
      [[0.25, 0.25], [-2]],
    ];
    for (const [g, h] of grads) {
      p.grad = tensor(g);
      q.grad = tensor(h);
      opt.step();
    }
    const [p0, p1] = p.dataSync();
    expect(p0).toBeCloseTo(0.894, 5);
    expect(p1).toBeCloseTo(-2.662, 5);
    expect(q.dataSync()[0]).toBeCloseTo(-3.515, 5);
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.5]);
  });

  it('still throws, naming SGD, when a group has no lr and there is no default', () => {
    const p = tensor([1]);
    const q = tensor([2]);
    expect(() => new SGD([{ params: [p], lr: 0.1 }, { params: [q] }])).toThrow(ArgumentError);
    expect(() => new SGD([{ params: [p], lr: 0.1 }, { params: [q] }])).toThrow(/^SGD: lr is required/);
    expect(() => new SGD([p], {} as never)).toThrow(/^SGD: lr is required/);
  });
});
