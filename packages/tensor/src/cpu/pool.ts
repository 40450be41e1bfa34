import type { Window2d } from '../backend/backend.js';
import type { WasmRuntime } from './wasm/wasm-runtime.js';
import { unary } from './elementwise.js';
import { newF32, newI32 } from './storage.js';

/**
 * The module's 2x2 max pooling (`maxpool2x2`, stride 2) of `planes` [h, w] planes at float `xAt` of
 * `on`'s memory into [oh, ow] outputs: each window's maximum to floats `valsAt` onwards and its
 * position to `idxAt` onwards, plane by plane. On `threads` > 1 threads of `rt`'s pool (whose memory
 * `on` then is), each pools its own range of planes; else `on` runs it all.
 */
export function maxPool2x2InHeap(
  rt: WasmRuntime,
  on: WasmRuntime,
  threads: number,
  planes: number,
  h: number,
  w: number,
  oh: number,
  ow: number,
  xAt: number,
  valsAt: number,
  idxAt: number,
  relu: boolean,
): void {
  const args = (p0: number, p1: number) => ({
    x: xAt * 4,
    planes: p1 - p0,
    h,
    w,
    oh,
    ow,
    vals: (valsAt + p0 * oh * ow) * 4,
    idx: (idxAt + p0 * oh * ow) * 4,
    first: p0,
    relu: relu ? 1 : 0,
  });
  if (threads > 1) rt.threads!.runSplit('maxpool2x2', planes, threads, args);
  else on.runTask('maxpool2x2', args(0, planes));
}

/**
 * Max pooling of every `h x w` plane in one pass, keeping the flat index of each maximum
 * so the backward pass is one scatter-add. The composite (im2col padded with -Infinity,
 * then max and argmax over the window) writes a `k*k` times larger column matrix first
 * and needs an equality mask on the way back. With `relu`, it pools `relu(x)` as the relu
 * kernel gives it (`x <= 0 ? 0 : x`: -0 reads as 0, NaN as NaN) without writing that array: the
 * values and positions of max pooling after a ReLU.
 */
export function maxPool2d(x: Float32Array, win: Window2d, simd: WasmRuntime | null = null, relu = false): [Float32Array, Int32Array] {
  const { n, h, w, kh, kw, strideH, strideW, padH, padW, outH, outW } = win;
  const P = outH * outW;
  // Every path below writes each output.
  const values = newF32(n * P, false);
  const argmax = newI32(n * P, false);
  if (kh === 2 && kw === 2 && strideH === 2 && strideW === 2 && padH === 0 && padW === 0) {
    if (simd !== null && n * P > 0) {
      // The WebAssembly kernel: the same scan order and rule, with selects in place of branches
      // (which a JIT cannot predict on data like activations).
      // Large inputs: the planes are split between the threads (each writes its own outputs). An
      // input element costs about as much as eight multiply-adds of the matrix product. One
      // thread runs on the private memory, whose copies in and out are faster (same kernel).
      const work = 8 * n * h * w;
      const threads = simd.threads === null || n < 2 ? 1 : simd.threads.threadsFor(work, 'pool');
      const on = threads > 1 ? simd : simd.alone();
      const t0 = performance.now();
      const xAt = on.dataAt;
      const vAt = xAt + ((n * h * w + 3) & ~3);
      const iAt = vAt + ((n * P + 3) & ~3);
      const mem = on.heap(iAt + n * P);
      mem.set(x.subarray(0, n * h * w), xAt);
      maxPool2x2InHeap(simd, on, threads, n, h, w, outH, outW, xAt, vAt, iAt, relu);
      values.set(mem.subarray(vAt, vAt + n * P));
      argmax.set(new Int32Array(mem.buffer, mem.byteOffset + iAt * 4, n * P));
      simd.threads?.record(threads, work, performance.now() - t0, 'pool');
      return [values, argmax];
    }
    pool2x2(relu ? reluOf(x, n * h * w) : x, n, h, w, outH, outW, values, argmax);
    return [values, argmax];
  }
  if (relu) x = reluOf(x, n * h * w);
  for (let plane = 0; plane < n; plane++) {
    const base = plane * h * w;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * strideH - padH;
      const yStart = Math.max(0, y0);
      const yEnd = Math.min(h, y0 + kh);
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * strideW - padW;
        const xStart = Math.max(0, x0);
        const xEnd = Math.min(w, x0 + kw);
        let bi = base + yStart * w + xStart;
        let best = x[bi];
        for (let iy = yStart; iy < yEnd; iy++) {
          const row = base + iy * w;
          for (let ix = xStart; ix < xEnd; ix++) {
            const v = x[row + ix];
            if (v > best || (v !== v && best === best)) {
              best = v;
              bi = row + ix;
            }
          }
        }
        const o = plane * P + oy * outW + ox;
        values[o] = best;
        argmax[o] = bi;
      }
    }
  }
  return [values, argmax];
}

/**
 * The common 2x2, stride 2, unpadded case with the window unrolled: the same scan order
 * and the same rule (the first maximum wins, a NaN wins over numbers) as the general loop.
 */
function pool2x2(
  x: Float32Array,
  n: number,
  h: number,
  w: number,
  outH: number,
  outW: number,
  values: Float32Array,
  argmax: Int32Array,
): void {
  let o = 0;
  for (let plane = 0; plane < n; plane++) {
    const base = plane * h * w;
    for (let oy = 0; oy < outH; oy++) {
      const r0 = base + 2 * oy * w;
      const r1 = r0 + w;
      for (let ox = 0; ox < outW; ox++, o++) {
        let bi = r0 + 2 * ox;
        let best = x[bi];
        let v = x[bi + 1];
        if (v > best || (v !== v && best === best)) {
          best = v;
          bi = r0 + 2 * ox + 1;
        }
        v = x[r1 + 2 * ox];
        if (v > best || (v !== v && best === best)) {
          best = v;
          bi = r1 + 2 * ox;
        }
        v = x[r1 + 2 * ox + 1];
        if (v > best || (v !== v && best === best)) {
          best = v;
          bi = r1 + 2 * ox + 1;
        }
        values[o] = best;
        argmax[o] = bi;
      }
    }
  }
}

/** The relu op's values of the first `n` values (`x <= 0 ? 0 : x`), for the TypeScript pooling loops. */
function reluOf(x: Float32Array, n: number): Float32Array {
  return unary('relu', x, n, 'float32') as Float32Array;
}
