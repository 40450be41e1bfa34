import type { Backend, FusedKernels } from '../backend/backend.js';
import { expF32, expNonPositive, geluCdf, geluFromCdf, geluGradFromCdf } from '../backend/unary-ops.js';
import type { TypedArray } from '../dtype.js';
import { adamUpdate } from './adam.js';
import { adamPlace } from './wasm/wasm-adam.js';
import { scaleInPlace, sumOfSquares } from './grad-norm.js';
import { binary, unary, where } from './elementwise.js';
import { matmul, usesWasmGemm } from './matmul.js';
import { WasmRuntime, kernelModule } from './wasm/wasm-runtime.js';
import { ThreadPool, canUseThreads } from './wasm/thread-pool.js';
import { wasmConv2d, wasmConv2dBackward, wasmConv2dReluPool, wasmConv2dReluPoolBackward } from './wasm/wasm-conv.js';
import { wasmAttention, wasmAttentionBackward } from './wasm/wasm-attention.js';
import {
  WASM_MIN_ELEMENTS,
  geluSaveSimd,
  reluGradSimd,
  rowLogSumExpSimd,
  softmaxBackwardSimd,
  softmaxSimd,
} from './wasm/wasm-elementwise.js';
import { ASYNC_DW_MAX_COLS, biasRows, productKind, startLinearWeightGradient, wasmGemm } from './wasm/wasm-gemm.js';
import { concat, gather, pad, scatterAdd, slice, transposeWith } from './movement.js';
import { layerNormRows, layerNormRowsBackward } from './layer-norm.js';
import { maxPool2d } from './pool.js';
import { reduce } from './reduce.js';
import { col2im, im2col } from './window.js';
import { adopt, newArray, newF32, recycle } from './storage.js';

/** The largest of the `cols` values from `o` (0 when all are -Infinity or there are none): the shift before exp. */
function rowMax(x: Float32Array, o: number, cols: number): number {
  let mx = -Infinity;
  for (let j = 0; j < cols; j++) if (x[o + j] > mx) mx = x[o + j];
  return mx === -Infinity ? 0 : mx;
}

const f32 = Math.fround;

/**
 * Float32 sums of four lanes at a time, as the SIMD row kernels take them: value j of a row goes to
 * lane j % 4 and the lanes add up as (0 + 1) + (2 + 3). `lanes` is reset with `fill(0)` per row.
 */
function laneSum(lanes: Float64Array): number {
  return f32(f32(lanes[0] + lanes[1]) + f32(lanes[2] + lanes[3]));
}

/**
 * Each row's largest value (0 if it has none) and the sum of `e^(x - max)` for `[rows, cols]`, as the
 * pairs `[2r, 2r + 1]`, in the float32 steps of the SIMD kernels `softmax_rows` and `row_logsumexp`
 * (so both give the same bits): `x - max` in float32, e^ by {@link expF32}, summed by
 * {@link laneSum}. Each e is also written to `e` when given. On the SIMD kernel `row_logsumexp`
 * where `simd` is given and the array is large enough (without `e`).
 */
function rowExpSums(x: Float32Array, rows: number, cols: number, simd: WasmRuntime | null, e: Float32Array | null = null): Float32Array {
  const stats = new Float32Array(2 * rows);
  if (e === null && simd !== null && rows * cols >= WASM_MIN_ELEMENTS) {
    rowLogSumExpSimd(simd, x, stats, rows, cols);
    return stats;
  }
  const lanes = new Float64Array(4);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    const mx = rowMax(x, o, cols);
    lanes.fill(0);
    for (let j = 0; j < cols; j++) {
      const v = expF32(f32(x[o + j] - mx));
      if (e !== null) e[o + j] = v;
      lanes[j & 3] = f32(lanes[j & 3] + v);
    }
    stats[2 * r] = mx;
    stats[2 * r + 1] = laneSum(lanes);
  }
  return stats;
}

/**
 * Softmax of each row of `[rows, cols]` in float32 steps, as the SIMD kernel `softmax_rows` takes
 * them (so both give the same bits): `e = e^(x - max)` and their sum by {@link rowExpSums}, then
 * `e * (1 / sum)`. Within a few float32 ulps of the exact softmax of `x - max` (as PyTorch's
 * float32 kernel).
 */
