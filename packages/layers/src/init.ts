import { ArgumentError, type Tensor, uniform } from '@bp/tensor';

/**
 * The bound of PyTorch's `kaiming_uniform_(w, a)` with fan-in mode and the
 * leaky-ReLU gain: `gain * sqrt(3 / fanIn)` with `gain = sqrt(2 / (1 + a^2))`.
 * With `a = sqrt(5)` (what `nn.Linear` and `nn.Conv2d` use) it is `1 / sqrt(fanIn)`.
 */
export function kaimingUniformBound(fanIn: number, a = Math.sqrt(5)): number {
  if (!Number.isInteger(fanIn) || fanIn <= 0) {
    throw new ArgumentError('kaimingUniform', `fanIn must be a positive integer, got ${fanIn}`);
  }
  const gain = Math.sqrt(2 / (1 + a * a));
  return gain * Math.sqrt(3 / fanIn);
}

/**
 * A tensor of `shape` drawn from U(-bound, bound) with PyTorch's
 * `kaiming_uniform_` bound (see {@link kaimingUniformBound}), from the
 * generator seeded by `manualSeed`.
 */
export function kaimingUniform(shape: number[], fanIn: number, a = Math.sqrt(5)): Tensor {
  const bound = kaimingUniformBound(fanIn, a);
  return uniform(shape, -bound, bound);
}

/** PyTorch's default bias init for Linear and Conv2d: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
export function fanInUniform(shape: number[], fanIn: number): Tensor {
  if (!Number.isInteger(fanIn) || fanIn <= 0) {
    throw new ArgumentError('fanInUniform', `fanIn must be a positive integer, got ${fanIn}`);
  }
  const bound = 1 / Math.sqrt(fanIn);
  return uniform(shape, -bound, bound);
}
