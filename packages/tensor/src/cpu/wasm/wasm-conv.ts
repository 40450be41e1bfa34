import type { Window2d } from '../../backend/backend.js';
import { roundUp } from './wasm-gemm.js';
import type { TaskArgs, WasmRuntime } from './wasm-runtime.js';
import { newF32, newI32 } from '../storage.js';
import { maxPool2x2InHeap } from '../pool.js';

/**
 * Most floats of images one call moves through the module's memory (16 MiB): a larger batch
 * (evaluating 10,000 images at once) is convolved a slice at a time.
 */
const CALL_FLOATS = 1 << 22;
let callFloats = CALL_FLOATS;

/** For tests: the most floats of images one call moves (the default when not given); results do not depend on it. */
export function setConvCallFloats(floats = CALL_FLOATS): void {
  callFloats = floats;
}

/** Floats of one group's column matrix: 256 KiB, so it stays in a core's L2 cache until multiplied. */
const GROUP_FLOATS = 1 << 16;

/** Places buffers one after another in the module's memory (float offsets, 16-byte aligned). */
class Layout {
  // From the runtime's scratch (after the argument slots), with a few floats of slack between buffers.
  constructor(private end: number) {}
  take(floats: number): number {
    const at = this.end;
    this.end += roundUp(floats, 4) + 4;
    return at;
  }
  get size(): number {
    return this.end;
  }
}

/** Images per group: as many as keep `rows x images*P` columns within {@link GROUP_FLOATS}. */
function groupSize(rows: number, P: number): number {
  return Math.max(1, Math.floor(GROUP_FLOATS / Math.max(1, rows * P)));
}

/** Threads to use for `work` multiply-adds: the pool's policy, or 1 without one. */
function threadsFor(rt: WasmRuntime, work: number): number {
  return rt.threads === null ? 1 : rt.threads.threadsFor(work, 'conv');
}

type Driver = 'conv_fwd' | 'conv_bwd_w' | 'conv_bwd_x';

/**
 * Runs a convolution driver on `threads` threads at once (fewer when there are fewer groups),
 * `args(t)` being thread t's arguments: the same images and outputs for all, their own scratch
 * buffers. The drivers claim groups of images from the shared counter at float `counterAt`
 * (zeroed here), so the threads share the work however fast each runs; which thread computes a
 * group does not change its result, so neither does the number of threads.
 */
function onThreads<K extends Driver>(
  rt: WasmRuntime,
  kernel: K,
  groups: number,
  threads: number,
  counterAt: number,
  args: (t: number) => TaskArgs<K>,
): void {
  const reset = (): void => {
    rt.heap(counterAt + 1)[counterAt] = 0;
  };
  reset();
  const parts = Math.min(threads, groups);
  const lists: TaskArgs<K>[] = [];
  for (let t = 0; t < parts; t++) lists.push(args(t));
  if (lists.length === 1 || rt.threads === null) rt.runTask(kernel, lists[0]);
  else rt.threads.run(kernel, lists, reset);
}

/** The window's geometry as the drivers take it. */
function geometry(win: Window2d) {
  return {
    c: win.c,
    h: win.h,
    w: win.w,
    kh: win.kh,
    kw: win.kw,
    sh: win.strideH,
    sw: win.strideW,
    ph: win.padH,
    pw: win.padW,
    oh: win.outH,
    ow: win.outW,
  };
}

/**
 * 2-D convolution `[n, c, h, w] * [outC, c, kh, kw] (+ bias) -> [n, outC, outH, outW]` on the
 * WebAssembly kernels. The images are copied into the module; the threads take small groups of
 * them one at a time and, for each, write the group's columns (`[K, images*P]`, cache-sized),
 * multiplies them with the weight and writes the product into NCHW order with the bias. No
 * column matrix or transposed copy is left in JavaScript memory.
 */
export function wasmConv2d(
  rt: WasmRuntime,
  x: Float32Array,
  weight: Float32Array,
  bias: Float32Array | null,
  win: Window2d,
  outC: number,
): Float32Array {
  return convForward(rt, x, weight, bias, win, outC, false)[0];
}

/**
 * {@link wasmConv2d}, then ReLU and 2x2 max pooling with stride 2 (no padding, partial windows
 * dropped) over its output, in the module's memory: the pooled values `[n, outC, outH/2, outW/2]`
 * and the flat position of each maximum in the convolution's output `[n, outC, outH, outW]`, which is
 * never copied out. The values and positions of `maxPool2dRelu` on {@link wasmConv2d}'s output.
 */
