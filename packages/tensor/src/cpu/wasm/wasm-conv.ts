import type { Window2d } from '../../backend/backend.js';
import { gemmInHeap, roundUp } from './wasm-gemm.js';
import type { WasmRuntime } from './wasm-runtime.js';

/**
 * Most floats one chunk's column matrix may take in the module's memory (16 MiB): a batch
 * whose columns are larger is convolved a few images at a time, so evaluating 10,000 images
 * in one call does not need gigabytes of columns.
 */
const CHUNK_FLOATS = 1 << 22;

/** Places buffers one after another in the module's memory (float offsets, 16-byte aligned). */
class Layout {
  // Nothing at address 0, and a few floats of slack between buffers.
  private end = 16;
  take(floats: number): number {
    const at = this.end;
    this.end += roundUp(floats, 4) + 4;
    return at;
  }
  get size(): number {
    return this.end;
  }
}

function imagesPerChunk(K: number, P: number, n: number): number {
  return Math.max(1, Math.min(n, Math.floor(CHUNK_FLOATS / Math.max(1, K * P))));
}

/** The module's im2col of one image at float `xAt` into columns at float `dst` (row stride `ld`). */
function im2colAt(rt: WasmRuntime, win: Window2d, xAt: number, dst: number, ld: number): void {
  rt.exports.im2col(xAt * 4, win.c, win.h, win.w, win.kh, win.kw, win.strideH, win.strideW, win.padH, win.padW, win.outH, win.outW, dst * 4, ld);
}

/** The sum of channel `o` of `dy [n, outC, P]` over images `b0 .. b0+n` and pixels. */
function biasGrad(dy: Float32Array, n: number, outC: number, P: number, o: number, b0 = 0): number {
  let s = 0;
  for (let b = b0; b < b0 + n; b++) {
    const at = (b * outC + o) * P;
    for (let p = 0; p < P; p++) s += dy[at + p];
  }
  return s;
}

/**
 * 2-D convolution `[n, c, h, w] * [outC, c, kh, kw] (+ bias) -> [n, outC, outH, outW]` on the
 * WebAssembly kernels, with no column matrix or transposed copy left in JavaScript memory:
 * per chunk of images, the input is copied into the module, each image's columns are written
 * side by side (`[K, images*P]`), one matrix product with the weight (split across the worker
 * threads) gives `[outC, images*P]`, and its rows are copied out into NCHW order with the bias.
 */
export function wasmConv2d(
  rt: WasmRuntime, x: Float32Array, weight: Float32Array, bias: Float32Array | null, win: Window2d, outC: number,
): Float32Array {
  const { n, c, h, w, kh, kw, outH, outW } = win;
  const K = c * kh * kw;
  const P = outH * outW;
  const img = c * h * w;
  const out = new Float32Array(n * outC * P);
  if (n === 0 || P === 0 || outC === 0) return out;
  const nb = imagesPerChunk(K, P, n);
  const mp = roundUp(outC, 4);
  const npMax = roundUp(nb * P, 8);
  const L = new Layout();
  const wAt = L.take(mp * K);
  const xAt = L.take(nb * img);
  const colAt = L.take(K * npMax);
  const cAt = L.take(mp * npMax);
  const mem = rt.heap(L.size);
  mem.fill(0, wAt, wAt + mp * K);
  mem.set(weight.subarray(0, outC * K), wAt);
  for (let b0 = 0; b0 < n; b0 += nb) {
    const cnt = Math.min(nb, n - b0);
    const N = cnt * P;
    const np = roundUp(N, 8);
    mem.set(x.subarray(b0 * img, (b0 + cnt) * img), xAt);
    for (let b = 0; b < cnt; b++) im2colAt(rt, win, xAt + b * img, colAt + b * P, np);
    if (np !== N) for (let r = 0; r < K; r++) mem.fill(0, colAt + r * np + N, colAt + (r + 1) * np);
    gemmInHeap(rt, wAt, colAt, cAt, mp, K, np);
    for (let o = 0; o < outC; o++) {
      const row = cAt + o * np;
      if (bias !== null) rt.exports.add_scalar(row * 4, bias[o], row * 4, N);
      for (let b = 0; b < cnt; b++) out.set(mem.subarray(row + b * P, row + (b + 1) * P), ((b0 + b) * outC + o) * P);
    }
  }
  return out;
}

/**
 * The gradients of {@link wasmConv2d} for the output gradient `dy [n, outC, outH, outW]`, each
 * only where `needs` asks: the input's (`W^T @ dy` per chunk, folded back by col2im), the
 * weight's (`dW^T = cols @ dy^T`, summed over the batch inside the product; the columns are
 * recomputed from `x` rather than kept from the forward pass) and the bias's (sums of `dy`, from
 * the same product through a row of ones under the columns).
 */
