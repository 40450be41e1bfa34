import { getBackend } from '../backend/registry.js';
import { record } from '../engine.js';
import { ArgumentError, ShapeError, fmtShape } from '../errors.js';
import { broadcastShapes, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { cast } from './elementwise.js';
import { broadcastTo, reshape } from './movement.js';
import { make } from './util.js';

/** The recorded matrix product: whether each operand entered transposed. */
export interface MatmulAttrs {
  matmul: { transA: boolean; transB: boolean };
}

/**
 * Matrix product. 1-D operands are treated as vectors (as in NumPy); 2-D is the
 * plain product; higher ranks are batches `[..., n, k] @ [..., k, m]` whose
 * batch axes broadcast. Always float32.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return matmulT(a, b, false, false);
}

/**
 * `op(a) @ op(b)` where `op` transposes the last two axes when the flag is set.
 * Gradients use it to avoid materialising transposes.
 */
export function matmulT(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) {
    throw new ArgumentError('matmul', 'both operands must be Tensors');
  }
  a._live('matmul');
  b._live('matmul');
  if (a.rank === 0 || b.rank === 0) {
    throw new ShapeError('matmul', `operands must have at least one dimension, got ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  }
  // Vectors: promote, multiply, then drop the added axis.
  if (a.rank === 1 || b.rank === 1) {
    // Checked here, so the error shows the shapes given rather than the promoted ones.
    const ka = a.rank === 1 ? a.shape[0] : a.shape[a.rank - (transA ? 2 : 1)];
    const kb = b.rank === 1 ? b.shape[0] : b.shape[b.rank - (transB ? 1 : 2)];
    if (ka !== kb) throw new ShapeError('matmul', `inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)} (${ka} != ${kb})`);
    const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]]) : a;
    const b2 = b.rank === 1 ? reshape(b, [b.shape[0], 1]) : b;
    const out = matmulT(a2, b2, a.rank === 1 ? false : transA, b.rank === 1 ? false : transB);
    let shape = out.shape.slice();
    if (a.rank === 1) shape.splice(shape.length - 2, 1);
    if (b.rank === 1) shape = shape.slice(0, shape.length - 1);
    return reshape(out, shape);
  }
  const m = transA ? a.shape[a.rank - 1] : a.shape[a.rank - 2];
  const ka = transA ? a.shape[a.rank - 2] : a.shape[a.rank - 1];
  const kb = transB ? b.shape[b.rank - 1] : b.shape[b.rank - 2];
  const n = transB ? b.shape[b.rank - 2] : b.shape[b.rank - 1];
  if (ka !== kb) {
    throw new ShapeError('matmul', `inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)} (${ka} != ${kb})`);
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batchShape = broadcastShapes('matmul', aBatch, bBatch);
  const batch = sizeOf(batchShape);
  let A = a.dtype === 'float32' ? a : cast(a, 'float32');
  let B = b.dtype === 'float32' ? b : cast(b, 'float32');
  let batchA = sizeOf(aBatch);
  let batchB = sizeOf(bBatch);
  // An empty batch on one side (against a single matrix on the other) is an empty result.
  if (batch === 0) batchA = batchB = 0;
  // Broadcast batch axes unless one side is a single matrix (the common, free case).
  if (batchA !== batch && batchA !== 1) {
    A = broadcastTo(A, [...batchShape, ...A.shape.slice(-2)]);
    batchA = batch;
  }
  if (batchB !== batch && batchB !== 1) {
    B = broadcastTo(B, [...batchShape, ...B.shape.slice(-2)]);
    batchB = batch;
  }
  const be = getBackend();
  // A batch of row-major matrices times one matrix is one product with the batch's rows stacked
  // ([batch, m, k] is [batch * m, k] in memory), as PyTorch folds it: one large product instead of
  // many small ones, with the same output layout.
  const fold = batchB === 1 && batchA > 1 && !transA;
  const s = fold
    ? be.matmul(A._on(be), B._on(be), 1, 1, batchA * m, ka, n, false, transB)
    : be.matmul(A._on(be), B._on(be), batchA, batchB, m, ka, n, transA, transB);
  const out = make(s, [...batchShape, m, n], 'float32');
  return record('matmul', [a, b], out, { transA, transB });
}

/** The products that are also `Tensor` methods (`a.matmul(b)`). */
export const matmulMethods = { matmul };
