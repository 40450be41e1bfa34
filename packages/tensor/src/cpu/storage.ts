import type { DType, TypedArray } from '../dtype.js';

/**
 * Recycled storage of the CPU backend. The backend's kernels allocate their outputs here; a
 * storage that a tensor gave up (`dispose()`, the end of a `tidy`, the temporaries autograd
 * releases during `backward()`) comes back to a free list by length and dtype, and the next
 * output of that length takes it, zeroed, instead of a new array. A training step allocates the
 * same shapes every time, so after the first step most outputs are recycled: no new memory for
 * the engine to zero and map in page by page, and far less for the garbage collector to trace
 * and free (typed-array memory is what makes it run a full collection every few steps).
 *
 * Only arrays allocated here are recycled, and only while exactly one storage (one tensor's
 * ref, shared by its reshapes and detached copies) holds them: {@link adopt} sees every array
 * that becomes a storage, and an array adopted twice (a slice that views another tensor's
 * memory, a kernel that returned its input) or in part is never recycled. An array given to the
 * backend by the user (`tensor(values, { copy: false })`) is never taken.
 */

/** Arrays shorter than this are not recycled: small allocations are cheap. */
export const RECYCLE_MIN = 1024;
/** The most memory the free lists hold (bytes); a storage given up beyond it is left to the collector. */
export const RECYCLE_MAX_BYTES = 32 << 20;
/** The most arrays of one length and dtype the free lists hold. */
const PER_SIZE = 64;

/** Buffers allocated here that no second storage has been seen to share. */
const owned = new WeakSet<ArrayBufferLike>();
/** Buffers some storage holds now. */
const live = new WeakSet<ArrayBufferLike>();
const free = new Map<number, TypedArray[]>();
let held = 0;
let poison = false;
/** What {@link resetRecycling}'s poison fills int32 arrays with. */
const POISON_INT = -123456789;

const key = (dtype: DType, n: number): number => (dtype === 'int32' ? -n : n);

/**
 * An array of `n` values of `dtype`: a recycled one where there is one, else a new one. Zeroed,
 * unless `zero` is false: then a recycled array keeps old values, for a kernel that writes
 * every element of its output.
 */
export function newArray(dtype: DType, n: number, zero = true): TypedArray {
  if (n >= RECYCLE_MIN) {
    const list = free.get(key(dtype, n));
    if (list !== undefined && list.length > 0) {
      const out = list.pop()!;
      held -= out.byteLength;
      if (zero) return out.fill(0);
      return poison ? out.fill(out instanceof Int32Array ? POISON_INT : NaN) : out;
    }
    const out = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
    owned.add(out.buffer);
    return out;
  }
  return dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
}

/** A Float32Array of `n` values, zeroed unless `zero` is false ({@link newArray}). */
export function newF32(n: number, zero = true): Float32Array {
  return newArray('float32', n, zero) as Float32Array;
}

/** An Int32Array of `n` values, zeroed unless `zero` is false ({@link newArray}). */
export function newI32(n: number, zero = true): Int32Array {
  return newArray('int32', n, zero) as Int32Array;
}

/** Notes that `x` became a storage; an array of ours seen as a second storage, or in part, is never recycled. */
export function adopt(x: TypedArray): void {
  const b = x.buffer;
  if (!owned.has(b)) return;
  if (live.has(b) || x.byteOffset !== 0 || x.byteLength !== b.byteLength) {
    owned.delete(b);
    return;
  }
  live.add(b);
}

/** Takes back the storage `x` a tensor gave up, when it is ours and held by that storage alone. */
export function recycle(x: TypedArray): void {
  const b = x.buffer;
  if (!owned.has(b) || !live.has(b)) return;
  live.delete(b);
  if (held + x.byteLength > RECYCLE_MAX_BYTES) return;
  const k = key(x instanceof Int32Array ? 'int32' : 'float32', x.length);
  let list = free.get(k);
  if (list === undefined) free.set(k, (list = []));
  if (list.length >= PER_SIZE) return;
  list.push(x);
  held += x.byteLength;
}

/**
 * For tests: empties the free lists. With `poisonUnzeroed`, a recycled array handed out without
 * zeroing is filled with NaN (int32: -123456789) instead of keeping old values, so a kernel that
 * fails to write an element of its output shows.
 */
export function resetRecycling(poisonUnzeroed = false): void {
  poison = poisonUnzeroed;
  free.clear();
  held = 0;
}

/** For tests: the bytes the free lists hold now. */
export function recycledBytes(): number {
  return held;
}
