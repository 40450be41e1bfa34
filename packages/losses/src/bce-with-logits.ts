import { type Tensor, exp, log } from '@bp/tensor';
import { composite } from '@bp/tensor/internal';
import { checkBroadcastsTo } from './class-targets.js';
import { readReduction, reduce, type LossOptions } from './reduction.js';
import { checkProbabilities, floatTensor, hostChecks, nanUnless, probabilitiesOk, sameShape } from './validate.js';

/** Options of {@link bceWithLogitsLoss}. */
export interface BceWithLogitsOptions extends LossOptions {
  /**
   * Weight of the positive term, broadcast against the last axis (PyTorch's
   * `pos_weight`): above 1 raises recall on rare positives.
   */
  posWeight?: Tensor;
  /** A rescaling weight broadcast against the input (PyTorch's `weight`). */
  weight?: Tensor;
}

/**
 * Binary cross-entropy on logits (PyTorch's `BCEWithLogitsLoss`): the same
 * value as `bceLoss(sigmoid(x), y)` computed stably as
 * `max(x, 0) - x y + log(1 + exp(-|x|))`, finite for logits of ±1e4.
 */
export function bceWithLogitsLoss(input: Tensor, target: Tensor, opts?: BceWithLogitsOptions): Tensor {
  return composite([input, target, opts?.weight, opts?.posWeight], () => {
    const reduction = readReduction('bceWithLogitsLoss', opts);
    const x = floatTensor('bceWithLogitsLoss', 'input', input);
    const y = floatTensor('bceWithLogitsLoss', 'target', target);
    sameShape('bceWithLogitsLoss', x, y);
    checkProbabilities('bceWithLogitsLoss', 'target', y, '');
    // softplus(-x) = log(1 + exp(-x)) = m + log(exp(-m) + exp(-x - m)) with m = max(-x, 0)
    // held constant: the same value as log(1 + exp(-|x|)) + max(-x, 0), but with the
    // exact gradient sigmoid(x) - 1 everywhere, x = 0 included (abs and relu would
    // each contribute a one-sided derivative there).
    const nx = x.neg();
    const m = nx.relu().detach();
    const softplusNeg = log(exp(m.neg()).add(exp(nx.sub(m)))).add(m);
    // BCE(x, y) = (1 - y) x + softplus(-x); with pos_weight w: (1 - y) x + (1 + (w - 1) y) softplus(-x)
    const pw = opts?.posWeight;
    let loss: Tensor;
    if (pw === undefined) {
      loss = y.neg().add(1).mul(x).add(softplusNeg);
    } else {
      const w = floatTensor('bceWithLogitsLoss', 'posWeight', pw);
      checkBroadcastsTo('bceWithLogitsLoss', 'posWeight', w, x.shape);
      const scale = w.sub(1).mul(y).add(1);
      loss = y.neg().add(1).mul(x).add(scale.mul(softplusNeg));
    }
    if (opts?.weight !== undefined) {
      const w = floatTensor('bceWithLogitsLoss', 'weight', opts.weight);
      checkBroadcastsTo('bceWithLogitsLoss', 'weight', w, x.shape);
      loss = loss.mul(w);
    }
    const out = reduce(loss, reduction);
    return hostChecks() ? out : nanUnless(out, probabilitiesOk(y));
  });
}
