import type { AdamConstants } from '../../backend/backend.js';
import { type KernelExports, type WasmRuntime, kernelModule } from './wasm-runtime.js';

/** Below this many values, copying in and out costs more than the SIMD loop saves. */
export const WASM_ADAM_MIN = 1024;

/**
 * Adam and AdamW (L2 or decoupled weight decay; not AMSGrad) on the SIMD kernel, four lanes at a
 * time; f32x4 arithmetic rounds exactly as the float32 ops of the composite update. Block by
 * block, the parameter and its gradient are copied into the kernels' memory, updated there and the
 * parameter copied back; the moments are updated in place where {@link adamMoments} placed them
 * (three copies a block), else copied in and out too (seven). Returns true (the caller leaves
 * AMSGrad to the JavaScript loop).
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
  const home = homes.get(m);
  const h = home?.v === v ? home : null;
  // Block by block, so the blocks copied in are still in cache when the kernel reads them and its
  // results when they are copied out. Layout in floats: p at `o`, g at `o + q`, then (in scratch)
  // m and v.
  const block = h === null ? adamBlock : Math.min(adamBlock, ADAM_BLOCK);
  const q = h === null ? (Math.min(n, block) + 3) & ~3 : ADAM_BLOCK;
  const o = h === null ? 0 : P_AT;
  const mem = h === null ? rt.heap(4 * q) : h.slab.f;
  for (let at = 0; at < n; at += block) {
    const len = Math.min(block, n - at);
    const end = at + len;
    const mAt = h === null ? 2 * q : h.mAt + at;
    const vAt = h === null ? 3 * q : h.vAt + at;
    mem.set(p.subarray(at, end), o);
    mem.set(g.subarray(at, end), o + q);
    if (h === null && !c.first) {
      mem.set(m.subarray(at, end), mAt);
      mem.set(v.subarray(at, end), vAt);
    }
    adamKernel(h === null ? rt.exports : h.slab.exports, o, o + q, mAt, vAt, len, c);
    p.set(mem.subarray(o, o + len), at);
    if (h === null) {
      m.set(mem.subarray(mAt, mAt + len), at);
      v.set(mem.subarray(vAt, vAt + len), at);
    }
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
 * Where Adam's moments live between steps ({@link adamMoments}): a WebAssembly memory of fixed
 * size (it never grows, so views of it stay valid) with its own instance of the kernels, scratch
 * for one block of a parameter and of its gradient at the start, then the moments of the
 * parameters placed there, back to back.
 */
interface Slab {
  exports: KernelExports;
  f: Float32Array;
  /** The next free float. */
  top: number;
}

/** The moments of one parameter: the slab and the floats where `m` and its partner `v` start. */
interface Home {
  slab: Slab;
  mAt: number;
  vAt: number;
  v: Float32Array;
}

/** Floats of one slab (16 MiB) unless one parameter's moments need more. */
export const SLAB_FLOATS = 1 << 22;
/** The scratch blocks of the parameter and of its gradient ({@link ADAM_BLOCK} floats each), at the start of every slab. */
const P_AT = 16;

/** The moments placed in a slab, by the view of `m`. */
const homes = new WeakMap<Float32Array, Home>();
/**
 * The slab new moments go to (a full one is left to the moments in it, and to the collector);
 * null before the first, and for good once a memory could not be made.
 */
let current: Slab | null | undefined;

/**
 * The CPU backend's `fused.adamMoments`: `m` and `v` (`n` values each) as views of a slab that
 * {@link adamSimd} updates in place (copies, made on first sight; the views themselves when
 * they already are), or the arrays themselves below {@link WASM_ADAM_MIN} or where no memory can
 * be made.
 */
export function adamMoments(rt: WasmRuntime | null, m: Float32Array, v: Float32Array, n: number): [Float32Array, Float32Array] {
  if (rt === null || n < WASM_ADAM_MIN || current === null || homes.get(m)?.v === v) return [m, v];
  const q = (n + 15) & ~15;
  if (current === undefined || current.top + 2 * q > current.f.length) {
    const module = kernelModule(false, rt.fma) ?? kernelModule(false, false);
    // Fixed in size, so that views of it stay valid.
    const pages = Math.ceil((Math.max(SLAB_FLOATS, P_AT + 2 * ADAM_BLOCK + 2 * q) * 4) / 65536);
    try {
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
      const exports = new WebAssembly.Instance(module!, { env: { memory } }).exports as unknown as KernelExports;
      current = { exports, f: new Float32Array(memory.buffer), top: P_AT + 2 * ADAM_BLOCK };
    } catch {
      // Out of address space or memory: the moments stay where they are, on the scratch path.
      current = null;
      return [m, v];
    }
  }
  const slab = current;
  const mAt = slab.top;
  const vAt = mAt + q;
  slab.top = vAt + q;
  const m2 = slab.f.subarray(mAt, mAt + n);
  const v2 = slab.f.subarray(vAt, vAt + n);
  m2.set(m.subarray(0, n));
  v2.set(v.subarray(0, n));
  homes.set(m2, { slab, mAt, vAt, v: v2 });
  return [m2, v2];
}
