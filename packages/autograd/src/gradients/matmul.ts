import { matmulT, reshape, type MatmulAttrs } from '@bp/tensor';
import type { GradientRules } from './registry.js';
import { sumToShape } from './util.js';

/** The gradient of the matrix product. */
export const matmulGradients: GradientRules<keyof MatmulAttrs> = {
  /**
   * For C = op(A) op(B): dA and dB are products of dC with the other operand,
   * transposed as needed, then summed over broadcast batch axes. (Vector
   * operands reach here already reshaped to matrices by the front-end.)
   */
  matmul: (dy, { inputs: [a, b], attrs: { transA: tA, transB: tB } }) => {
    let dA = null;
    let dB = null;
    if (a.requiresGrad) {
      if (!tA && !tB)
        dA = matmulT(dy, b, false, true); // dC B^T
      else if (tA && !tB)
        dA = matmulT(b, dy, false, true); // B dC^T
      else if (!tA && tB)
        dA = matmulT(dy, b, false, false); // dC B
      else dA = matmulT(b, dy, true, true); // B^T dC^T
      dA = sumToShape(dA, a.shape);
    }
    if (b.requiresGrad && b.rank === 2 && a.rank > 2 && !tA) {
      // One matrix B under a batch of row-major A: sum_t A_t^T dC_t is one product of the stacked
      // rows, [batch * m, k]^T [batch * m, n], instead of a batch of products summed afterwards.
      const k = a.shape[a.rank - 1];
      const n = dy.shape[dy.rank - 1];
      const rows = a.shape.slice(0, -1).reduce((p, d) => p * d, 1);
      const a2 = reshape(a, [rows, k]);
      const dy2 = reshape(dy, [rows, n]);
      dB = tB ? matmulT(dy2, a2, true, false) : matmulT(a2, dy2, true, false);
    } else if (b.requiresGrad) {
      if (!tA && !tB)
        dB = matmulT(a, dy, true, false); // A^T dC
      else if (tA && !tB)
        dB = matmulT(a, dy, false, false); // A dC
      else if (!tA && tB)
        dB = matmulT(dy, a, true, false); // dC^T A
      else dB = matmulT(dy, a, true, true); // dC^T A^T
      dB = sumToShape(dB, b.shape);
    }
    return [dA, dB];
  },
};