function softmaxF32(x: Float32Array, rows: number, cols: number, simd: WasmRuntime | null): Float32Array {
  const out = newF32(rows * cols, false);
  if (simd !== null && rows * cols >= WASM_MIN_ELEMENTS) {
    softmaxSimd(simd, x, out, rows, cols);
    return out;
  }
  const stats = rowExpSums(x, rows, cols, null, out);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    const inv = f32(1 / stats[2 * r + 1]);
    for (let j = 0; j < cols; j++) out[o + j] *= inv;
  }
  return out;
}

/**
 * Log-softmax of each row of `[rows, cols]`: `x - (max + log(sum of e^(x - max)))`, the max and the
 * sum from {@link rowExpSums} (float32 exponentials, each within an ulp, as PyTorch's float32
 * kernel takes them), the log and the difference in float64, rounded once.
 */
function logSoftmaxRows(x: Float32Array, rows: number, cols: number, simd: WasmRuntime | null): Float32Array {
  const out = newF32(rows * cols, false);
  const stats = rowExpSums(x, rows, cols, simd);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    const ls = Math.log(stats[2 * r + 1]) + stats[2 * r];
    for (let j = 0; j < cols; j++) out[o + j] = x[o + j] - ls;
  }
  return out;
}

/**
 * The gradient of softmax (`op` `'softmax'`: `y * (dy - s)`, `s` the sum of `dy * y`) or log-softmax
 * (`'logSoftmax'`: `dy - e^y * s`, `s` the sum of `dy`, e^y by {@link expF32}: y is at most 0) along
 * each row of `[rows, cols]` from the output `y`, in float32 steps as the SIMD kernels take them four
 * lanes at a time (so both give the same bits): the row's sum in four lanes (value j in lane j % 4)
 * added as (0 + 1) + (2 + 3).
 */
function softmaxRowsBackward(
  op: 'softmax' | 'logSoftmax',
  dy: Float32Array,
  y: Float32Array,
  rows: number,
  cols: number,
  simd: WasmRuntime | null,
): Float32Array {
  const out = newF32(rows * cols, false);
  if (simd !== null && rows * cols >= WASM_MIN_ELEMENTS) {
    softmaxBackwardSimd(simd, op, dy, y, out, rows, cols);
    return out;
  }
  const lanes = new Float64Array(4);
  const soft = op === 'softmax';
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    lanes.fill(0);
    for (let j = 0; j < cols; j++) lanes[j & 3] = f32(lanes[j & 3] + (soft ? f32(dy[o + j] * y[o + j]) : dy[o + j]));
    const s = laneSum(lanes);
    if (soft) for (let j = 0; j < cols; j++) out[o + j] = y[o + j] * f32(dy[o + j] - s);
    else for (let j = 0; j < cols; j++) out[o + j] = dy[o + j] - f32(expF32(y[o + j]) * s);
  }
  return out;
}

/**
 * A linear layer's gradients `dx = dz @ weight` and `dw = dz^T @ x` (see the backend's
 * `fused.linearBackward`): one product after the other on this thread, or, where there is a worker
 * and the thread policy (measuring this kind of call on its own) finds it faster, dw on the worker
 * while this thread computes dx and goes on with the backward pass ({@link startLinearWeightGradient}):
 * the layer before needs dx at once, its weight gradient only later. The policy counts a started
 * call's time on this thread, and the wait for dw when it is settled. The same bits either way.
 */
function linearGradients(
  dz: TypedArray,
  x: TypedArray,
  w: TypedArray,
  rows: number,
  inF: number,
  outF: number,
  simd: WasmRuntime | null,
): [Float32Array, Float32Array] {
  const one = (): [Float32Array, Float32Array] => [
    matmul(dz, w, 1, 1, rows, outF, inF, false, false, simd),
    matmul(dz, x, 1, 1, outF, rows, inF, true, false, simd),
  ];
  const pool = simd?.threads ?? null;
  if (simd === null || pool === null || inF >= ASYNC_DW_MAX_COLS || !usesWasmGemm(rows, outF, inF)) return one();
  // A weight gradient still being computed is waited for first: its worker is then free again.
  simd.settle();
  const work = 2 * rows * inF * outF;
  const kind = productKind('linear-backward', rows, inF, outF);
  const t0 = performance.now();
  if (pool.threadsFor(work, kind) > 1) {
    let mine = 0;
    const dw = startLinearWeightGradient(simd, dz, x, rows, inF, outF, (waitMs) => pool.record(2, work, mine + waitMs, kind));
    if (dw !== null) {
      const dx = matmul(dz, w, 1, 1, rows, outF, inF, false, false, simd);
      mine = performance.now() - t0;
      return [dx, dw];
    }
  }
  const out = one();
  pool.record(1, work, performance.now() - t0, kind);
  return out;
}

