import '@bp/autograd';
import { tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { klDivLoss } from './kl-div.js';

describe('klDivLoss with a negative target', () => {
  it('gives NaN there, as PyTorch (0 where the target is 0)', () => {
    // python3 -c "import torch,torch.nn.functional as F; print(F.kl_div(torch.tensor([-1.,-2,-3,-1]),torch.tensor([0,0.5,-1,float('nan')]),reduction='none').tolist())"
    const v = klDivLoss(tensor([-1, -2, -3, -1]), tensor([0, 0.5, -1, NaN]), { reduction: 'none' }).dataSync();
    expect(v[0]).toBe(0);
    expect(v[1]).toBeCloseTo(0.6534264087677002, 6);
    expect(v[2]).toBeNaN();
    expect(v[3]).toBeNaN();
    // python3 -c "import torch,torch.nn.functional as F; print(F.kl_div(torch.tensor([-1.,-2]),torch.tensor([0.5,-1]),reduction='sum').tolist())"
    expect(klDivLoss(tensor([-1, -2]), tensor([0.5, -1]), { reduction: 'sum' }).item()).toBeNaN();
  });
});