export function wasmConv2dBackward(
  rt: WasmRuntime, dy: Float32Array, x: Float32Array, weight: Float32Array, win: Window2d, outC: number,
  needs: readonly [boolean, boolean, boolean],
): [Float32Array | null, Float32Array | null, Float32Array | null] {
  const { n, c, h, w, kh, kw, outH, outW } = win;
  const K = c * kh * kw;
  const P = outH * outW;
  const img = c * h * w;
  const dx = needs[0] ? new Float32Array(n * img) : null;
  const dw = needs[1] ? new Float32Array(outC * K) : null;
  const db = needs[2] ? new Float32Array(outC) : null;
  if (n === 0 || P === 0 || outC === 0) return [dx, dw, db];
  if (dx === null && dw === null) {
    if (db !== null) for (let o = 0; o < outC; o++) db[o] = biasGrad(dy, n, outC, P, o);
    return [dx, dw, db];
  }
  const nb = imagesPerChunk(K, P, n);
  // With the weight's gradient, the bias's comes from the same product: a row of ones under
  // the columns gives row K of dW^T = the sums of dy.
  const onesRow = dw !== null && db !== null;
  const kp = roundUp(onesRow ? K + 1 : K, 4);
  const op = roundUp(outC, 8);
  const npMax = roundUp(nb * P, 8);
  const L = new Layout();
  const dyAt = L.take(nb * outC * P);
  // Weight gradient: dW^T [kp, op] = cols [kp, N] @ dy^T [N, op].
  const xAt = dw ? L.take(nb * img) : 0;
  const colAt = dw ? L.take(kp * nb * P) : 0;
  const dytAt = dw ? L.take(nb * P * op) : 0;
  const dwtAt = dw ? L.take(kp * op) : 0;
  // Input gradient: dcols [kp, np] = W^T [kp, outC] @ dy [outC, np], then col2im.
  const wtAt = dx ? L.take(kp * outC) : 0;
  const dywAt = dx ? L.take(outC * npMax) : 0;
  const dcolAt = dx ? L.take(kp * npMax) : 0;
  const dxAt = dx ? L.take(nb * img) : 0;
  const mem = rt.heap(L.size);
  if (dx) {
    mem.fill(0, wtAt, wtAt + kp * outC);
    for (let o = 0; o < outC; o++) for (let r = 0; r < K; r++) mem[wtAt + r * outC + o] = weight[o * K + r];
  }
  const bias64 = db !== null && !onesRow ? new Float64Array(outC) : null;
  for (let b0 = 0; b0 < n; b0 += nb) {
    const cnt = Math.min(nb, n - b0);
    const N = cnt * P;
    mem.set(dy.subarray(b0 * outC * P, (b0 + cnt) * outC * P), dyAt);
    if (bias64 !== null) for (let o = 0; o < outC; o++) bias64[o] += biasGrad(dy, cnt, outC, P, o, b0);
    if (dw) {
      mem.set(x.subarray(b0 * img, (b0 + cnt) * img), xAt);
      for (let b = 0; b < cnt; b++) im2colAt(rt, win, xAt + b * img, colAt + b * P, N);
      mem.fill(0, colAt + K * N, colAt + kp * N);
      if (onesRow) mem.fill(1, colAt + K * N, colAt + (K + 1) * N);
      if (op !== outC) mem.fill(0, dytAt, dytAt + N * op);
      for (let b = 0; b < cnt; b++) rt.exports.transpose((dyAt + b * outC * P) * 4, outC, P, (dytAt + b * P * op) * 4, op);
      gemmInHeap(rt, colAt, dytAt, dwtAt, kp, N, op);
      for (let o = 0; o < outC; o++) for (let r = 0; r < K; r++) dw[o * K + r] += mem[dwtAt + r * op + o];
      if (onesRow) for (let o = 0; o < outC; o++) db![o] += mem[dwtAt + K * op + o];
    }
    if (dx) {
      const np = roundUp(N, 8);
      for (let o = 0; o < outC; o++) {
        const row = dywAt + o * np;
        for (let b = 0; b < cnt; b++) {
          const s = dyAt + (b * outC + o) * P;
          mem.copyWithin(row + b * P, s, s + P);
        }
        mem.fill(0, row + N, row + np);
      }
      gemmInHeap(rt, wtAt, dywAt, dcolAt, kp, outC, np);
      mem.fill(0, dxAt, dxAt + cnt * img);
      for (let b = 0; b < cnt; b++) {
        rt.exports.col2im(
          (dcolAt + b * P) * 4, np, c, h, w, kh, kw, win.strideH, win.strideW, win.padH, win.padW, outH, outW, (dxAt + b * img) * 4,
        );
      }
      dx.set(mem.subarray(dxAt, dxAt + cnt * img), b0 * img);
    }
  }
  if (bias64 !== null) for (let o = 0; o < outC; o++) db![o] = bias64[o];
  return [dx, dw, db];
}