export function wasmConv2dReluPool(
  rt: WasmRuntime,
  x: Float32Array,
  weight: Float32Array,
  bias: Float32Array | null,
  win: Window2d,
  outC: number,
): [Float32Array, Int32Array] {
  return convForward(rt, x, weight, bias, win, outC, true) as [Float32Array, Int32Array];
}

function convForward(
  rt: WasmRuntime,
  x: Float32Array,
  weight: Float32Array,
  bias: Float32Array | null,
  win: Window2d,
  outC: number,
  pool: boolean,
): [Float32Array, Int32Array | null] {
  const { n, c, kh, kw, outH, outW } = win;
  const K = c * kh * kw;
  const P = outH * outW;
  const img = c * win.h * win.w;
  // Pooled: each plane's 2x2 windows, the last row and column dropped when odd.
  const [ph, pw] = [outH >> 1, outW >> 1];
  const Q = ph * pw;
  // Written in full below (and of no size when there is nothing to convolve).
  const out = newF32(n * outC * (pool ? Q : P), false);
  const argmax = pool ? newI32(n * outC * Q, false) : null;
  if (n === 0 || P === 0 || outC === 0) return [out, argmax];
  const g = groupSize(K, P);
  const nb = Math.max(1, Math.min(n, Math.floor(callFloats / (img + outC * P))));
  const work = outC * K * P * n;
  const threads = threadsFor(rt, work);
  // One thread runs on the private memory, whose copies in and out are faster (same kernels, same bits).
  const on = threads === 1 ? rt.alone() : rt;
  const t0 = performance.now();
  const mp = roundUp(outC, 4);
  const npG = roundUp(g * P, 8);
  const L = new Layout(on.dataAt);
  const wAt = L.take(mp * K);
  const biasAt = bias ? L.take(outC) : 0;
  const xAt = L.take(nb * img);
  const outAt = L.take(nb * outC * P);
  const valsAt = pool ? L.take(nb * outC * Q) : 0;
  const idxAt = pool ? L.take(nb * outC * Q) : 0;
  const counterAt = L.take(1);
  const scratch: [number, number][] = [];
  for (let t = 0; t < threads; t++) scratch.push([L.take(K * npG), L.take(mp * npG)]);
  const mem = on.heap(L.size);
  mem.fill(0, wAt, wAt + mp * K);
  mem.set(weight.subarray(0, outC * K), wAt);
  if (bias) mem.set(bias.subarray(0, outC), biasAt);
  const geo = geometry(win);
  for (let b0 = 0; b0 < n; b0 += nb) {
    const cnt = Math.min(nb, n - b0);
    mem.set(x.subarray(b0 * img, (b0 + cnt) * img), xAt);
    onThreads(on, 'conv_fwd', Math.ceil(cnt / g), threads, counterAt, (t) => ({
      x: xAt * 4,
      n: cnt,
      ...geo,
      wgt: wAt * 4,
      mp,
      bias: biasAt * 4,
      outC,
      out: outAt * 4,
      cols: scratch[t][0] * 4,
      cbuf: scratch[t][1] * 4,
      g,
      counter: counterAt * 4,
    }));
    if (!pool) {
      out.set(mem.subarray(outAt, outAt + cnt * outC * P), b0 * outC * P);
      continue;
    }
    // The output's planes pooled where they lie (positions counted from this slice's first plane).
    const m = cnt * outC * Q;
    // On the threads the convolution ran on (the kernel does nothing where the output is under 2x2).
    maxPool2x2InHeap(rt, on, threads, cnt * outC, outH, outW, ph, pw, outAt, valsAt, idxAt, true);
    out.set(mem.subarray(valsAt, valsAt + m), b0 * outC * Q);
    const idx = new Int32Array(mem.buffer, mem.byteOffset + idxAt * 4, m);
    if (b0 === 0) argmax!.set(idx);
    else for (let j = 0, o = b0 * outC * Q, shift = b0 * outC * P; j < m; j++) argmax![o + j] = idx[j] + shift;
  }
  rt.threads?.record(threads, work, performance.now() - t0, 'conv');
  return [out, argmax];
}

/** The sum of channel `o` of `dy [n, outC, P]` over images and pixels. */
function biasGrad(dy: Float32Array, n: number, outC: number, P: number, o: number): number {
  let s = 0;
  for (let b = 0; b < n; b++) {
    const at = (b * outC + o) * P;
    for (let p = 0; p < P; p++) s += dy[at + p];
  }
  return s;
}

