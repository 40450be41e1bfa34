import type { DType, TypedArray } from '../dtype.js';

import type { UnaryOp } from './unary-ops.js';

/** Elementwise ops of one input: the keys of {@link UNARY_OPS} (`backend/unary-ops.ts`). */
export type { UnaryOp };

/** Elementwise ops of two inputs, with NumPy broadcasting. Comparisons give int32 0/1. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le';

/** Reductions along a set of axes. `argmax`/`argmin` take exactly one axis and give int32. */
export type ReduceOp = 'sum' | 'max' | 'min' | 'prod' | 'argmax' | 'argmin';

/** Geometry of a 2-D sliding window over NCHW images, shared by im2col and col2im. */
export interface Window2d {
  /** Input batch, channels, height, width. */
  n: number;
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  /** Output height and width: floor((h + 2 padH - kh) / strideH) + 1. */
  outH: number;
  outW: number;
}

/**
 * Composite ops a backend may implement in one kernel. When present, the op
 * front-end calls it instead of composing primitives; results must agree
 * within float32 tolerance, and gradients stay those of the composite op.
 */
export interface FusedKernels<S> {
  /** Softmax along the last axis of a `[rows, cols]` view. */
  softmax(x: S, rows: number, cols: number): S;
  /** Log-softmax along the last axis of a `[rows, cols]` view. */
  logSoftmax(x: S, rows: number, cols: number): S;
  /** The gradient of {@link FusedKernels.softmax} from its output `y`: `y * (dy - sum(dy * y))` per row. */
  softmaxBackward(dy: S, y: S, rows: number, cols: number): S;
  /** The gradient of {@link FusedKernels.logSoftmax} from its output `y`: `dy - exp(y) * sum(dy)` per row. */
  logSoftmaxBackward(dy: S, y: S, rows: number, cols: number): S;
  /**
   * 2-D max pooling of `[n, c, h, w]` (the window's `c` is 1 and its `n` counts every
   * plane): the maxima `[n, outH, outW]`, and as int32 the flat index into `x` of each
   * maximum (the first on ties, NaN winning as in PyTorch), from which the gradient is
   * one scatter-add. Cells outside the image never win.
   */
  maxPool2d(x: S, win: Window2d): [values: S, argmax: S];
  /**
   * {@link FusedKernels.maxPool2d} of `relu(x)` (the relu kernel's values: -0 reads as 0, NaN as NaN),
   * without writing that array: max pooling after a ReLU in one pass.
   */
  maxPool2dRelu(x: S, win: Window2d): [values: S, argmax: S];
  /**
   * im2col with the images' column matrices side by side: `[c*kh*kw, n*outH*outW]`
   * (column `b*outH*outW + p` is output pixel p of image b), the layout in which a whole
   * batch's convolution is one matrix product.
   */
  im2colWide(x: S, win: Window2d, padValue: number): S;
  /** The adjoint of {@link FusedKernels.im2colWide}: folds `[c*kh*kw, n*outH*outW]` back into `[n, c, h, w]`. */
  col2imWide(cols: S, win: Window2d): S;
  /**
   * A linear layer: `x: [rows, inF]` times `weight: [outF, inF]` transposed, plus `bias: [outF]`
   * (when given) on every row, then relu (`v <= 0 ? 0 : v`, NaN staying NaN) when `relu`: `[rows, outF]`, the values of the
   * composite `relu(matmul + bias)`.
   */
  linear(x: S, weight: S, bias: S | null, rows: number, inF: number, outF: number, relu: boolean): S;
  /**
   * A linear layer's input and weight gradients at once: `dx = dz @ weight` `[rows, inF]` and
   * `dw = dz^T @ x` `[outF, inF]` for `dz: [rows, outF]`, `x: [rows, inF]` and `weight: [outF, inF]`
   * (the values of the two products; a backend may compute them at the same time). A backend
   * may also return `dw` while it is still being computed (the CPU backend finishes it on a
   * worker thread while the backward pass goes on), as long as every one of its own functions
   * that is given that storage (`read`, `dispose`, any kernel) first waits for it.
   */
  linearBackward(dz: S, x: S, weight: S, rows: number, inF: number, outF: number): [dx: S, dw: S];
  /** The gradient of relu: 0 where `x <= 0`, else `dy` (also where `x` is NaN, as in PyTorch), over `size` float32 values. */
  reluBackward(dy: S, x: S, size: number): S;
  /**
   * 2-D convolution (cross-correlation) of `x: [win.n, win.c, win.h, win.w]` with
   * `weight: [outC, c, kh, kw]` and an optional `bias: [outC]`, giving `[n, outC, outH, outW]`:
   * the same values as `im2colWide`, a matrix product and the bias added.
   */
  conv2d(x: S, weight: S, bias: S | null, win: Window2d, outC: number): S;
  /**
   * The gradients of {@link FusedKernels.conv2d} for the output gradient `dy`, in the order
   * input, weight, bias; each is computed only where `needs` holds true (null otherwise).
   */
  conv2dBackward(
    dy: S,
    x: S,
    weight: S,
    win: Window2d,
    outC: number,
    needs: readonly [boolean, boolean, boolean],
  ): [S | null, S | null, S | null];
  /**
   * {@link FusedKernels.conv2d}, then ReLU, then 2x2 max pooling with stride 2 (no padding, an odd
   * last row or column dropped) in one call: the values and flat positions {@link
   * FusedKernels.maxPool2dRelu} gives for the convolution's output `[n, outC, outH, outW]`, which
   * the backend need not write out. Values `[n, outC, floor(outH/2), floor(outW/2)]`.
   */
  conv2dReluPool(x: S, weight: S, bias: S | null, win: Window2d, outC: number): [values: S, argmax: S];
  /**
   * The gradients of {@link FusedKernels.conv2dReluPool} for the pooled gradient `dy`, from its
   * values and positions: {@link FusedKernels.conv2dBackward}'s for the convolution's output
   * gradient (`dy` at each maximum where the pooled value is positive, 0 elsewhere).
   */
  conv2dReluPoolBackward(
    dy: S,
    values: S,
    argmax: S,
    x: S,
    weight: S,
    win: Window2d,
    outC: number,
    needs: readonly [boolean, boolean, boolean],
  ): [S | null, S | null, S | null];
  /**
   * One Adam or AdamW step over `size` values, written in place into `param`, `expAvg`,
   * `expAvgSq` (and `maxExpAvgSq` with AMSGrad). Each intermediate is rounded to float32
   * exactly as the composite update in @bp/optim rounds it, so both paths agree bit for bit.
   */
  adamUpdate(param: S, grad: S, expAvg: S, expAvgSq: S, maxExpAvgSq: S | null, size: number, c: AdamConstants): void;
  /**
   * Storages holding the values of a parameter and its Adam moments (`size` values each) where
   * {@link FusedKernels.adamUpdate} updates them fastest: the three given when they already are
   * (or when the backend has nowhere better), else copies, which the caller puts in their place.
   * The CPU backend keeps them in a WebAssembly memory of their own, so that a step copies only
   * the gradient in.
   */
  adamPlace(param: S, expAvg: S, expAvgSq: S, size: number): [S, S, S];
  /**
   * Exact GELU of `size` float32 values together with its derivative `Φ(x) + x φ(x)` (as `geluGrad`
   * rounds it), computed from the same erf: what {@link FusedKernels.geluBackward} multiplies the
   * output gradient by, so the backward pass needs no erf and no exponential.
   */
  geluForward(x: S, size: number): [y: S, grad: S];
  /** `dy * grad` for the `grad` {@link FusedKernels.geluForward} saved: the bits of `dy * geluGrad(x)`. */
  geluBackward(dy: S, grad: S, size: number): S;
  /**
   * Scaled dot-product attention of `n` batch entries of `heads` heads (see {@link AttentionShape}): `q: [n, l, heads*d]`,
   * `k: [n, s, heads*d]`, `v: [n, s, heads*dv]`, head `h` being columns `h*d .. (h+1)*d` (values:
   * `h*dv ..`) of each row. Per head, the weights `softmax(q k^T * scale)` over the keys (keys
   * `j > i` masked to -Infinity for query `i` when `causal`) times `v`: returns the output
   * `[n, l, heads*dv]` (heads side by side again) and the weights `[n, heads, l, s]` for
   * {@link FusedKernels.attentionBackward}. The values of the composite (matmul, times scale, the
   * mask, softmax, matmul).
   */
  attention(q: S, k: S, v: S, shape: AttentionShape, scale: number, causal: boolean): [out: S, weights: S];
  /**
   * The gradients of {@link FusedKernels.attention} for the output gradient `dy` (`[n, l, heads*dv]`)
   * from the weights it returned: `[dq, dk, dv]` in the layouts of `q`, `k`, `v`.
   */
  attentionBackward(dy: S, q: S, k: S, v: S, weights: S, shape: AttentionShape, scale: number, causal: boolean): [dq: S, dk: S, dv: S];
  /**
   * {@link FusedKernels.attention} for self-attention, whose q, k and v come from one projection:
   * `qkv: [n, l, heads*(2d + dv)]` holds them side by side in each row (q's `heads*d` columns, then
   * k's, then v's `heads*dv`; `s = l`). Returns the output `[n, l, heads*dv]` and the weights
   * `[n, heads, l, l]`, the values of {@link FusedKernels.attention} on the three column blocks,
   * without splitting them into arrays of their own.
   */
  attentionPacked(qkv: S, shape: AttentionShape, scale: number, causal: boolean): [out: S, weights: S];
  /**
   * The gradient of {@link FusedKernels.attentionPacked} for the output gradient `dy`
   * (`[n, l, heads*dv]`) from the weights it returned: `dqkv` in the layout of `qkv`.
   */
  attentionPackedBackward(dy: S, qkv: S, weights: S, shape: AttentionShape, scale: number, causal: boolean): S;
  /**
   * Layer normalisation of each row of `x: [rows, cols]`: `(x - mean) / sqrt(var + eps)` with the
   * row's mean and biased variance, times `weight: [cols]` and plus `bias: [cols]` when given.
   * Returns the output `[rows, cols]` and each row's mean and `1 / sqrt(var + eps)` (`[rows]`
   * each) for {@link FusedKernels.layerNormBackward}.
   */
  layerNorm(x: S, weight: S | null, bias: S | null, rows: number, cols: number, eps: number): [out: S, mean: S, rstd: S];
  /**
   * The gradients of {@link FusedKernels.layerNorm} for the output gradient `dy`, in the order
   * input `[rows, cols]`, weight `[cols]`, bias `[cols]`; each only where `needs` holds (null otherwise).
   */
  layerNormBackward(
    dy: S,
    x: S,
    weight: S | null,
    mean: S,
    rstd: S,
    rows: number,
    cols: number,
    needs: readonly [boolean, boolean, boolean],
  ): [S | null, S | null, S | null];
  /**
   * Softmax cross-entropy of `x: [rows, cols]` against class ids `labels: [rows]` (int32):
   * per row `logSumExp(x) - x[label]`, 0 where the label is `ignoreIndex`, NaN where it is
   * neither that nor in `[0, cols)`; then their sum (`'sum'`, one value), their mean over the
   * rows not ignored (`'mean'`), or the rows (`'none'`, `[rows]`). Also returns each row's
   * log-sum-exp `[rows]` for {@link FusedKernels.crossEntropyBackward}.
   */
  crossEntropy(x: S, labels: S, rows: number, cols: number, ignoreIndex: number, reduction: 'mean' | 'sum' | 'none'): [loss: S, lse: S];
  /**
   * The gradient of {@link FusedKernels.crossEntropy} for the gradient `dy` of its result
   * (one value, or `[rows]` for `'none'`): `(exp(x - lse) - onehot(label)) * g` per row, `g`
   * being `dy` (`'sum'`), `dy` over the rows not ignored (`'mean'`) or `dy[row]` (`'none'`), and
   * 0 on rows whose label is ignored or out of range.
   */
  crossEntropyBackward(
    dy: S,
    x: S,
    labels: S,
    lse: S,
    rows: number,
    cols: number,
    ignoreIndex: number,
    reduction: 'mean' | 'sum' | 'none',
  ): S;
  /**
   * Keras' negative log-likelihood of probabilities `p: [rows, cols]` at int32 class ids: per row
   * `-log(clamp(p[label] / sum(p), eps, 1 - eps))` (each step rounded to float32; NaN where the
   * label is not in `[0, cols)`), and each row's sum `[rows]` for
   * {@link FusedKernels.probabilityNllBackward}.
   */
  probabilityNll(p: S, labels: S, rows: number, cols: number, eps: number): [loss: S, sums: S];
  /**
   * The gradient of {@link FusedKernels.probabilityNll} for `dy: [rows]`: with `q = p[label] / sum`
   * not clipped, `g = -dy / q`; then `g / sum - g q / sum` at the label and `-g q / sum` elsewhere
   * in the row; rows clipped or out of range are 0.
   */
  probabilityNllBackward(dy: S, p: S, labels: S, sums: S, rows: number, cols: number, eps: number): S;
  /**
   * The sum of the squares of the first `sizes[i]` values of every `xs[i]` (float32), as a 0-d
   * float32 storage: the squared joint 2-norm that gradient clipping needs, in one pass over
   * each array and without a squared copy. The composite squares in float32 and sums per tensor,
   * then sums the totals; a kernel may accumulate more precisely (the CPU one squares and sums in
   * float64 and rounds once).
   */
  sumOfSquares(xs: readonly S[], sizes: readonly number[]): S;
  /**
   * `x[i] = x[i] * factor` for the first `size` values of `x`, in place, `factor` a 0-d float32
   * storage: the bits of `mul(x, factor)`, without the copy.
   */
  scaleInPlace(x: S, size: number, factor: S): void;
}