/**
 * A linear layer: the product `x @ weight^T` (on the WebAssembly kernel when large enough, which
 * adds the bias and applies the ReLU to the product in its memory before copying it out), else
 * the bias and the ReLU in one pass over the output, in place: the values of `relu(matmul + bias)`.
 */
function linearLayer(
  x: TypedArray,
  weight: TypedArray,
  bias: TypedArray | null,
  rows: number,
  inF: number,
  outF: number,
  relu: boolean,
  simd: WasmRuntime | null,
): Float32Array {
  const epilogue = bias === null && !relu ? null : { bias, relu };
  if (simd !== null && usesWasmGemm(rows, inF, outF)) {
    const out = newF32(rows * outF, false);
    wasmGemm(simd, x, 0, weight, 0, out, 0, rows, inF, outF, false, true, epilogue);
    return out;
  }
  const out = matmul(x, weight, 1, 1, rows, inF, outF, false, true, null);
  if (epilogue !== null) biasRows(out, 0, bias, rows, outF, relu);
  return out;
}

/** Exact GELU and its derivative (see the backend's `fused.geluForward`), on the SIMD kernel for large arrays. */
function geluForward(x: Float32Array, size: number, simd: WasmRuntime | null, shared: WasmRuntime | null): [Float32Array, Float32Array] {
  const y = newF32(size, false);
  const g = newF32(size, false);
  if (simd !== null && size >= WASM_MIN_ELEMENTS) geluSaveSimd(simd, x, y, g, size, shared);
  else
    for (let i = 0; i < size; i++) {
      const cdf = geluCdf(x[i]);
      y[i] = geluFromCdf(x[i], cdf);
      g[i] = geluGradFromCdf(x[i], cdf);
    }
  return [y, g];
}

/** 0 where `x <= 0`, else `dy` (also where `x` is NaN, as in PyTorch): one pass, on the SIMD kernel for large arrays. */
function reluBackward(dy: Float32Array, x: Float32Array, size: number, simd: WasmRuntime | null): Float32Array {
  const out = newF32(size, false);
  if (simd !== null && size >= WASM_MIN_ELEMENTS) {
    reluGradSimd(simd, dy, x, out, size);
    return out;
  }
  for (let i = 0; i < size; i++) out[i] = x[i] <= 0 ? 0 : dy[i];
  return out;
}

/**
 * Softmax cross-entropy per row of `[rows, cols]` against class ids (see the backend's
 * `fused.crossEntropy`): the loss (reduced unless `'none'`) and each row's log-sum-exp.
 */
function crossEntropyRows(
  x: Float32Array,
  labels: TypedArray,
  rows: number,
  cols: number,
  ignoreIndex: number,
  reduction: 'mean' | 'sum' | 'none',
): [Float32Array, Float32Array] {
  const lse = newF32(rows);
  const per = newF32(rows);
  let total = 0;
  let kept = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const mx = rowMax(x, o, cols);
    let s = 0;
    for (let j = 0; j < cols; j++) s += expNonPositive(x[o + j] - mx);
    // The loss from the float64 log-sum-exp (the float32 one saved for the gradient would lose
    // about 1e-3 on logits near 1e4).
    const l = Math.log(s) + mx;
    lse[r] = l;
    const y = labels[r];
    if (y === ignoreIndex) continue;
    kept++;
    per[r] = y >= 0 && y < cols ? l - x[o + y] : NaN;
    total += per[r];
  }
  if (reduction === 'none') return [per, lse];
  return [Float32Array.of(reduction === 'sum' ? total : total / kept), lse];
}

/**
 * Keras' negative log-likelihood of probabilities per row of `[rows, cols]` (see the backend's
 * `fused.probabilityNll`): the rescaled probability at the label, clipped, its log negated; and
 * each row's sum. The same steps as the composite (the row summed in float64 and rounded, as the
 * backend's sum; a float32 division, the clip at float32 bounds, a float32 log).
 */
