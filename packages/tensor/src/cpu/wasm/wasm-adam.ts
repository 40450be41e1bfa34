import type { AdamConstants } from '../../backend/backend.js';
import { THREAD_MIN_WORK } from './thread-pool.js';
import { type KernelExports, type WasmRuntime, kernelModule } from './wasm-runtime.js';

/** Below this many values, copying in and out costs more than the SIMD loop saves. */
export const WASM_ADAM_MIN = 1024;

/**
 * Adam and AdamW (L2 or decoupled weight decay; not AMSGrad) on the SIMD kernel, four lanes at a
 * time; f32x4 arithmetic rounds exactly as the float32 ops of the composite update. Where
 * {@link adamPlace} placed the parameter and its moments, the gradient alone is copied into the
 * kernels' memory, block by block, and the kernel updates the three in place; elsewhere all four
 * are copied in and three out. Returns true (the caller leaves AMSGrad to the JavaScript loop).
 */
export function adamSimd(
  rt: WasmRuntime,
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  n: number,
  c: AdamConstants,
): boolean {
  const h = placed(p, m, v);
  if (h !== null && h.slab.shared !== null) {
    adamShared(h.slab.shared, h, g, n, c);
    return true;
  }
  // Block by block, so the blocks copied in are still in cache when the kernel reads them and its
  // results when they are copied out. In scratch, p, g, m, v one block each; placed, g in the
  // slab's scratch and p, m, v where they live, q floats apart.
  const block = h === null ? adamBlock : Math.min(adamBlock, ADAM_BLOCK);
  const q = h === null ? (Math.min(n, block) + 3) & ~3 : h.q;
  const mem = h === null ? rt.heap(4 * q) : h.slab.f;
  for (let at = 0; at < n; at += block) {
    const len = Math.min(block, n - at);
    const end = at + len;
    if (h !== null) {
      mem.set(g.subarray(at, end), G_AT);
      adamKernel(h.slab.exports, h.pAt + at, G_AT, h.pAt + q + at, h.pAt + 2 * q + at, len, c);
      continue;
    }
    mem.set(p.subarray(at, end), 0);
    mem.set(g.subarray(at, end), q);
    if (!c.first) {
      mem.set(m.subarray(at, end), 2 * q);
      mem.set(v.subarray(at, end), 3 * q);
    }
    adamKernel(rt.exports, 0, q, 2 * q, 3 * q, len, c);
    p.set(mem.subarray(0, len), at);
    m.set(mem.subarray(2 * q, 2 * q + len), at);
    v.set(mem.subarray(3 * q, 3 * q + len), at);
  }
  return true;
}

/**
 * Adam where the slab lies in the memory the worker threads share ({@link adamPlace}): the gradient
 * is copied into that memory's scratch, then the kernel updates the values in place, split between
 * the threads where the pool's policy measures that faster ({@link ADAM_WORK} per value). Each thread
 * updates its own range of values, so the bits are those of one thread.
 */
function adamShared(rt: WasmRuntime, h: Home, g: Float32Array, n: number, c: AdamConstants): void {
  const pool = rt.threads;
  const work = n * ADAM_WORK;
  const threads = pool === null ? 1 : pool.threadsFor(work, 'adam');
  const t0 = performance.now();
  const gAt = rt.dataAt;
  rt.heap(gAt + n).set(g.subarray(0, n), gAt);
  // The float32 constants as their bits: the argument struct holds int32 fields.
  const k = kernelConstants(c);
  const constants = {
    ...k,
    b1: bits(k.b1),
    b2: bits(k.b2),
    a1: bits(k.a1),
    a2: bits(k.a2),
    step: bits(k.step),
    eps: bits(k.eps),
    wd: bits(k.wd),
    shrink: bits(k.shrink),
  };
  const part = (i0: number, i1: number) => ({
    p: (h.pAt + i0) * 4,
    g: (gAt + i0) * 4,
    m: (h.pAt + h.q + i0) * 4,
    v: (h.pAt + 2 * h.q + i0) * 4,
    n: i1 - i0,
    ...constants,
  });
  if (threads <= 1) rt.runTask('adam_part', part(0, n));
  else {
    // Ranges of whole vectors (16 values: 64 bytes, a cache line each), the calling thread's first.
    const chunk = Math.ceil(n / threads / 16) * 16;
    const parts = [];
    for (let i0 = 0; i0 < n; i0 += chunk) parts.push(part(i0, Math.min(n, i0 + chunk)));
    // An update in place cannot run twice: a part that failed on a worker is an error, not a rerun.
    pool!.run('adam_part', parts, () => {
      throw new Error('adam: the part of the update a worker thread ran failed; the parameters may be partly updated');
    });
  }
  pool?.record(threads, work, performance.now() - t0, 'adam');
}

