import {
  ArgumentError,
  DTypeError,
  IndexError,
  ShapeError,
  Tensor,
  cast,
  fmtShape,
  ge,
  getBackend,
  le,
  valueChecksOn,
  where,
} from '@bp/tensor';

/**
 * Whether the checks that read values back run now (on the CPU backend by default;
 * elsewhere with `setDebugChecks(true)` or `BP_DEBUG_CHECKS=1`).
 */
export function hostChecks(): boolean {
  return valueChecksOn(getBackend());
}

/**
 * `value` where the int32 0/1 tensor `ok` is all ones, else NaN everywhere: the device-side
 * form of a value check, which reads nothing back and surfaces through the loss
 * (e.g. `fit`'s terminateOnNaN).
 */
export function nanUnless(value: Tensor, ok: Tensor): Tensor {
  return where(ok.min(), value, Number.NaN);
}

/** Int32 0/1: whether every value of `x` lies in `[0, 1]` (computed on the backend). */
export function probabilitiesOk(x: Tensor): Tensor {
  return ge(x, 0).mul(le(x, 1));
}

/** Throws unless `x` is a tensor; returns it as float32 (integer targets are accepted and converted). */
export function floatTensor(loss: string, what: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) {
    throw new ArgumentError(loss, `${what} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  }
  return x.dtype === 'float32' ? x : cast(x, 'float32');
}

/** Element-wise losses compare tensors of one shape; broadcasting `[N,1]` against `[N]` is almost always a bug. */
export function sameShape(loss: string, input: Tensor, target: Tensor): void {
  const a = input.shape;
  const b = target.shape;
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
    throw new ShapeError(loss, `input ${fmtShape(a)} and target ${fmtShape(b)} must have the same shape`);
  }
}

/**
 * Throws unless every value lies in `[0, 1]`; probabilities outside it mean logits were
 * passed by mistake. Reads `x` back, so it runs only where {@link hostChecks} holds.
 */
export function checkProbabilities(loss: string, what: string, x: Tensor, hint: string): void {
  if (!hostChecks()) return;
  const v = x.dataSync();
  for (let i = 0; i < v.length; i++) {
    const p = v[i];
    if (!(p >= 0 && p <= 1)) {
      throw new ArgumentError(loss, `${what} must be probabilities in [0, 1], got ${p} at flat index ${i} of ${fmtShape(x.shape)}${hint}`);
    }
  }
}

/**
 * The probabilities and 0/1 targets of a binary cross-entropy (`bceLoss`, `binaryCrossentropy`):
 * float32 tensors of the same shape with values in [0, 1]; the message for input outside it
 * points at the logits loss.
 */
export function probabilityPair(loss: string, input: unknown, target: unknown): [Tensor, Tensor] {
  const p = floatTensor(loss, 'input', input);
  const y = floatTensor(loss, 'target', target);
  sameShape(loss, p, y);
  checkProbabilities(loss, 'input', p, '; for logits use bceWithLogitsLoss');
  checkProbabilities(loss, 'target', y, '');
  return [p, y];
}

/**
 * Checks int32 class labels against `[N, C]` scores and returns them as an `[N]` tensor (Keras'
 * `[N, 1]` label column is accepted). Their range is checked here by reading them back where that
 * is free ({@link hostChecks}); elsewhere a label out of range makes its row NaN on the backend
 * (`probabilityNll` of @bp/tensor/internal).
 */
export function checkLabels(loss: string, scores: Tensor, labels: unknown): Tensor {
  if (!(labels instanceof Tensor)) {
    throw new ArgumentError(loss, `labels must be an int32 Tensor of class ids, got ${labels === null ? 'null' : typeof labels}`);
  }
  if (labels.dtype !== 'int32') {
    throw new DTypeError(
      loss,
      `labels must be int32 class ids, got ${labels.dtype} ${fmtShape(labels.shape)}; use tensor(ids, { dtype: 'int32' })`,
    );
  }
  if (scores.rank !== 2) {
    throw new ShapeError(loss, `input must be [batch, classes], got ${fmtShape(scores.shape)}`);
  }
  const [n, c] = scores.shape;
  const ls = labels.shape;
  const ok = (ls.length === 1 && ls[0] === n) || (ls.length === 2 && ls[0] === n && ls[1] === 1);
  if (!ok) {
    const oneHot = ls.length === 2 && ls[0] === n && ls[1] === c;
    throw new ShapeError(
      loss,
      `labels ${fmtShape(ls)} do not match input ${fmtShape(scores.shape)}: expected [${n}]` +
        (oneHot ? `; for one-hot labels pass the class ids (labels.argmax(1)) as int32 [${n}]` : ''),
    );
  }
  if (hostChecks()) {
    const v = labels.dataSync();
    for (let i = 0; i < v.length; i++) {
      if (v[i] < 0 || v[i] >= c) {
        throw new IndexError(loss, `label ${v[i]} at position ${i} is out of range for ${c} classes (valid: 0..${c - 1})`);
      }
    }
  }
  return labels.reshape([n]);
}