/**
 * The sizes of a fused attention call ({@link FusedKernels.attention}): `n` batch entries of `heads`
 * heads, `l` queries and `s` keys of width `d`, values of width `dv`.
 */
export interface AttentionShape {
  n: number;
  heads: number;
  l: number;
  s: number;
  d: number;
  dv: number;
}

/**
 * The scalars of one Adam step, resolved by the optimizer. The update is
 * `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2` (where `g` has `weightDecay * p`
 * added for Adam), `p -= stepSize * m / (sqrt(v) + epsScaled)` (with `p` first
 * scaled by `1 - lr * weightDecay` for AdamW).
 */
export interface AdamConstants {
  beta1: number;
  beta2: number;
  /** `lr * sqrt(1 - b2^t) / (1 - b1^t)`. */
  stepSize: number;
  /** `eps * sqrt(1 - b2^t)`. */
  epsScaled: number;
  /** Weight decay rate (0 for none). */
  weightDecay: number;
  /** True for AdamW's decoupled decay, false for Adam's L2 penalty. */
  decoupled: boolean;
  /** Learning rate (used by decoupled decay). */
  lr: number;
  /** True on the first step, where the moments are treated as zero whatever their storage holds. */
  first: boolean;
}

/**
 * What a backend implements: storage, and a small set of primitive kernels.
 * Every op of @bp/tensor is a primitive or is composed from them in
 * `@bp/tensor/ops`; gradients are written with ops, so they serve every backend.
 *
 * All storages are contiguous row-major buffers; shapes travel beside them.
 * `S` is the backend's storage type (a typed array for the CPU backend, a GPU
 * buffer or texture elsewhere).
 */
