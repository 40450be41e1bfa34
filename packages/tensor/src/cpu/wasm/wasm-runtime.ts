import { ShapeError } from '../../errors.js';
import {
  KERNELS_FMA_PREFIX,
  KERNELS_FMA_SUFFIX,
  KERNELS_WASM,
  KERNELS_WASM_FMA_PART,
  SHARED_FLAG,
  SHARED_FLAG_AT,
  TASK_FIELDS,
  type KernelExports,
} from './kernels-wasm.js';
import type { ThreadPool } from './thread-pool.js';

export type { KernelExports };

/** A kernel that takes its arguments as a struct in memory, so threads can share it out. */
export type TaskName = keyof typeof TASK_FIELDS;

/** The arguments of task `K`, by the names of its parameters in kernels.wat. */
export type TaskArgs<K extends TaskName> = { readonly [F in (typeof TASK_FIELDS)[K][number]]: number };

/** Bytes of one argument struct's slot (32 int32 fields). */
export const ARGS_SLOT_BYTES = 128;
/** Argument slots at the bottom of memory: one per thread of a split, so at most this many threads. */
export const ARGS_SLOTS = 32;
/**
 * The first float offset callers may use for data: below it lie the argument slots, which
 * {@link WasmRuntime.writeArgs} overwrites on every task.
 */
export const DATA_AT = (ARGS_SLOTS * ARGS_SLOT_BYTES) / 4;
/**
 * Byte address of an i32 work counter in the reserved region: the last word of the last argument
 * slot, which no struct reaches (the longest has 23 fields).
 */
export const COUNTER_AT = ARGS_SLOTS * ARGS_SLOT_BYTES - 4;

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const s = atob(base64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The module bytes of a variant: the shipped private one, with the memory flag set for `shared`. */
function bytesOf(shared: boolean, fma: boolean): Uint8Array<ArrayBuffer> {
  let out = decode(KERNELS_WASM);
  if (fma) {
    // The fused variant: the plain bytes with its own in the middle (see KERNELS_WASM_FMA_PART).
    const part = decode(KERNELS_WASM_FMA_PART);
    const joined = new Uint8Array(KERNELS_FMA_PREFIX + part.length + KERNELS_FMA_SUFFIX);
    joined.set(out.subarray(0, KERNELS_FMA_PREFIX));
    joined.set(part, KERNELS_FMA_PREFIX);
    joined.set(out.subarray(out.length - KERNELS_FMA_SUFFIX), KERNELS_FMA_PREFIX + part.length);
    out = joined;
  }
  if (shared) out[SHARED_FLAG_AT] = SHARED_FLAG;
  return out;
}

const cached: (WebAssembly.Module | null | undefined)[] = [undefined, undefined, undefined, undefined];

/**
 * The compiled kernel module (the variant importing a shared memory when `shared`; with the
 * matrix product's multiply-adds fused when `fma`), or null where WebAssembly, its SIMD extension,
 * shared memory or (for `fma`) relaxed SIMD is unavailable: compiling then fails, which is the
 * feature test. Compiled synchronously: the module is a few KiB, under the size browsers allow for
 * synchronous compilation. A variant that failed is tried again on the next call, so an engine
 * flag set later (Node 20's `--experimental-wasm-relaxed-simd`) still takes effect.
 */
export function kernelModule(shared = false, fma = false): WebAssembly.Module | null {
  const i = (shared ? 1 : 0) + (fma ? 2 : 0);
  if (!cached[i] && typeof WebAssembly === 'object') {
    const bytes = bytesOf(shared, fma);
    if (fma && !WebAssembly.validate(bytes)) enableRelaxedSimd();
    try {
      cached[i] = new WebAssembly.Module(bytes);
    } catch {
      cached[i] = null;
    }
  }
  return cached[i] ?? null;
}

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}

let flagTried = false;

/**
 * Turns on relaxed SIMD in Node versions that have it behind `--experimental-wasm-relaxed-simd`
 * (Node 20; later ones ship it), once: the flag only changes which WebAssembly features new
 * modules may use. Elsewhere (browsers ship relaxed SIMD; other engines without it) it does nothing.
 */
function enableRelaxedSimd(): void {
  if (flagTried) return;
  flagTried = true;
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (typeof proc?.versions?.node !== 'string' || typeof proc.getBuiltinModule !== 'function') return;
  try {
    (proc.getBuiltinModule('node:v8') as { setFlagsFromString(flags: string): void }).setFlagsFromString(
      '--experimental-wasm-relaxed-simd',
    );
  } catch {
    // Not allowed here (a locked-down runtime): the plain kernels serve.
  }
}

/**
 * One instance of the kernels with its memory. Operands are copied in, the
 * kernel runs, results are copied out: tensors stay ordinary garbage-collected
 * typed arrays, and the memory is scratch space reused by every call.
 */
