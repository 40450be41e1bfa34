// detectAnomaly blames the op that first produced NaN or Infinity, not the ops that merely
// carried it along afterwards, in the forward pass and in the backward pass.
import { tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { AnomalyError, detectAnomaly } from './index.js';

function anomaly(fn: () => unknown): AnomalyError {
  try {
    detectAnomaly(fn);
  } catch (e) {
    expect(e).toBeInstanceOf(AnomalyError);
    return e as AnomalyError;
  }
  throw new Error('expected an AnomalyError');
}

describe('detectAnomaly names the first op to go non-finite', () => {
  it('in a forward chain, the op that made the NaN, not the ones after it', () => {
    const e = anomaly(() => {
      const x = tensor([4, -1, 9]);
      const y = x.mul(2).add(1); // finite
      const z = y.sqrt(); // NaN for the negative entry
      return z.exp().add(1).log().sum(); // would carry the NaN on
    });
    expect(e.message).toMatch(/'sqrt'/);
    expect(e.message).toMatch(/NaN/);
    expect(e.message).not.toMatch(/'(exp|log|sum)'/);
  });

  it('an overflow to Infinity is blamed on the op that overflowed', () => {
    const e = anomaly(() => tensor([1, 100]).mul(10).exp().div(2).sum());
    expect(e.message).toMatch(/'exp'/);
    expect(e.message).toMatch(/Infinity/);
  });

  it('in the backward pass, the gradient rule that produced it', () => {
    const e = anomaly(() => {
      const x = tensor([0, 1], { requiresGrad: true });
      // Forward is finite everywhere; d sqrt(x)/dx at 0 is Infinity.
      x.sqrt().mul(3).sum().backward();
    });
    expect(e.message).toMatch(/'sqrt'/);
    expect(e.message).toMatch(/backward|gradient/i);
  });
});

describe('detectAnomaly and matmulT', () => {
  it('says which input matmulT transposed, so [1,2] and [1,2] do not read as a mismatch', async () => {
    const { matmulT } = await import('@bp/tensor');
    // 1e30 · 1e30 + 1e30 · 1e30 overflows float32, as in a Linear layer's x @ Wᵀ.
    const e = anomaly(() => matmulT(tensor([[1e30, 1e30]]), tensor([[1e30, 1e30]]), false, true));
    expect(e.message).toBe(
      "detectAnomaly: op 'matmul' produced Infinity at flat index 0 of [1,1] from inputs [1,2], [1,2] (computed as [1,2] @ [1,2]ᵀ)",
    );
    const t = anomaly(() => matmulT(tensor([[1e30], [1e30]]), tensor([[1e30], [1e30]]), true, false));
    expect(t.message).toMatch(/from inputs \[2,1\], \[2,1\] \(computed as \[2,1\]ᵀ @ \[2,1\]\)$/);
    // A plain product needs no note.
    expect(anomaly(() => matmulT(tensor([[1e30, 1e30]]), tensor([[1e30], [1e30]]), false, false)).message).toMatch(
      /from inputs \[1,2\], \[2,1\]$/,
    );
  });
});
