import { ArgumentError, ShapeError, Tensor, fmtShape, tensor, where } from '@bp/tensor';
import { meanOverKept, softmaxCrossEntropy, composite } from '@bp/tensor/internal';
import { classLabels, classWeights, deviceNll, keptRows, targetWeights, toRows, weightedNll } from './class-targets.js';
import { readReduction, reduce, type LossOptions } from './reduction.js';
import { floatTensor, hostChecks } from './validate.js';

/** Options of {@link crossEntropyLoss} (PyTorch's keyword arguments). */
export interface CrossEntropyOptions extends LossOptions {
  /**
   * Mixes the target with the uniform distribution (PyTorch's
   * `label_smoothing`): the target becomes `(1 - s) onehot + s / C`. 0 by default.
   */
  labelSmoothing?: number;
  /** A weight per class `[C]` (PyTorch's `weight`); the mean then divides by the weights taken. */
  weight?: Tensor;
  /** Class id whose positions add nothing and are left out of the mean (default -100, as PyTorch). */
  ignoreIndex?: number;
}

/**
 * Cross-entropy on raw scores (PyTorch's `CrossEntropyLoss`): `logSoftmax`
 * over the class axis then negative log-likelihood, stable for logits of
 * ±1e4. The input is `[N, C]`, `[N, C, d1, ...]` (per-position classes, as
 * PyTorch) or `[C]`; the target is either int32 class ids of shape
 * `[N, d1, ...]` (`[N, 1]` also accepted for `[N, C]`) or float32 class
 * probabilities of the input's shape. Class weights, `ignoreIndex` and label
 * smoothing follow PyTorch 1.13 exactly. This is the loss for a classifier or language model
 * whose last layer has no softmax.
 *
 * @example
 * const loss = crossEntropyLoss(model.forward(x), labels);
 * crossEntropyLoss(logits, tokens, { ignoreIndex: PAD, labelSmoothing: 0.1 });
 */
export function crossEntropyLoss(logits: Tensor, labels: Tensor, opts?: CrossEntropyOptions): Tensor {
  return composite([logits, labels, opts?.weight], () => {
    const op = 'crossEntropyLoss';
    const reduction = readReduction(op, opts);
    const s = opts?.labelSmoothing ?? 0;
    if (typeof s !== 'number' || !(s >= 0 && s <= 1)) {
      throw new ArgumentError(op, `labelSmoothing must be a number in [0, 1], got ${s}`);
    }
    const ignoreIndex = opts?.ignoreIndex ?? -100;
    if (!Number.isInteger(ignoreIndex)) throw new ArgumentError(op, `ignoreIndex must be an integer, got ${String(ignoreIndex)}`);
    const x = floatTensor(op, 'input', logits);
    if (!(labels instanceof Tensor)) {
      throw new ArgumentError(
        op,
        `labels must be an int32 Tensor of class ids (or probabilities), got ${labels === null ? 'null' : typeof labels}`,
      );
    }
    const r = toRows(op, x);
    const weights = classWeights(op, opts?.weight, r.c);
    const sameShape = labels.shape.length === x.shape.length && labels.shape.every((d, i) => d === x.shape[i]);
    if (labels.dtype === 'int32' && !sameShape && weights === null && s === 0 && !hostChecks()) {
      // Labels left on the backend (no value checks that read back): one fused op, whose
      // out-of-range rows are NaN as deviceNll's. Checked host labels keep the composite below.
      const ids = classLabels(op, r, x, labels, ignoreIndex) as Tensor;
      const loss = softmaxCrossEntropy(r.rows, ids, { ignoreIndex, reduction });
      return reduction === 'none' ? loss.reshape(r.outShape) : loss;
    }
    const logp = r.rows.logSoftmax(-1);
    const wRow = weights instanceof Tensor ? weights : weights ? tensor(weights, { shape: [r.c] }) : null;

    if (labels.dtype === 'float32' && sameShape) {
      // Probability targets: -sum_c w_c t_c log p_c per position, mean over positions.
      let t = toRows(op, labels).rows;
      if (s > 0) t = t.mul(1 - s).add(s / r.c);
      let terms = logp.mul(t);
      if (wRow) terms = terms.mul(wRow);
      const per = terms.sum(-1).neg();
      return reduction === 'none' ? per.reshape(r.outShape) : reduce(per, reduction);
    }
    if (labels.dtype === 'float32' && x.rank >= 1 && labels.rank === x.rank) {
      throw new ShapeError(op, `probability targets must have the input's shape ${fmtShape(x.shape)}, got ${fmtShape(labels.shape)}`);
    }
    const ids = classLabels(op, r, x, labels, ignoreIndex);
    if (ids instanceof Tensor || weights instanceof Tensor) {
      // Labels and weights stay on the backend (no value checks that read back): see deviceNll.
      const wT = weights === null ? null : weights instanceof Tensor ? weights : wRow;
      const d = deviceNll(
        logp,
        ids instanceof Tensor ? ids : tensor(ids, { shape: [ids.length], dtype: 'int32' }),
        wT,
        ignoreIndex,
        reduction,
        r.outShape,
      );
      if (s === 0) return d.loss;
      // Ignored rows are 0 whatever their log-probabilities hold (where, not a product with 0).
      let smooth = where(d.keep, (wT ? logp.mul(wT) : logp).sum(-1).neg(), 0);
      smooth = where(d.ok, smooth, Number.NaN);
      let ret: Tensor;
      if (reduction === 'none') ret = smooth.reshape(r.outShape);
      else if (reduction === 'sum') ret = smooth.sum();
      else ret = meanOverKept(smooth.sum(), wT ? d.w.sum() : d.keep.sum());
      return d.loss.mul(1 - s).add(ret.mul(s / r.c));
    }
    const nll = weightedNll(logp, ids, weights, ignoreIndex, reduction, r.outShape);
    if (s === 0) return nll;
    // PyTorch 1.13 (cross_entropy_loss_label_smoothing): smooth = -sum_c w_c log p_c, zero where ignored;
    // its mean divides by the weights taken when weighted, else by the positions not ignored.
    let smooth = (wRow ? logp.mul(wRow) : logp).sum(-1).neg();
    const { total, anyIgnored, keep, kept } = targetWeights(ids, weights, ignoreIndex);
    if (anyIgnored) smooth = where(keptRows(keep), smooth, 0);
    let ret: Tensor;
    if (reduction === 'none') ret = smooth.reshape(r.outShape);
    else if (reduction === 'sum') ret = smooth.sum();
    else ret = meanOverKept(smooth.sum(), weights ? total : kept);
    return nll.mul(1 - s).add(ret.mul(s / r.c));
  });
}
