import { KERNELS_WASM, KERNELS_WASM_SHARED } from './kernels-wasm.js';
import type { GemmThreads } from './wasm-threads.js';

/** Exports of kernels.wat: addresses are byte offsets into the runtime's memory. */
export interface KernelExports {
  gemm_blocked(a: number, b: number, c: number, mp: number, k: number, np: number, nb0: number, nb1: number, kcMax: number, mcMax: number): void;
  gemm(a: number, lda: number, b: number, ldb: number, c: number, ldc: number, mBlocks: number, nBlocks: number, kc: number, acc: number): void;
  transpose(src: number, rows: number, cols: number, dst: number, ldd: number): void;
  [elementwise: string]: (...args: number[]) => void;
}

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const s = atob(base64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

const cached: [WebAssembly.Module | null | undefined, WebAssembly.Module | null | undefined] = [undefined, undefined];

/**
 * The compiled kernel module (the variant importing a shared memory when `shared`), or
 * null where WebAssembly, its SIMD extension or shared memory is unavailable (compiling
 * then fails). Compiled synchronously: the module is a few KiB, under the size browsers
 * allow for synchronous compilation.
 */
export function kernelModule(shared = false): WebAssembly.Module | null {
  const i = shared ? 1 : 0;
  if (cached[i] === undefined) {
    try {
      cached[i] = typeof WebAssembly === 'object' ? new WebAssembly.Module(decode(shared ? KERNELS_WASM_SHARED : KERNELS_WASM)) : null;
    } catch {
      cached[i] = null;
    }
  }
  return cached[i];
}

/**
 * One instance of the kernels with its memory. Operands are copied in, the
 * kernel runs, results are copied out: tensors stay ordinary garbage-collected
 * typed arrays, and the memory is scratch space reused by every call.
 */
export class WasmRuntime {
  readonly memory: WebAssembly.Memory;
  readonly exports: KernelExports;
  /** Worker threads sharing this memory for large products, if any. */
  threads: GemmThreads | null = null;
  private view: Float32Array;

  constructor(module: WebAssembly.Module, memory = new WebAssembly.Memory({ initial: 16, maximum: 65536 })) {
    this.memory = memory;
    this.exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
    this.view = new Float32Array(memory.buffer);
  }

  /** A Float32Array over the whole memory, grown first to hold at least `floats` values. */
  heap(floats: number): Float32Array {
    const need = floats * 4;
    const have = this.memory.buffer.byteLength;
    if (have < need) this.memory.grow(Math.ceil((need - have) / 65536));
    // Compared by size: a shared memory's buffer object need not change identity when it grows.
    if (this.view.byteLength < need || this.view.byteLength !== this.memory.buffer.byteLength) {
      this.view = new Float32Array(this.memory.buffer);
    }
    return this.view;
  }
}