/**
 * The gradients of {@link wasmConv2d} for the output gradient `dy [n, outC, outH, outW]`, each
 * only where `needs` asks: the input's (`W^T @ dy` per group, folded back by col2im), the
 * weight's (`dW^T = cols @ dy^T` per group, the groups' products then summed in order; the
 * columns are recomputed from `x` rather than kept from the forward pass) and the bias's
 * (sums of `dy`, from the same products through a row of ones under the columns).
 */
export function wasmConv2dBackward(
  rt: WasmRuntime,
  dy: Float32Array,
  x: Float32Array,
  weight: Float32Array,
  win: Window2d,
  outC: number,
  needs: readonly [boolean, boolean, boolean],
): [Float32Array | null, Float32Array | null, Float32Array | null] {
  return convBackward(rt, dy, null, x, weight, win, outC, needs);
}

/** What {@link wasmConv2dReluPool} saved for its gradient: the pooled values and the positions of the maxima. */
export interface PoolSaved {
  values: Float32Array;
  argmax: Int32Array;
}

/**
 * The gradients of {@link wasmConv2dReluPool} for the pooled gradient `dy [n, outC, outH/2, outW/2]`:
 * the convolution's output gradient (`dy` at each maximum unless the pooled value is 0
 * or less, 0 elsewhere) is written by the module's `unpool` kernel (split between the threads on a large
 * batch) straight into the memory {@link wasmConv2dBackward}'s kernels then read. The bits of
 * `maxPool2dRelu`'s gradient followed by {@link wasmConv2dBackward}.
 */
export function wasmConv2dReluPoolBackward(
  rt: WasmRuntime,
  dy: Float32Array,
  saved: PoolSaved,
  x: Float32Array,
  weight: Float32Array,
  win: Window2d,
  outC: number,
  needs: readonly [boolean, boolean, boolean],
): [Float32Array | null, Float32Array | null, Float32Array | null] {
  if (needs[1] || !needs[2]) return convBackward(rt, dy, saved, x, weight, win, outC, needs);
  // The bias without the weight: its sums are taken over the unpooled gradient in JavaScript.
  const full = newF32(win.n * outC * win.outH * win.outW);
  unpool(full, dy, saved);
  return convBackward(rt, full, null, x, weight, win, outC, needs);
}

/**
 * Adds the pooled gradient `dy` (0 where the pooled value is 0 or less) into the zeroed `to`
 * at `argmax[j]`: what the module's `unpool` kernel writes (the windows do not overlap, so each
 * position gets one value).
 */
function unpool(to: Float32Array, dy: Float32Array, { values, argmax }: PoolSaved): void {
  for (let j = 0; j < argmax.length; j++) if (!(values[j] <= 0)) to[argmax[j]] += dy[j];
}

