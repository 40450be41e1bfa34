import { noGrad } from '@bp/autograd';
import { ArgumentError, BpError, Tensor, div, scalar, stack } from '@bp/tensor';
import { scaleInPlace, sumOfSquares } from '@bp/tensor/internal';

/** Options of {@link clipGradNorm}. */
export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or infinite (reads the norm back, a device sync on GPU backends); false by default. */
  errorIfNonfinite?: boolean;
}

function gradsOf(op: string, params: Iterable<Tensor> | Tensor): Tensor[] {
  const iterable = params !== null && typeof params === 'object' && Symbol.iterator in params;
  if (!(params instanceof Tensor) && !iterable) {
    throw new ArgumentError(
      op,
      `params must be a Tensor or an iterable of Tensors (model.parameters()), got ${params === null ? 'null' : typeof params}`,
    );
  }
  const list = params instanceof Tensor ? [params] : [...params];
  const grads: Tensor[] = [];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new ArgumentError(op, `parameter ${i} is not a Tensor`);
    if (p.grad !== null) grads.push(p.grad);
  });
  return grads;
}

/**
 * Rescales the gradients of `params` in place so that their joint `normType`
 * norm (as if all were concatenated into one vector) is at most `maxNorm`,
 * and returns that norm before clipping as a 0-d tensor
 * (`torch.nn.utils.clip_grad_norm_`). `normType` may be `Infinity`.
 * Parameters without a gradient are ignored. The gradients are scaled by
 * `maxNorm / (norm + 1e-6)` when that is below 1, as PyTorch does.
 *
 * On the CPU backend the 2-norm is one pass over each gradient, squared and
 * summed in float64, and the rescale writes into the gradients' own arrays
 * (no new arrays a step); other backends compose it from ops, with the same
 * values within float32 rounding.
 *
 * @example
 * loss.backward();
 * clipGradNorm(model.parameters(), 1.0);
 * opt.step();
 */
export function clipGradNorm(params: Iterable<Tensor> | Tensor, maxNorm: number, normType = 2, opts: ClipGradNormOptions = {}): Tensor {
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm) || maxNorm < 0) {
    throw new ArgumentError('clipGradNorm', `maxNorm must be a number >= 0, got ${String(maxNorm)}`);
  }
  if (typeof normType !== 'number' || !(normType > 0)) {
    throw new ArgumentError('clipGradNorm', `normType must be a number > 0 or Infinity, got ${String(normType)}`);
  }
  const grads = gradsOf('clipGradNorm', params);
  if (grads.length === 0) return scalar(0);
  return noGrad(() => {
    let total: Tensor;
    if (normType === Infinity) {
      total = stack(grads.map((g) => g.abs().max())).max();
    } else if (normType === 2) {
      // One pass over each gradient, no squared copies (where the backend has the kernel).
      total = sumOfSquares(grads).sqrt();
    } else {
      // (sum_i sum |g_i|^p)^(1/p) equals PyTorch's norm of the per-tensor norms.
      const powered = grads.map((g) => (normType === 1 ? g.abs() : g.abs().pow(normType)).sum());
      const s = powered.length === 1 ? powered[0] : stack(powered).sum();
      total = normType === 1 ? s : s.pow(1 / normType);
    }
    if (opts.errorIfNonfinite && !Number.isFinite(total.item())) {
      throw new BpError(
        'clipGradNorm',
        `the total norm of order ${normType} of the gradients is ${total.item()}; set errorIfNonfinite: false to clip anyway`,
      );
    }
    const coef = div(maxNorm, total.add(1e-6)).minimum(1);
    scaleInPlace(grads, coef);
    return total;
  });
}

/**
 * Clamps every gradient of `params` in place to `[-clipValue, clipValue]`
 * (`torch.nn.utils.clip_grad_value_`).
 */
export function clipGradValue(params: Iterable<Tensor> | Tensor, clipValue: number): void {
  if (typeof clipValue !== 'number' || !(clipValue >= 0)) {
    throw new ArgumentError('clipGradValue', `clipValue must be a number >= 0, got ${String(clipValue)}`);
  }
  const grads = gradsOf('clipGradValue', params);
  noGrad(() => {
    for (const g of grads) g.assign(g.clamp(-clipValue, clipValue));
  });
}
