import { type Tensor, gt, maximum, where } from '@bp/tensor';
import { composite } from '@bp/tensor/internal';
import { checkBroadcastsTo } from './class-targets.js';
import { readReduction, reduce, type LossOptions } from './reduction.js';
import { floatTensor, hostChecks, nanUnless, probabilitiesOk, probabilityPair } from './validate.js';

/** Options of {@link bceLoss}. */
export interface BceOptions extends LossOptions {
  /** A rescaling weight broadcast against the input (PyTorch's `weight`). */
  weight?: Tensor;
}

/** `log(p)` clamped at -100 as PyTorch does, so p = 0 gives -100, never -Infinity. */
function clampedLog(p: Tensor): Tensor {
  const pos = gt(p, 0);
  // log of 1 where p is 0 keeps the untaken branch finite (a NaN there would leak into the gradient)
  return where(pos, p.where(p, 1).log().maximum(-100), -100);
}

/**
 * Binary cross-entropy on probabilities (PyTorch's `BCELoss`):
 * `-w (y log p + (1 - y) log(1 - p))`, each log clamped at -100, so a
 * probability of exactly 0 or 1 gives a finite loss. Input and target have
 * the same shape with values in [0, 1]; `weight` broadcasts against them.
 * For raw scores use {@link bceWithLogitsLoss}, which is more stable.
 *
 * The gradient with respect to the input is PyTorch's:
 * `w (p - y) / max(p (1 - p), 1e-12)`, which is 0 or ±1e12 at p = 0 or 1
 * (the clamped expression itself would be flat there). The target's gradient
 * is that of the clamped expression.
 */
export function bceLoss(input: Tensor, target: Tensor, opts?: BceOptions): Tensor {
  return composite([input, target, opts?.weight], () => {
    const reduction = readReduction('bceLoss', opts);
    const [p, y] = probabilityPair('bceLoss', input, target);
    const w = opts?.weight === undefined ? null : floatTensor('bceLoss', 'weight', opts.weight);
    if (w) checkBroadcastsTo('bceLoss', 'weight', w, p.shape);
    const pd = p.detach();
    let value = y
      .mul(clampedLog(pd))
      .add(
        y
          .neg()
          .add(1)
          .mul(clampedLog(pd.neg().add(1))),
      )
      .neg();
    if (w) value = value.mul(w);
    // PyTorch's input gradient, attached through a term that is exactly zero in value.
    let g = pd.sub(y.detach()).div(maximum(pd.mul(pd.neg().add(1)), 1e-12));
    if (w) g = g.mul(w.detach());
    const surrogate = p.mul(g);
    const out = reduce(value.add(surrogate.sub(surrogate.detach())), reduction);
    // Without host checks, an input or target outside [0, 1] makes the loss NaN instead of an error.
    return hostChecks() ? out : nanUnless(out, probabilitiesOk(p).mul(probabilitiesOk(y)));
  });
}
