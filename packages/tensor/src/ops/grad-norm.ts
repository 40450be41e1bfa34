import { getBackend } from '../backend/registry.js';
import { setGradEnabled } from '../engine.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../errors.js';
import { bumpVersion, ensureExclusive, type Tensor } from '../tensor.js';
import { scalar } from './creation.js';
import { mul, square } from './elementwise.js';
import { stack } from './movement.js';
import { sum } from './reduce.js';
import { checkTensor, make } from './util.js';

function checkList(op: string, xs: readonly Tensor[]): void {
  if (!Array.isArray(xs)) throw new ArgumentError(op, `xs must be an array of Tensors, got ${xs === null ? 'null' : typeof xs}`);
  xs.forEach((x, i) => {
    checkTensor(op, x, `xs[${i}]`);
    if (x.dtype !== 'float32') throw new DTypeError(op, `xs[${i}] must be float32, got ${x.dtype} ${fmtShape(x.shape)}`);
  });
}

/** Runs `fn` with op recording off (the result carries no gradient on any path). */
function unrecorded<T>(fn: () => T): T {
  const prev = setGradEnabled(false);
  try {
    return fn();
  } finally {
    setGradEnabled(prev);
  }
}

/**
 * The sum of the squares of every value of the float32 tensors `xs` as one 0-d float32 tensor:
 * the squared 2-norm of all of them as if concatenated into one vector, what gradient clipping
 * (`clipGradNorm`, PyTorch's `clip_grad_norm_`) needs. On backends with the fused kernel (the CPU
 * backend) it is one pass over each tensor with no squared copy, squaring and summing in float64
 * and rounding once; elsewhere it is composed, `sum(stack(xs.map((x) => sum(square(x)))))` in
 * float32, which agrees within float32 rounding. 0 for an empty list. Not recorded by autograd: the
 * result carries no gradient.
 */
export function sumOfSquares(xs: readonly Tensor[]): Tensor {
  const op = 'sumOfSquares';
  checkList(op, xs);
  if (xs.length === 0) return scalar(0);
  const b = getBackend();
  const kernel = b.fused?.sumOfSquares;
  if (kernel !== undefined) {
    return make(
      kernel(
        xs.map((x) => x._on(b)),
        xs.map((x) => x.size),
      ),
      [],
      'float32',
    );
  }
  return unrecorded(() => {
    const each = xs.map((x) => sum(square(x)));
    return each.length === 1 ? each[0] : sum(stack(each));
  });
}

/**
 * Multiplies every float32 tensor of `xs` in place by the 0-d float32 `factor` (each product
 * rounded to float32, the bits of `mul(x, factor)`): gradient clipping's rescale, without a new
 * array per tensor on backends with the fused kernel (the CPU backend); elsewhere each tensor is
 * assigned `mul(x, factor)`. Every tensor sharing a storage with one of `xs` sees the change. Not
 * recorded by autograd.
 */
export function scaleInPlace(xs: readonly Tensor[], factor: Tensor): void {
  const op = 'scaleInPlace';
  checkList(op, xs);
  checkTensor(op, factor, 'factor');
  if (factor.dtype !== 'float32' || factor.size !== 1) {
    throw new ShapeError(op, `factor must be one float32 value, got ${factor.dtype} ${fmtShape(factor.shape)}`);
  }
  const b = getBackend();
  const kernel = b.fused?.scaleInPlace;
  if (kernel === undefined) {
    unrecorded(() => {
      for (const x of xs) x.assign(mul(x, factor));
    });
    return;
  }
  const f = factor._on(b);
  for (const x of xs) {
    ensureExclusive(x);
    kernel(x._on(b), x.size, f);
    bumpVersion(x);
  }
}