function probabilityNllRows(p: Float32Array, labels: TypedArray, rows: number, cols: number, eps: number): [Float32Array, Float32Array] {
  const lo = f32(eps);
  const hi = f32(1 - eps);
  const per = newF32(rows);
  const sums = newF32(rows);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    let acc = 0;
    for (let j = 0; j < cols; j++) acc += p[o + j];
    const s = f32(acc);
    sums[r] = s;
    const y = labels[r];
    if (!(y >= 0 && y < cols)) {
      per[r] = NaN;
      continue;
    }
    const q = f32(p[o + y] / s);
    per[r] = -f32(Math.log(q < lo ? lo : q > hi ? hi : q));
  }
  return [per, sums];
}

/**
 * The gradient of {@link probabilityNllRows} for `dy: [rows]`: through the log (`-dy / q`, 0 where
 * the clip held `q`, NaN passing as the composite's clamp passes it), then the rescaling: `g / sum`
 * at the label and `-(g q) / sum` on every class of the row.
 */
function probabilityNllGrad(
  dy: Float32Array,
  p: Float32Array,
  labels: TypedArray,
  sums: Float32Array,
  rows: number,
  cols: number,
  eps: number,
): Float32Array {
  const lo = f32(eps);
  const hi = f32(1 - eps);
  const out = newF32(rows * cols);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    const y = labels[r];
    if (!(y >= 0 && y < cols)) continue;
    const s = sums[r];
    const q = f32(p[o + y] / s);
    if (q < lo || q > hi) continue;
    const g = f32(-dy[r] / q);
    const common = f32(-f32(g * q) / s);
    for (let j = 0; j < cols; j++) out[o + j] = common;
    out[o + y] = f32(f32(g / s) + common);
  }
  return out;
}

/**
 * The gradient of {@link crossEntropyRows}: `(softmax(x) - onehot) * g` per row, 0 on rows ignored or
 * out of range. The softmax is computed again from the row in float64 (max, then the shifted sum)
 * rather than as `exp(x - lse)` from the saved float32 log-sum-exp, which on logits near 1e4 is off
 * by about 1e-3 and would take that much off every probability.
 */
function crossEntropyGrad(
  dy: Float32Array,
  x: Float32Array,
  labels: TypedArray,
  _lse: Float32Array,
  rows: number,
  cols: number,
  ignoreIndex: number,
  reduction: 'mean' | 'sum' | 'none',
): Float32Array {
  const out = newF32(rows * cols);
  // One row's exponentials, kept between the sum and the write.
  const e = new Float64Array(cols);
  let scale = dy[0];
  if (reduction === 'mean') {
    let kept = 0;
    for (let r = 0; r < rows; r++) if (labels[r] !== ignoreIndex) kept++;
    scale = Math.fround(dy[0] / kept);
  }
  for (let r = 0; r < rows; r++) {
    const y = labels[r];
    if (y === ignoreIndex || !(y >= 0 && y < cols)) continue;
    const g = reduction === 'none' ? dy[r] : scale;
    const o = r * cols;
    const mx = rowMax(x, o, cols);
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += e[j] = expNonPositive(x[o + j] - mx);
    const inv = 1 / sum;
    for (let j = 0; j < cols; j++) out[o + j] = (e[j] * inv - (j === y ? 1 : 0)) * g;
  }
  return out;
}