/**
 * What one value of an Adam step counts as for the thread policy, in multiply-adds of the matrix
 * product (about 1.2 ns a value against 0.03 ns a multiply-add on one thread): below a few tens of
 * thousands of values the step stays on one thread.
 */
export const ADAM_WORK = 32;

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/** The bits of `x` rounded to float32, as an int32 field of an argument struct. */
function bits(x: number): number {
  f32[0] = x;
  return i32[0];
}

/**
 * The constant parameters of the kernel's `adam` (and `adam_part`) for `c`, by their names in
 * kernels.wat: `first` 1 on the first step, `decay` 0 without weight decay, 1 for Adam's L2 term, 2
 * for AdamW's decoupled one.
 */
function kernelConstants(c: AdamConstants) {
  return {
    b1: c.beta1,
    b2: c.beta2,
    a1: 1 - c.beta1,
    a2: 1 - c.beta2,
    step: c.stepSize,
    eps: c.epsScaled,
    first: c.first ? 1 : 0,
    decay: c.weightDecay === 0 ? 0 : c.decoupled ? 2 : 1,
    wd: c.weightDecay,
    shrink: Math.fround(1 - c.lr * c.weightDecay),
  };
}

/** The kernel's `adam` on `len` values of the arrays at floats `p`, `g`, `m`, `v`. */
function adamKernel(k: KernelExports, p: number, g: number, m: number, v: number, len: number, c: AdamConstants): void {
  const { b1, b2, a1, a2, step, eps, first, decay, wd, shrink } = kernelConstants(c);
  k.adam(p * 4, g * 4, m * 4, v * 4, len, b1, b2, a1, a2, step, eps, first, decay, wd, shrink);
}

/**
 * Values per block of {@link adamSimd}: four blocks of 16,384 floats (256 KiB) stay in a core's
 * L2 cache between being copied in, updated and copied out.
 */
export const ADAM_BLOCK = 1 << 14;
let adamBlock = ADAM_BLOCK;

/** For tests and measurements: the block size of {@link adamSimd} (results do not depend on it). */
export function setAdamBlock(values: number): void {
  adamBlock = Math.max(4, values & ~3);
}

/**
 * Where Adam's parameters and moments live between steps ({@link adamPlace}): each parameter
 * followed by its two moments, back to back, in either of two kinds of memory.
 * - Where the backend has worker threads: a region of the memory they share, set aside for good
 *   ({@link WasmRuntime.claim}; a shared memory's views stay valid as it grows). The matrix
 *   products the threads split read a weight there in place instead of copying it in, and the
 *   update itself is split between the threads.
 * - Elsewhere: a WebAssembly memory of fixed size (it never grows, so views of it stay valid) with
 *   its own instance of the kernels, scratch for one block of a gradient at its start.
 */
interface Slab {
  exports: KernelExports;
  /** The runtime whose shared memory holds the slab, or null for a private memory. */
  shared: WasmRuntime | null;
  f: Float32Array;
  /** The next free float. */
  top: number;
  /** The float past the last one of the slab. */
  end: number;
}

/** Where a parameter and its moments live: `p` at float `pAt` of the slab, `m` and `v` `q` and `2q` floats on. */
interface Home {
  slab: Slab;
  pAt: number;
  q: number;
  m: Float32Array;
  v: Float32Array;
}

/** Floats of one slab (16 MiB) unless one parameter needs more. */
export const SLAB_FLOATS = 1 << 22;
/** The scratch block of the gradient ({@link ADAM_BLOCK} floats), at the start of every slab. */
const G_AT = 16;

/** The parameters placed in a slab, by their view. */
const homes = new WeakMap<Float32Array, Home>();

/**
 * The float offset of array `x` in `rt`'s memory where `x` is a parameter placed in a slab of that
 * memory ({@link adamPlace}), else -1: a kernel on `rt` may then read it where it lives.
 */
