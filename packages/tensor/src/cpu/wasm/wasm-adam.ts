import type { AdamConstants } from '../../backend/backend.js';
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

/** The kernel's `adam` on `len` values of the arrays at floats `p`, `g`, `m`, `v`. */
function adamKernel(k: KernelExports, p: number, g: number, m: number, v: number, len: number, c: AdamConstants): void {
  k.adam(
    p * 4,
    g * 4,
    m * 4,
    v * 4,
    len,
    c.beta1,
    c.beta2,
    1 - c.beta1,
    1 - c.beta2,
    c.stepSize,
    c.epsScaled,
    c.first ? 1 : 0,
    c.weightDecay === 0 ? 0 : c.decoupled ? 2 : 1,
    c.weightDecay,
    Math.fround(1 - c.lr * c.weightDecay),
  );
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
 * Where Adam's parameters and moments live between steps ({@link adamPlace}): a WebAssembly
 * memory of fixed size (it never grows, so views of it stay valid) with its own instance of the
 * kernels, scratch for one block of a gradient at the start, then each parameter placed there
 * followed by its two moments, back to back.
 */
interface Slab {
  exports: KernelExports;
  f: Float32Array;
  /** The next free float. */
  top: number;
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

/**
 * The CPU backend's `fused.adamPlace`: parameter `p` and its moments `m` and `v` (`n` values
 * each) as views of a slab, where {@link adamSimd} updates them in place (copies, made on first
 * sight; the views themselves when they already are), or the arrays themselves below
 * {@link WASM_ADAM_MIN} or where no memory can be made.
 */
export function adamPlace(
  rt: WasmRuntime | null,
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  n: number,
): [Float32Array, Float32Array, Float32Array] {
  if (rt === null || n < WASM_ADAM_MIN || current === null || placed(p, m, v) !== null) return [p, m, v];
  const q = (n + 15) & ~15;
  if (current === undefined || current.top + 3 * q > current.f.length) {
    // Fixed in size, so that views of it stay valid.
    const pages = Math.ceil((Math.max(SLAB_FLOATS, G_AT + ADAM_BLOCK + 3 * q) * 4) / 65536);
    try {
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
      // The private variant of the kernels `rt` runs (compiled, since `rt` exists).
      const exports = new WebAssembly.Instance(kernelModule(false, rt.fma)!, { env: { memory } }).exports as unknown as KernelExports;
      current = { exports, f: new Float32Array(memory.buffer), top: G_AT + ADAM_BLOCK };
    } catch {
      // Out of address space or memory: the arrays stay where they are, on the scratch path.
      current = null;
      return [p, m, v];
    }
  }
  const slab = current;
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