export class WasmRuntime {
  readonly memory: WebAssembly.Memory;
  readonly exports: KernelExports;
  /** Whether the matrix product runs fused multiply-adds (relaxed SIMD). */
  readonly fma: boolean;
  /** Worker threads sharing this memory for large kernels, if any. */
  threads: ThreadPool | null = null;
  /**
   * The same kernels on a private memory, for work the calling thread runs alone (set on a
   * runtime whose memory is shared with worker threads): the engines copy typed arrays into and
   * out of a shared memory several times slower than into a private one. Same code, same bits.
   */
  solo: WasmRuntime | null = null;
  /**
   * The first float of the scratch every call lays its buffers out from: {@link DATA_AT}, or past
   * the regions {@link claim} has set aside for good.
   */
  dataAt = DATA_AT;
  private view: Float32Array;
  private ints: Int32Array;
  /** The most floats any call has asked {@link heap} for, outside a reserved region. */
  private top = DATA_AT;
  /** A region from float `from` that a detached worker part is using, and what settles it. */
  private reserved: { from: number; output: Float32Array; settle: () => void } | null = null;

  constructor(module: WebAssembly.Module, memory = new WebAssembly.Memory({ initial: 16, maximum: 65536 }), fma = false) {
    this.memory = memory;
    this.fma = fma;
    this.exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
    this.view = new Float32Array(memory.buffer);
    this.ints = new Int32Array(memory.buffer);
  }

  /**
   * Writes task `name`'s arguments into argument slot `slot` and returns the struct's byte
   * address, to pass to the task's export (here or on a worker).
   */
  writeArgs<K extends TaskName>(slot: number, name: K, args: TaskArgs<K>): number {
    return this.writeArgsAt(slot * ARGS_SLOT_BYTES, name, args);
  }

  /** Writes task `name`'s arguments as a struct at byte `at` (4-byte aligned) and returns `at`. */
  writeArgsAt<K extends TaskName>(at: number, name: K, args: TaskArgs<K>): number {
    // A private memory's old buffer is detached when it grows; a shared one's stays valid, but
    // covers only the memory's size when it was made.
    if (this.ints.length === 0 || this.ints.byteLength !== this.memory.buffer.byteLength) this.ints = new Int32Array(this.memory.buffer);
    const fields = TASK_FIELDS[name] as readonly (keyof TaskArgs<K>)[];
    for (let i = 0; i < fields.length; i++) this.ints[at / 4 + i] = args[fields[i]];
    return at;
  }

  /** The runtime for work run on the calling thread alone: {@link solo} where there is one, else this one. */
  alone(): WasmRuntime {
    return this.solo ?? this;
  }

  /** Runs task `name` on this thread. */
  runTask<K extends TaskName>(name: K, args: TaskArgs<K>): void {
    this.exports[name](this.writeArgs(0, name, args));
  }

  /**
   * A Float32Array over the whole memory, grown first to hold at least `floats` values. A call
   * that reaches into a region a detached part is using settles that part first.
   */
  heap(floats: number): Float32Array {
    if (this.reserved !== null && floats > this.reserved.from) this.settle();
    if (this.reserved === null) this.top = Math.max(this.top, floats);
    return this.grown(floats);
  }

  private grown(floats: number): Float32Array {
    const need = floats * 4;
    const have = this.memory.buffer.byteLength;
    if (have < need) {
      try {
        this.memory.grow(Math.ceil((need - have) / 65536));
      } catch {
        // Past 4 GiB (65536 pages), or more than the engine will give: a clear error instead of a RangeError.
        throw new ShapeError(
          'cpu backend',
          `this op needs ${Math.ceil(need / 2 ** 20)} MiB of WebAssembly memory for its kernels, more than the ${Math.floor(have / 2 ** 20)} MiB ` +
            'it could get (at most 4096 MiB): its operands are too large for the CPU backend; split the work into smaller batches',
        );
      }
    }
    // Compared by size: a shared memory's buffer object need not change identity when it grows.
    if (this.view.byteLength < need || this.view.byteLength !== this.memory.buffer.byteLength) {
      this.view = new Float32Array(this.memory.buffer);
    }
    return this.view;
  }

  /**
   * Sets aside `floats` values of the memory for good (Adam's parameters and moments, which the
   * kernels then read where they live): the region from {@link dataAt}, 16-float aligned, which
   * moves past it. Scratch is scratch only between calls, so this waits for a detached part first.
   * Returns the region's first float.
   */
  claim(floats: number): number {
    this.settle();
    const from = (this.dataAt + 15) & ~15;
    this.grown(from + floats);
    this.dataAt = (from + floats + 15) & ~15;
    this.top = Math.max(this.top, this.dataAt);
    return from;
  }

  /**
   * A region of `floats` values above every float the other calls have used so far (16-float
   * aligned), for a part that runs on a worker while this thread goes on: returns its first
   * float. Whatever was reserved before is settled first.
   */
  reserve(floats: number): number {
    this.settle();
    const from = (this.top + 15) & ~15;
    this.grown(from + floats);
    return from;
  }

  /**
   * Marks the region from float `from` as in use until `settle` runs (by {@link settle}: when a
   * call reaches into the region, asks for `output`, or reserves another): `settle` waits for the
   * part and copies its result into `output`.
   */
  hold(from: number, output: Float32Array, settle: () => void): void {
    this.reserved = { from, output, settle };
  }

  /** The array a held region's result goes to, or null when none is held. */
  get pendingOutput(): Float32Array | null {
    return this.reserved?.output ?? null;
  }

  /** Waits for the part using the held region, if any, and copies its result out. */
  settle(): void {
    const r = this.reserved;
    if (r === null) return;
    this.reserved = null;
    r.settle();
  }
}