export interface Backend<S = unknown> {
  readonly name: string;
  /**
   * False when the backend cannot read a storage synchronously (its kernels complete
   * later, e.g. WebGPU): `dataSync()`, `toArray()` and a plain `item()` then throw a
   * `NotAvailableError` naming `await t.data()`, and values are read
   * only through `readAsync`. Absent means true. Either way ops return at once; a
   * backend may queue the work and finish it before a read resolves.
   */
  readonly syncRead?: boolean;
  /**
   * True when reading a storage back costs nothing (host memory): value checks that read
   * tensors (label and index ranges, probabilities) then run by default; see `setDebugChecks`.
   */
  readonly valueChecks?: boolean;

  /**
   * Copies host values into a new storage of `dtype`. With `owned`, the caller gives `values`
   * up (it is of `dtype`'s array type and nothing else will write it): a backend whose storage is
   * host memory may keep it as the storage instead of copying.
   */
  upload(values: TypedArray, dtype: DType, owned?: boolean): S;
  /** Reads a storage back synchronously (may throw where `syncRead` is false). */
  read(x: S, size: number, dtype: DType): TypedArray;
  /** Reads a storage back, waiting for the device where needed. Required where `syncRead` is false. */
  readAsync?(x: S, size: number, dtype: DType): Promise<TypedArray>;
  /** Frees the storage's memory now (optional; otherwise garbage collection does). */
  dispose?(x: S): void;
  /**
   * Called when a storage becomes a tensor's (a new tensor's, or one replacing a tensor's
   * storage in place), before any `dispose` of it. A backend that recycles what `dispose` gives
   * back uses it to see storages that share memory (a view of another): those it must not
   * recycle. Optional.
   */
  adopt?(x: S): void;