/** Options of {@link cpuBackend}. */
export interface CpuBackendOptions {
  /**
   * Run large matrix products and float32 arithmetic on WebAssembly SIMD kernels (default true). Where the
   * engine lacks WebAssembly SIMD the backend falls back to plain TypeScript loops anyway.
   */
  simd?: boolean;
  /**
   * Most threads for large matrix products, convolutions and pooling, the calling one included
   * (default: the `BP_CPU_THREADS` environment variable in Node, else 4; never more than the
   * machine's cores). Extra threads are Node worker threads sharing the kernels' memory; they start
   * in the background and never keep the process alive. If one stops answering or fails, the
   * backend continues on one thread and says so once. In browsers, a backend created inside a Web
   * Worker of a cross-origin isolated page (served with `Cross-Origin-Opener-Policy: same-origin`
   * and `Cross-Origin-Embedder-Policy: require-corp`) gets worker threads the same way; on a page's
   * main thread, which may not block waiting for them, and with 1, there is a single thread.
   */
  threads?: number;
  /**
   * Fused multiply-adds (relaxed SIMD `f32x4.relaxed_madd`) in the matrix product (and the
   * convolutions and attention built on it), where the engine has relaxed SIMD (default true,
   * unless the `BP_CPU_FMA` environment variable is `0`). Browsers ship relaxed SIMD; in Node 20,
   * where it is behind `--experimental-wasm-relaxed-simd`, the backend turns that flag on before
   * compiling its kernels; engines without it get the plain kernel. A fused multiply-add is one
   * instruction where a multiply and an add are two: measured on an AMD Zen 3 (AVX2, Node 20), the
   * product's inner loop ran 1.4 times as fast and 512x512 to 1024x1024 products 1.3 times; on an
   * AMD EPYC with AVX-512 products ran as fast either way. Products round once per multiply-add
   * instead of twice, so their last bits differ from the plain kernel's (which `fma: false` keeps,
   * for bits that match another machine or an engine without relaxed SIMD); on one machine and
   * engine they are the same whatever the thread count.
   */
  fma?: boolean;
}

interface ProcessLike {
  versions?: { node?: string };
  env?: Record<string, string | undefined>;
}

const proc = (globalThis as { process?: ProcessLike }).process;

/**
 * The WebAssembly kernels as options ask for them, or null for plain TypeScript: `main` for the kernels that
 * may spread over worker threads (matrix products, convolution, pooling), `local` for those that always run
 * on the calling thread (elementwise arithmetic, the relu gradient, Adam). With threads, `main` has a shared
 * memory, and the engines copy typed arrays into and out of a shared buffer several times slower than into a
 * private one, so `local` is a second instance of the same kernels on a private memory (same code, same bits).
 */
function makeRuntime(options: CpuBackendOptions): { main: WasmRuntime; local: WasmRuntime } | null {
  if (options.simd === false) return null;
  const fromEnv = Number(proc?.env?.BP_CPU_THREADS);
  const threads = Math.max(1, Math.floor(options.threads ?? (fromEnv > 0 ? fromEnv : 4)));
  const fmaEnv = proc?.env?.BP_CPU_FMA;
  const fma = options.fma ?? fmaEnv !== '0';
  const fused = fma ? kernelModule(false, true) : null;
  const module = fused ?? kernelModule();
  const single = module ? new WasmRuntime(module, undefined, fused !== null) : null;
  if (threads > 1 && canUseThreads()) {
    const sharedFused = fma ? kernelModule(true, true) : null;
    const shared = sharedFused ?? kernelModule(true);
    if (shared) {
      const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
      const rt = new WasmRuntime(shared, memory, sharedFused !== null);
      rt.threads = new ThreadPool(rt, shared, threads - 1);
      // Work given one thread runs on the private instance (same kernels, so the same bits).
      if (single !== null && single.fma === rt.fma) rt.solo = single;
      return { main: rt, local: single ?? rt };
    }
  }
  return single ? { main: single, local: single } : null;
}

/**
 * The default backend: plain typed arrays in the JavaScript heap, so storage
 * is garbage collected like any object and reading back is free. Large matrix
 * products and float32 arithmetic run on WebAssembly SIMD kernels where the engine supports them.
 */
