import { getBackend } from '../backend/registry.js';
import { valueChecksOn } from '../debug-checks.js';
import { record } from '../engine.js';
import { ArgumentError, DTypeError, IndexError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { arange } from './creation.js';
import { add, cast, clamp, div, eq, exp, ge, gt, log, lt, mul, neg, sub, where } from './elementwise.js';
import { gather, reshape } from './movement.js';
import { logSoftmax } from './nn.js';
import { sum } from './reduce.js';
import { checkTensor, make } from './util.js';

/** How {@link softmaxCrossEntropy} reduces its per-row losses (PyTorch's `reduction`). */
export type CrossEntropyReduction = 'mean' | 'sum' | 'none';

/** Options of {@link softmaxCrossEntropy}. */
export interface SoftmaxCrossEntropyOptions {
  /** A class id whose rows add nothing and are left out of the mean (default -100, as PyTorch). */
  ignoreIndex?: number;
  /** `'mean'` over the rows not ignored (the default), `'sum'`, or `'none'` (one loss per row). */
  reduction?: CrossEntropyReduction;
}

const OP = 'softmaxCrossEntropy';

/**
 * Cross-entropy of raw scores `logits: [rows, classes]` against int32 class ids
 * `labels: [rows]` (PyTorch's `F.cross_entropy` for 2-D input without class weights or
 * label smoothing): per row `logSumExp(logits[i]) - logits[i, labels[i]]`, 0 where the
 * label is `ignoreIndex`; then the mean over the rows not ignored (NaN when all are, as
 * PyTorch), the sum, or the rows themselves. Its gradient is `softmax - onehot`, scaled
 * as the reduction scales the rows and zero on ignored rows.
 *
 * A label that is neither a class id in `[0, classes)` nor `ignoreIndex` throws an
 * `IndexError` where value checks are on (the CPU backend; elsewhere
 * `setDebugChecks(true)`); otherwise its row is NaN, and so is a mean or sum, which
 * needs no read back from the device.
 *
 * On backends with fused `crossEntropy` kernels this is one recorded op (a log-sum-exp
 * and a reduction kernel forward, one kernel backward); elsewhere it is composed of
 * `logSoftmax`, `gather` and `where`, with the same values within float32 rounding.
 * Internal: `crossEntropyLoss` of @bp/losses is the public loss.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, opts: SoftmaxCrossEntropyOptions = {}): Tensor {
  checkTensor(OP, logits, 'logits');
  checkTensor(OP, labels, 'labels');
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const reduction = opts.reduction ?? 'mean';
  if (!Number.isInteger(ignoreIndex)) throw new ArgumentError(OP, `ignoreIndex must be an integer, got ${String(ignoreIndex)}`);
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new ArgumentError(OP, `reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  }
  if (logits.dtype !== 'float32') throw new DTypeError(OP, `logits must be float32, got ${logits.dtype} ${fmtShape(logits.shape)}`);
  if (labels.dtype !== 'int32') throw new DTypeError(OP, `labels must be int32 class ids, got ${labels.dtype} ${fmtShape(labels.shape)}`);
  if (logits.rank !== 2) throw new ShapeError(OP, `logits must be [rows, classes], got ${fmtShape(logits.shape)}`);
  const [m, c] = logits.shape;
  if (labels.rank !== 1 || labels.shape[0] !== m) {
    throw new ShapeError(OP, `labels must be [${m}] (one per row of logits ${fmtShape(logits.shape)}), got ${fmtShape(labels.shape)}`);
  }
  const b = getBackend();
  if (valueChecksOn(b)) {
    const v = labels.dataSync();
    for (let i = 0; i < v.length; i++) {
      if ((v[i] < 0 || v[i] >= c) && v[i] !== ignoreIndex) {
        throw new IndexError(
          OP,
          `label ${v[i]} at position ${i} is out of range for ${c} classes (valid: 0..${c - 1}, or ignoreIndex ${ignoreIndex})`,
        );
      }
    }
  }
  const fwd = b.fused?.crossEntropy;
  if (fwd && b.fused?.crossEntropyBackward && m * c > 0) {
    const [loss, lse] = fwd(logits._on(b), labels._on(b), m, c, ignoreIndex, reduction);
    const out = make(loss, reduction === 'none' ? [m] : [], 'float32');
    return record(OP, [logits, labels], out, { ignoreIndex, reduction }, [make(lse, [m], 'float32')]);
  }
  const { picked, ok, keep } = nllTerms(logSoftmax(logits, -1), labels, ignoreIndex);
  const per = where(ok, mul(picked, keep), Number.NaN);
  if (reduction === 'none') return per;
  if (reduction === 'sum') return sum(per);
  return meanOverKept(sum(per), sum(keep));
}

/**
 * `sum / count` for a mean over the positions (or weights) a loss kept, as PyTorch's: NaN when
 * `count` is 0 (every label ignored), but with a gradient of 0 then, not NaN (PyTorch's NLL
 * backward skips ignored rows, as the fused kernels do), so one batch of nothing but padding leaves
 * the parameters as they are. `count` is a host number or a one-value tensor on the backend. Internal.
 */
export function meanOverKept(total: Tensor, count: number | Tensor): Tensor {
  if (typeof count === 'number') return count === 0 ? add(mul(total, 0), Number.NaN) : div(total, count);
  const none = eq(count, 0);
  return add(div(total, where(none, 1, count)), where(none, Number.NaN, 0));
}

/** What {@link nllTerms} gives per row of `[rows, classes]` log-probabilities. */
export interface NllTerms {
  /** Float32 `[rows]`: `-logp[i, labels[i]]` (0 where the label is `ignoreIndex`, `-logp[i, 0]` where it is out of range). */
  picked: Tensor;
  /** Int32 0/1 `[rows]`: the label is a class id in `[0, classes)`. */
  inRange: Tensor;
  /** Int32 0/1 `[rows]`: the label is `ignoreIndex`. */
  ignored: Tensor;
  /** Int32 0/1 `[rows]`: in range or ignored (the other rows are made NaN by the losses). */
  ok: Tensor;
  /** Float32 `[rows]`: 0 where the label is `ignoreIndex`, else 1. */
  keep: Tensor;
}

/**
 * The negative log-likelihood terms of int32 class ids `labels: [rows]` in log-probabilities
 * `logp: [rows, classes]`, with the masks the losses build on, all computed on the backend
 * (nothing is read back): the composite form of {@link softmaxCrossEntropy}, and the core of
 * @bp/losses' device-side NLL (which adds class weights). Internal.
 */
export function nllTerms(logp: Tensor, labels: Tensor, ignoreIndex: number): NllTerms {
  const { picked: raw, inRange } = pickNegated(logp, labels);
  const ignored = eq(labels, ignoreIndex);
  const ok = gt(add(inRange, ignored), 0);
  const keep = add(neg(cast(ignored, 'float32')), 1);
  // 0 on ignored rows whatever their log-probabilities hold: a -Infinity or NaN there would make
  // the row's weight of 0 give NaN (PyTorch skips those rows).
  const picked = where(ignored, 0, raw);
  return { picked, inRange, ignored, ok, keep };
}

/**
 * `-scores[i, labels[i]]` per row of `[rows, classes]` scores (`-scores[i, 0]` where the label is out
 * of range), and the int32 0/1 `[rows]` mask of labels in `[0, classes)`, on the backend.
 */
function pickNegated(scores: Tensor, labels: Tensor): { picked: Tensor; inRange: Tensor } {
  const [m, c] = scores.shape;
  const inRange = mul(ge(labels, 0), lt(labels, c));
  const flat = add(arange(0, m * c, c, { dtype: 'int32' }), where(inRange, labels, 0));
  return { picked: neg(gather(reshape(scores, [m * c]), flat)), inRange };
}

/**
 * The gradient of {@link softmaxCrossEntropy} for the gradient `dy` of its output (a
 * scalar, or `[rows]` for reduction `'none'`): `(exp(logits - lse) - onehot(labels)) * g`
 * per row, where `g` is `dy` (`'sum'`), `dy / rowsKept` (`'mean'`) or `dy[i]` (`'none'`),
 * and 0 on rows whose label is ignored or out of range. `lse` is the per-row
 * log-sum-exp saved by the forward pass. One kernel on backends with a fused one.
 * Not itself differentiable.
 */
export function softmaxCrossEntropyBackward(
  dy: Tensor,
  logits: Tensor,
  labels: Tensor,
  lse: Tensor,
  ignoreIndex: number,
  reduction: CrossEntropyReduction,
): Tensor {
  const [m, c] = logits.shape;
  const b = getBackend();
  const fused = b.fused?.crossEntropyBackward;
  if (fused && dy.dtype === 'float32') {
    return make(fused(dy._on(b), logits._on(b), labels._on(b), lse._on(b), m, c, ignoreIndex, reduction), [m, c], 'float32');
  }
  const col = reshape(labels, [m, 1]);
  const onehot = cast(eq(arange(0, c, 1, { dtype: 'int32' }), col), 'float32');
  const keep = cast(mul(mul(ge(labels, 0), lt(labels, c)), sub(1, eq(labels, ignoreIndex))), 'float32');
  let g: Tensor;
  if (reduction === 'none') g = mul(dy, keep);
  else if (reduction === 'sum') g = mul(keep, dy);
  else {
    // Every label ignored: a zero gradient (as the fused kernels give), not 0 * Infinity.
    const kept = sum(cast(sub(1, eq(labels, ignoreIndex)), 'float32'));
    g = mul(keep, div(dy, where(eq(kept, 0), 1, kept)));
  }
  return mul(sub(exp(sub(logits, reshape(lse, [m, 1]))), onehot), reshape(g, [m, 1]));
}

/** Options of {@link probabilityNll}. */
export interface ProbabilityNllOptions {
  /** The clip: each rescaled probability is kept in `[eps, 1 - eps]` before the log (Keras' `epsilon()`, 1e-7, by default). */
  eps?: number;
}

const PROB_OP = 'probabilityNll';

/**
 * Keras' negative log-likelihood of predicted probabilities `probs: [rows, classes]` (the
 * output of a softmax) at int32 class ids `labels: [rows]`: per row
 * `-log(clamp(probs[i, labels[i]] / sum(probs[i]), eps, 1 - eps))`, the rescaling and clip of
 * Keras' `sparse_categorical_crossentropy`. A row whose label is not a class id in
 * `[0, classes)` is NaN and adds nothing to the gradient (nothing is read back to check it).
 * Returns `[rows]`; the loss reduces them. Its gradient is zero where the clip holds, as the
 * composite's.
 *
 * On backends with fused `probabilityNll` kernels this is one recorded op (one pass over the
 * rows forward, one backward); elsewhere it is composed of `sum`, `div`, `clamp`, `log` and
 * `gather`, with the same values within float32 rounding. Internal:
 * `sparseCategoricalCrossentropy` of @bp/losses is the public loss.
 */
export function probabilityNll(probs: Tensor, labels: Tensor, opts: ProbabilityNllOptions = {}): Tensor {
  checkTensor(PROB_OP, probs, 'probs');
  checkTensor(PROB_OP, labels, 'labels');
  const eps = opts.eps ?? 1e-7;
  if (typeof eps !== 'number' || !(eps >= 0 && eps < 0.5))
    throw new ArgumentError(PROB_OP, `eps must be a number in [0, 0.5), got ${String(eps)}`);
  if (probs.dtype !== 'float32') throw new DTypeError(PROB_OP, `probs must be float32, got ${probs.dtype} ${fmtShape(probs.shape)}`);
  if (labels.dtype !== 'int32')
    throw new DTypeError(PROB_OP, `labels must be int32 class ids, got ${labels.dtype} ${fmtShape(labels.shape)}`);
  if (probs.rank !== 2) throw new ShapeError(PROB_OP, `probs must be [rows, classes], got ${fmtShape(probs.shape)}`);
  const [m, c] = probs.shape;
  if (labels.rank !== 1 || labels.shape[0] !== m) {
    throw new ShapeError(PROB_OP, `labels must be [${m}] (one per row of probs ${fmtShape(probs.shape)}), got ${fmtShape(labels.shape)}`);
  }
  const b = getBackend();
  const fwd = b.fused?.probabilityNll;
  if (fwd && b.fused?.probabilityNllBackward && m * c > 0) {
    const [loss, sums] = fwd(probs._on(b), labels._on(b), m, c, eps);
    return record(PROB_OP, [probs, labels], make(loss, [m], 'float32'), { eps }, [make(sums, [m], 'float32')]);
  }
  const { picked, inRange } = pickNegated(log(clamp(div(probs, sum(probs, -1, true)), eps, 1 - eps)), labels);
  return where(inRange, picked, Number.NaN);
}

/**
 * The gradient of {@link probabilityNll} for the gradient `dy: [rows]` of its output, from the
 * row sums `sums: [rows]` its forward pass saved: per row with label `l` and `q = probs[l] / sum`
 * inside the clip, `g = -dy / q`, then `g / sum` at `l` and `-g q / sum` added to every class
 * (the rescaling's gradient); 0 on rows clipped or whose label is out of range. The backend's
 * fused kernel (the op is recorded only where there is one). Not itself differentiable.
 */
export function probabilityNllBackward(dy: Tensor, probs: Tensor, labels: Tensor, sums: Tensor, eps: number): Tensor {
  const [m, c] = probs.shape;
  const b = getBackend();
  const fused = b.fused?.probabilityNllBackward;
  if (!fused) throw new ArgumentError(PROB_OP, `backend ${b.name} has no fused probabilityNllBackward kernel for a fused probabilityNll`);
  const g = dy.dtype === 'float32' ? dy : cast(dy, 'float32');
  return make(fused(g._on(b), probs._on(b), labels._on(b), sums._on(b), m, c, eps), [m, c], 'float32');
}
