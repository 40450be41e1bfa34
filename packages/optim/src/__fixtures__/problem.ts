// Shared by the tests: the problem gen_torch_refs.py runs PyTorch's optimizers on.
import { tensor, type Tensor } from '@bp/tensor';
import refs from './torch-refs.json' with { type: 'json' };

export { refs };

/** Fresh copies of the starting weight W [2,3] and bias b [2]. */
export function startParams(): { w: Tensor; b: Tensor } {
  return {
    w: tensor(refs.problem.w0, { shape: [2, 3], requiresGrad: true }),
    b: tensor(refs.problem.b0, { shape: [2], requiresGrad: true }),
  };
}

const X = tensor(refs.problem.x, { shape: [3, 4] });
const Y = tensor(refs.problem.y, { shape: [2, 4] });

/** mean((W X + b - Y)^2), the loss every trajectory minimises. */
export function problemLoss(w: Tensor, b: Tensor): Tensor {
  return w
    .matmul(X)
    .add(b.reshape([2, 1]))
    .sub(Y)
    .square()
    .mean();
}

/** Passes when every value is within 1e-4 relative (plus 1e-6 absolute) of PyTorch's. */
export function closeTo(actual: ArrayLike<number>, expected: number[], rtol = 1e-4, atol = 1e-6): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} != ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]))) {
      return `[${i}]: got ${actual[i]}, PyTorch ${expected[i]}`;
    }
  }
  return null;
}