export function cpuBackend(options: CpuBackendOptions = {}): Backend<TypedArray> {
  const runtimes = makeRuntime(options);
  const simd = runtimes?.main ?? null;
  const local = runtimes?.local ?? null;
  // Convolution in one kernel needs the WebAssembly module; without it conv2d is composed of
  // im2colWide, a matrix product and a transpose.
  type ConvKernels = 'conv2d' | 'conv2dBackward' | 'conv2dReluPool' | 'conv2dReluPoolBackward';
  const conv: Pick<FusedKernels<TypedArray>, ConvKernels> | Record<string, never> = simd
    ? {
        conv2d: (x, w, bias, win, outC) => wasmConv2d(simd, x as Float32Array, w as Float32Array, bias as Float32Array | null, win, outC),
        conv2dBackward: (dy, x, w, win, outC, needs) =>
          wasmConv2dBackward(simd, dy as Float32Array, x as Float32Array, w as Float32Array, win, outC, needs),
        conv2dReluPool: (x, w, bias, win, outC) =>
          wasmConv2dReluPool(simd, x as Float32Array, w as Float32Array, bias as Float32Array | null, win, outC),
        conv2dReluPoolBackward: (dy, values, argmax, x, w, win, outC, needs) =>
          wasmConv2dReluPoolBackward(
            simd,
            dy as Float32Array,
            { values: values as Float32Array, argmax: argmax as Int32Array },
            x as Float32Array,
            w as Float32Array,
            win,
            outC,
            needs,
          ),
      }
    : {};
  // Attention in one kernel needs the module too; without it, it is composed of matmul and softmax.
  const attention:
    | Pick<FusedKernels<TypedArray>, 'attention' | 'attentionBackward' | 'attentionPacked' | 'attentionPackedBackward'>
    | Record<string, never> = simd
    ? {
        attention: (q, k, v, shape, scale, causal) => wasmAttention(simd, [q, k, v] as Float32Array[], false, shape, scale, causal),
        attentionBackward: (dy, q, k, v, w, shape, scale, causal) =>
          wasmAttentionBackward(simd, dy as Float32Array, [q, k, v] as Float32Array[], w as Float32Array, false, shape, scale, causal) as [
            Float32Array,
            Float32Array,
            Float32Array,
          ],
        attentionPacked: (qkv, shape, scale, causal) => wasmAttention(simd, [qkv as Float32Array], true, shape, scale, causal),
        attentionPackedBackward: (dy, qkv, w, shape, scale, causal) =>
          wasmAttentionBackward(simd, dy as Float32Array, [qkv as Float32Array], w as Float32Array, true, shape, scale, causal)[0],
      }
    : {};
  const backend: Backend<TypedArray> = {
    name: 'cpu',
    valueChecks: true,
    upload: (values, dtype, owned) => {
      if (owned && (dtype === 'int32' ? values instanceof Int32Array : values instanceof Float32Array)) return values;
      const out = newArray(dtype, values.length, false);
      out.set(values);
      return out;
    },
    // Reads are synchronous (so `data()` copies the values before anything else runs, and a
    // storage recycled right after cannot change them).
    read: (x) => x,
    dispose: recycle,
    adopt,
    fill: (size, value, dtype) => newArray(dtype, size, false).fill(value),
    cast: (x, size, _from, to) => {
      const out = newArray(to, size, false);
      if (to === 'int32') for (let i = 0; i < size; i++) out[i] = Math.trunc(x[i]);
      else out.set(x);
      return out;
    },
    unary: (op, x, size, dtype) => unary(op, x, size, dtype, local, simd),
    binary: (op, a, aShape, _ad, b, bShape, _bd, outShape, outDtype) => binary(op, a, aShape, b, bShape, outShape, outDtype, local),
    where,
    reduce: (op, x, shape, axes, dtype) => reduce(op, x, shape, axes, dtype, local),
    matmul: (a, b, batchA, batchB, m, k, n, transA, transB) => matmul(a, b, batchA, batchB, m, k, n, transA, transB, simd),
    transpose: (x, shape, perm, dtype) => transposeWith(local, x, shape, perm, dtype),
    slice,
    pad,
    concat,
    gather,
    scatterAdd,
    im2col,
    col2im,
    fused: {
      softmax: (x, rows, cols) => softmaxF32(x as Float32Array, rows, cols, local),
      logSoftmax: (x, rows, cols) => logSoftmaxRows(x as Float32Array, rows, cols, local),
      softmaxBackward: (dy, y, rows, cols) => softmaxRowsBackward('softmax', dy as Float32Array, y as Float32Array, rows, cols, local),
      logSoftmaxBackward: (dy, y, rows, cols) =>
        softmaxRowsBackward('logSoftmax', dy as Float32Array, y as Float32Array, rows, cols, local),
      maxPool2d: (x, win) => maxPool2d(x as Float32Array, win, simd),
      maxPool2dRelu: (x, win) => maxPool2d(x as Float32Array, win, simd, true),
      linear: (x, w, bias, rows, inF, outF, relu) => linearLayer(x, w, bias, rows, inF, outF, relu, simd),
      linearBackward: (dz, x, w, rows, inF, outF) => linearGradients(dz, x, w, rows, inF, outF, simd),
      reluBackward: (dy, x, size) => reluBackward(dy as Float32Array, x as Float32Array, size, local),
      geluForward: (x, size) => geluForward(x as Float32Array, size, local, simd),
      // The derivative the forward pass saved, times dy: the bits of dy * geluGrad(x).
      geluBackward: (dy, g, size) => binary('mul', dy, [size], g, [size], [size], 'float32', local),
      layerNorm: (x, w, b, rows, cols, eps) =>
        layerNormRows(x as Float32Array, w as Float32Array | null, b as Float32Array | null, rows, cols, eps, local),
      layerNormBackward: (dy, x, w, mean, rstd, rows, cols, needs) =>
        layerNormRowsBackward(
          dy as Float32Array,
          x as Float32Array,
          w as Float32Array | null,
          mean as Float32Array,
          rstd as Float32Array,
          rows,
          cols,
          needs,
          local,
        ),
      crossEntropy: (x, labels, rows, cols, ignoreIndex, reduction) =>
        crossEntropyRows(x as Float32Array, labels, rows, cols, ignoreIndex, reduction),
      crossEntropyBackward: (dy, x, labels, lse, rows, cols, ignoreIndex, reduction) =>
        crossEntropyGrad(dy as Float32Array, x as Float32Array, labels, lse as Float32Array, rows, cols, ignoreIndex, reduction),
      probabilityNll: (p, labels, rows, cols, eps) => probabilityNllRows(p as Float32Array, labels, rows, cols, eps),
      probabilityNllBackward: (dy, p, labels, sums, rows, cols, eps) =>
        probabilityNllGrad(dy as Float32Array, p as Float32Array, labels, sums as Float32Array, rows, cols, eps),
      ...attention,
      im2colWide: (x, win, padValue) => im2col(x, win, padValue, true),
      col2imWide: (cols, win) => col2im(cols, win, true),
      ...conv,
      adamUpdate: (p, g, m, v, vmax, size, c) =>
        adamUpdate(p as Float32Array, g as Float32Array, m as Float32Array, v as Float32Array, vmax as Float32Array | null, size, c, local),
      adamPlace: (p, m, v, size) => adamPlace(simd, local, p as Float32Array, m as Float32Array, v as Float32Array, size),
      sumOfSquares: (xs, sizes) => sumOfSquares(xs as Float32Array[], sizes),
      scaleInPlace: (x, size, factor) => scaleInPlace(x as Float32Array, size, factor as Float32Array, local),
    },
    info: () => ({
      kind: 'cpu',
      kernels: simd ? 'wasm-simd' : 'typescript',
      fma: simd?.fma ?? false,
      threads: 1 + (simd?.threads?.ready ?? 0),
    }),
  };
  return simd?.threads ? settlingOnUse(backend, simd) : backend;
}