function convBackward(
  rt: WasmRuntime,
  dy: Float32Array,
  pooled: PoolSaved | null,
  x: Float32Array,
  weight: Float32Array,
  win: Window2d,
  outC: number,
  needs: readonly [boolean, boolean, boolean],
): [Float32Array | null, Float32Array | null, Float32Array | null] {
  const { n, c, kh, kw, outH, outW } = win;
  const K = c * kh * kw;
  const P = outH * outW;
  const Q = (outH >> 1) * (outW >> 1);
  const img = c * win.h * win.w;
  // dx is written in full below, except when there is no output: then it is all zeros.
  const dx = needs[0] ? newF32(n * img, P === 0 || outC === 0) : null;
  const dw = needs[1] ? newF32(outC * K) : null;
  const db = needs[2] ? newF32(outC) : null;
  if (n === 0 || P === 0 || outC === 0) return [dx, dw, db];
  if (dw === null && db !== null) for (let o = 0; o < outC; o++) db[o] = biasGrad(dy, n, outC, P, o);
  if (dx === null && dw === null) return [dx, dw, db];
  const onesRow = dw !== null && db !== null;
  const kp = roundUp(onesRow ? K + 1 : K, 4);
  const op = roundUp(outC, 8);
  const g = groupSize(kp, P);
  const npG = roundUp(g * P, 8);
  // Per image: x and dx, the convolution's output gradient, and the pooled gradient, values and positions.
  const perImage = 2 * img + outC * P + (pooled === null ? 0 : 3 * outC * Q);
  const nb = Math.max(1, Math.min(n, Math.floor(callFloats / perImage)));
  const work = outC * K * P * n * ((dx ? 1 : 0) + (dw ? 1 : 0));
  const threads = threadsFor(rt, work);
  // One thread runs on the private memory, whose copies in and out are faster (same kernels, same bits).
  const on = threads === 1 ? rt.alone() : rt;
  const t0 = performance.now();
  const L = new Layout(on.dataAt);
  const dyAt = L.take(nb * outC * P);
  const xAt = dw ? L.take(nb * img) : 0;
  const accAt = dw ? L.take(Math.ceil(nb / g) * kp * op) : 0;
  const wtAt = dx ? L.take(kp * outC) : 0;
  const dxAt = dx ? L.take(nb * img) : 0;
  // The pooled gradient, values and positions of a slice, which the unpool kernel reads.
  const [pdyAt, pvAt, piAt] = pooled === null ? [0, 0, 0] : [L.take(nb * outC * Q), L.take(nb * outC * Q), L.take(nb * outC * Q)];
  const counterAt = L.take(1);
  const scratch: [number, number][] = [];
  for (let t = 0; t < threads; t++) {
    // Weight gradient: columns [kp, g*P] and dy^T [g*P, op]; input gradient: dy [outC, npG] and dcols [kp, npG].
    scratch.push(dw ? [L.take(kp * g * P), L.take(g * P * op)] : [0, 0]);
    scratch.push(dx ? [L.take(outC * npG), L.take(kp * npG)] : [0, 0]);
  }
  const mem = on.heap(L.size);
  if (dx) {
    mem.fill(0, wtAt, wtAt + kp * outC);
    for (let o = 0; o < outC; o++) for (let r = 0; r < K; r++) mem[wtAt + r * outC + o] = weight[o * K + r];
  }
  const geo = geometry(win);
  for (let b0 = 0; b0 < n; b0 += nb) {
    const cnt = Math.min(nb, n - b0);
    if (pooled === null) mem.set(dy.subarray(b0 * outC * P, (b0 + cnt) * outC * P), dyAt);
    else {
      const j0 = b0 * outC * Q;
      const m = cnt * outC * Q;
      // The kernel writes every cell of every window; only an odd output leaves cells outside them.
      if ((outH | outW) & 1) mem.fill(0, dyAt, dyAt + cnt * outC * P);
      mem.set(dy.subarray(j0, j0 + m), pdyAt);
      mem.set(pooled.values.subarray(j0, j0 + m), pvAt);
      new Int32Array(mem.buffer, mem.byteOffset + piAt * 4, m).set(pooled.argmax.subarray(j0, j0 + m));
      const planes = (p0: number, p1: number) => ({
        dy: (pdyAt + p0 * Q) * 4,
        vals: (pvAt + p0 * Q) * 4,
        idx: (piAt + p0 * Q) * 4,
        planes: p1 - p0,
        h: outH,
        w: outW,
        oh: outH >> 1,
        ow: outW >> 1,
        dst: dyAt * 4,
        shift: b0 * outC * P,
        first: p0,
      });
      // Threads take disjoint ranges of planes, which write disjoint floats.
      if (threads > 1) rt.threads!.runSplit('unpool', cnt * outC, threads, planes);
      else on.runTask('unpool', planes(0, cnt * outC));
    }
    if (dw) {
      mem.set(x.subarray(b0 * img, (b0 + cnt) * img), xAt);
      const groups = Math.ceil(cnt / g);
      onThreads(on, 'conv_bwd_w', groups, threads, counterAt, (t) => ({
        x: xAt * 4,
        n: cnt,
        ...geo,
        dy: dyAt * 4,
        outC,
        kp,
        op,
        ones: onesRow ? 1 : 0,
        cols: scratch[2 * t][0] * 4,
        dyt: scratch[2 * t][1] * 4,
        acc: accAt * 4,
        g,
        counter: counterAt * 4,
      }));
      // The groups' products, summed in group order.
      for (let s = 1; s < groups; s++) on.exports.add(accAt * 4, (accAt + s * kp * op) * 4, accAt * 4, kp * op);
      for (let o = 0; o < outC; o++) for (let r = 0; r < K; r++) dw[o * K + r] += mem[accAt + r * op + o];
      if (onesRow) for (let o = 0; o < outC; o++) db![o] += mem[accAt + K * op + o];
    }
    if (dx) {
      onThreads(on, 'conv_bwd_x', Math.ceil(cnt / g), threads, counterAt, (t) => ({
        dy: dyAt * 4,
        n: cnt,
        outC,
        wt: wtAt * 4,
        kp,
        dyw: scratch[2 * t + 1][0] * 4,
        dcol: scratch[2 * t + 1][1] * 4,
        dx: dxAt * 4,
        g,
        counter: counterAt * 4,
        ...geo,
      }));
      dx.set(mem.subarray(dxAt, dxAt + cnt * img), b0 * img);
    }
  }
  rt.threads?.record(threads, work, performance.now() - t0, 'conv');
  return [dx, dw, db];
}