export function residentAt(rt: WasmRuntime, x: ArrayLike<number>): number {
  const h = homes.get(x as Float32Array);
  return h !== undefined && h.slab.shared === rt ? h.pAt : -1;
}

/** Where `p` lives with `m` and `v` as its moments, or null. */
function placed(p: Float32Array, m: Float32Array, v: Float32Array): Home | null {
  const h = homes.get(p);
  return h?.m === m && h.v === v ? h : null;
}

/**
 * The slab new parameters go to (a full one is left to the arrays in it, and to the collector);
 * undefined before the first, null for good once a memory could not be made.
 */
let current: Slab | null | undefined;
/** The slab new parameters go to in each shared memory (a full one is left to the parameters in it). */
const sharedSlabs = new WeakMap<WasmRuntime, Slab>();

/**
 * The CPU backend's `fused.adamPlace`: parameter `p` and its moments `m` and `v` (`n` values
 * each) as views of a slab, where {@link adamSimd} updates them in place (copies, made on first
 * sight; the views themselves when they already are), or the arrays themselves below
 * {@link WASM_ADAM_MIN} or where no memory can be made. The slab lies in the memory of `main`
 * where `main` has worker threads, else in a private memory with the kernels `local` runs.
 */
export function adamPlace(
  main: WasmRuntime | null,
  local: WasmRuntime | null,
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  n: number,
): [Float32Array, Float32Array, Float32Array] {
  if (local === null || n < WASM_ADAM_MIN || placed(p, m, v) !== null) return [p, m, v];
  const q = (n + 15) & ~15;
  // In the shared memory only where the update may be split: the products that run on one thread copy
  // a weight out of a shared buffer more slowly than out of a private one (401 KB with warm caches:
  // 11.4 against 8.3 microseconds on an Intel Xeon with AVX-512), which a smaller weight's split
  // products and one-thread update would not pay back.
  const share = main !== null && main.threads !== null && n * ADAM_WORK >= THREAD_MIN_WORK;
  const slab = share ? sharedSlab(main, 3 * q) : privateSlab(local, 3 * q);
  if (slab === null) return [p, m, v];
  const pAt = slab.top;
  slab.top += 3 * q;
  const out = [p, m, v].map((x, i) => {
    const view = slab.f.subarray(pAt + i * q, pAt + i * q + n);
    view.set(x.subarray(0, n));
    return view;
  }) as [Float32Array, Float32Array, Float32Array];
  homes.set(out[0], { slab, pAt, q, m: out[1], v: out[2] });
  return out;
}

/** A slab of `rt`'s shared memory with room for `floats` more, or null where the memory cannot grow. */
function sharedSlab(rt: WasmRuntime, floats: number): Slab | null {
  let slab = sharedSlabs.get(rt);
  if (slab === undefined || slab.top + floats > slab.end) {
    const size = Math.max(SLAB_FLOATS, floats);
    let from: number;
    try {
      from = rt.claim(size);
    } catch {
      // The memory cannot grow that far: the arrays stay where they are.
      return null;
    }
    slab = { exports: rt.exports, shared: rt, f: new Float32Array(rt.memory.buffer), top: from, end: from + size };
    sharedSlabs.set(rt, slab);
  }
  return slab;
}

/** The private slab with room for `floats` more (a new one when full), or null once a memory could not be made. */
function privateSlab(rt: WasmRuntime, floats: number): Slab | null {
  if (current === null) return null;
  if (current === undefined || current.top + floats > current.end) {
    // Fixed in size, so that views of it stay valid.
    const pages = Math.ceil((Math.max(SLAB_FLOATS, G_AT + ADAM_BLOCK + floats) * 4) / 65536);
    try {
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
      // The private variant of the kernels `rt` runs (compiled, since `rt` exists).
      const exports = new WebAssembly.Instance(kernelModule(false, rt.fma)!, { env: { memory } }).exports as unknown as KernelExports;
      const f = new Float32Array(memory.buffer);
      current = { exports, shared: null, f, top: G_AT + ADAM_BLOCK, end: f.length };
    } catch {
      // Out of address space or memory: the arrays stay where they are, on the scratch path.
      current = null;
      return null;
    }
  }
  return current;
}