  fill(size: number, value: number, dtype: DType): S;
  cast(x: S, size: number, from: DType, to: DType): S;
  unary(op: UnaryOp, x: S, size: number, dtype: DType): S;
  binary(
    op: BinaryOp,
    a: S,
    aShape: readonly number[],
    aDtype: DType,
    b: S,
    bShape: readonly number[],
    bDtype: DType,
    outShape: readonly number[],
    outDtype: DType,
  ): S;
  where(
    cond: S,
    cShape: readonly number[],
    a: S,
    aShape: readonly number[],
    b: S,
    bShape: readonly number[],
    outShape: readonly number[],
    dtype: DType,
  ): S;
  /** Reduces `axes` (sorted, unique, non-empty) away; output shape is `shape` without them. */
  reduce(op: ReduceOp, x: S, shape: readonly number[], axes: readonly number[], dtype: DType): S;
  /**
   * Batched matrix product `op(A) @ op(B)` with `A: [batchA, m, k]` (or `[batchA, k, m]` when
   * `transA`) and `B: [batchB, k, n]` (or `[batchB, n, k]` when `transB`). `batchA` and `batchB`
   * are equal, or one of them is 1 and is broadcast. Output `[max(batchA,batchB), m, n]`, float32.
   */
  matmul(a: S, b: S, batchA: number, batchB: number, m: number, k: number, n: number, transA: boolean, transB: boolean): S;
  transpose(x: S, shape: readonly number[], perm: readonly number[], dtype: DType): S;
  /** Copies the box `begin .. begin+size` out of `x`. */
  slice(x: S, shape: readonly number[], begin: readonly number[], size: readonly number[], dtype: DType): S;
  /** Pads every axis with `pads[i] = [before, after]` elements of `value`. */
  pad(x: S, shape: readonly number[], pads: readonly (readonly [number, number])[], value: number, dtype: DType): S;
  concat(xs: readonly S[], shapes: readonly (readonly number[])[], axis: number, dtype: DType): S;
  /** `out[..., j, ...] = x[..., indices[j], ...]` along `axis`; indices are int32 and in range. */
  gather(x: S, shape: readonly number[], indices: S, nIndices: number, axis: number, dtype: DType): S;
  /** The adjoint of gather: `out` of `outShape` zeros, then `out[..., indices[j], ...] += src[..., j, ...]`. */
  scatterAdd(src: S, indices: S, nIndices: number, outShape: readonly number[], axis: number): S;
  /** `[n, c, h, w]` to columns `[n, c*kh*kw, outH*outW]`, out-of-image cells set to `padValue`. */
  im2col(x: S, win: Window2d, padValue: number): S;
  /** The adjoint of im2col: sums columns `[n, c*kh*kw, outH*outW]` back into `[n, c, h, w]`. */
  col2im(cols: S, win: Window2d): S;

  /** Optional fused kernels for composite ops. */
  readonly fused?: Partial<FusedKernels<S>>;
  /** Extra facts for `bp info` and benchmarks (mode, device...). */
  info?(): Record<string, unknown>;
}