/**
 * `b` with every kernel first settling `rt`'s held region (see {@link WasmRuntime.hold}) when it
 * is given the array that region's result goes to: a weight gradient a worker is still computing
 * is complete before anything reads it, disposes of it or writes into it.
 */
function settlingOnUse(b: Backend<TypedArray>, rt: WasmRuntime): Backend<TypedArray> {
  const given = (args: ArrayLike<unknown>, out: Float32Array): void => {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === out || (Array.isArray(a) && a.includes(out))) {
        rt.settle();
        return;
      }
    }
  };
  const wrap = <T extends object>(o: T): T => {
    const w = { ...o } as Record<string, unknown>;
    for (const [k, f] of Object.entries(o)) {
      // adopt only marks an array as the backend's to recycle; it reads nothing.
      if (typeof f !== 'function' || k === 'info' || k === 'adopt') continue;
      const fn = f as (...a: unknown[]) => unknown;
      // `arguments` passed through as they are: no array made per call when nothing is held.
      w[k] = function (this: unknown): unknown {
        const out = rt.pendingOutput;
        // eslint-disable-next-line prefer-rest-params
        if (out !== null) given(arguments, out);
        // eslint-disable-next-line prefer-rest-params
        return fn.apply(this, arguments as unknown as unknown[]);
      };
    }
    return w as T;
  };
  return { ...wrap(b), fused: b.fused ? wrap(b.fused) : undefined };
}
