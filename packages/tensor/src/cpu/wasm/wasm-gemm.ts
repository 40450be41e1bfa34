import type { TypedArray } from '../../dtype.js';
import { newF32 } from '../storage.js';
import { residentAt } from './wasm-adam.js';
import { ARGS_SLOT_BYTES, COUNTER_AT, type WasmRuntime } from './wasm-runtime.js';

/** Depth of one block: the KC x 8 panel of B that a run of tiles shares stays in L1. */
export const KC = 256;
/** Rows of A per block: MC x KC floats (128 KiB) stay in L2 while every panel of B passes over them. */
export const MC = 128;

/** Rounds `x` up to a multiple of `q`. */
export function roundUp(x: number, q: number): number {
  return Math.ceil(x / q) * q;
}

/**
 * Writes op(X) row-major into the memory at float `dst` with `ld` floats per row, for `items`
 * consecutive matrices of X given as `rows x cols` values from `off` (already transposed storage
 * when `trans`; item `i` at float `dst + i * padRows * ld`): one copy for the whole run when its
 * rows lie back to back in the memory too, else row by row; when `trans`, the run is copied to
 * `scratch` as stored and each item transposed inside the module. Pad rows and columns (up to `padRows x ld`) are zeroed,
 * since the kernel reads them.
 */
function stage(
  rt: WasmRuntime,
  X: TypedArray,
  off: number,
  rows: number,
  cols: number,
  trans: boolean,
  dst: number,
  ld: number,
  padRows: number,
  scratch: number,
  items = 1,
): void {
  const mem = rt.heap(0);
  const size = rows * cols;
  const item = padRows * ld;
  if (ld !== cols || padRows !== rows) mem.fill(0, dst, dst + items * item);
  if (!trans) {
    if (ld === cols && (padRows === rows || items === 1)) mem.set(X.subarray(off, off + items * size), dst);
    else
      for (let i = 0; i < items; i++)
        for (let r = 0; r < rows; r++)
          mem.set(X.subarray(off + i * size + r * cols, off + i * size + (r + 1) * cols), dst + i * item + r * ld);
    return;
  }
  // X is stored cols x rows: copy it in as is, then transpose inside the module.
  mem.set(X.subarray(off, off + items * size), scratch);
  for (let i = 0; i < items; i++) rt.exports.transpose((scratch + i * size) * 4, cols, rows, (dst + i * item) * 4, ld);
}

/**
 * Whether B [k, n] goes to the kernel as packed panels [np/8, k, 8]: on one thread whenever it has
 * more than one 8-column panel, since the kernel then reads each panel from one contiguous run
 * instead of 32 bytes from every row of the row-major matrix; packing is one more pass over B
 * where B is stored as is, and none more when it is stored transposed (packing then replaces the
 * transpose). Measured on one thread (AMD EPYC Zen 3, AVX2, Node 20, FMA kernel, best of five
 * alternating rounds, GFLOP/s row-major -> packed): 128x784 @ (128x784)^T 36.6 -> 39.7,
 * 128x128 @ 128x128 38.6 -> 42.0, 512x64 @ (256x64)^T 37.7 -> 41.2, short depths (k = 32) level.
 * On several threads: when B has rows far enough apart that walking down an 8-column panel of
 * the row-major matrix would touch a page (and an L1 set) per few rows; and whenever B is stored
 * transposed, since the workers then pack it straight from the stored B^T, a pass split between
 * the threads, instead of the calling thread transposing it alone before they start. Measured
 * with both threads of the machine (AMD EPYC, AVX-512, Node 20, medians of alternating runs):
 * 32x784 @ (128x784)^T from 169 to 113 microseconds, 512x64 @ (256x64)^T from 327 to 255.
 * Same bits either way.
 */
export function packB(k: number, n: number, threaded = false, transB = false): boolean {
  if (packing !== 'auto') return packing === 'always';
  if (!threaded) return n > 8;
  return wideAndDeep(k, n) || transB;
}

/** Whether B [k, n] is at least {@link PACK_MIN_DEPTH} x {@link PACK_MIN_COLS}. */
function wideAndDeep(k: number, n: number): boolean {
  return n >= PACK_MIN_COLS && k >= PACK_MIN_DEPTH;
}

/**
 * Columns of B from which it is packed (rows 1 KiB apart and more): measured, packing takes the
 * 512x512 product from about 44 to 58 GFLOP/s and 1024x1024 from 29 to 48 on one thread (AMD
 * EPYC, AVX-512, plain kernel), and with the fused kernel on an AMD EPYC with AVX2 (Zen 3, Node
 * 20, three alternating rounds) 256x256 from 27-36 to 34-43 GFLOP/s on one thread and from 40-51
 * to 52-55 on two.
 */
export const PACK_MIN_COLS = 256;
/**
 * Input widths from which a linear layer's weight gradient is not started on a worker (whose
 * kernel reads x row-major, without packed panels): up to here row-major is as fast.
 */
export const ASYNC_DW_MAX_COLS = 512;
/** Rows of B from which a product on several threads packs it (when not stored transposed), and a product on one thread packs A into strips. */
export const PACK_MIN_DEPTH = 256;
let packing: 'auto' | 'always' | 'never' = 'auto';

/**
 * Whether op(A) [m, k] goes to a one-thread product as 4-row strips (pack_a): from the sizes on where a product on
 * several threads packs B, since the strips pay off once many panels of B reuse them. One more pass over A; same bits.
 * Measured on one thread with the operands in the module (AMD EPYC, AVX-512, Node 20): 512x512
 * 62.0 -> 63.5 GFLOP/s and 1024x1024 60.6 -> 61.7 (medians); at 256 (B not packed) it was slower.
 */
export function packA(k: number, n: number): boolean {
  return packingA === 'auto' ? wideAndDeep(k, n) : packingA === 'always';
}
let packingA: 'auto' | 'always' | 'never' = 'auto';

/** For tests and measurements: pack A always, never, or as {@link packA} decides (`'auto'`). */
export function setPackingA(mode: 'auto' | 'always' | 'never'): void {
  packingA = mode;
}

/** For tests and measurements: pack B always, never, or as {@link packB} decides (`'auto'`). */
export function setPacking(mode: 'auto' | 'always' | 'never'): void {
  packing = mode;
}

let splitting: 'claim' | 'static' = 'claim';

/**
 * For tests and measurements: share a threaded product's panels by claiming chunks from a counter
 * (`'claim'`, the default) or in one fixed range per thread (`'static'`). Same bits either way.
 */
export function setGemmSplit(mode: 'claim' | 'static'): void {
  splitting = mode;
}

/**
 * What the thread policy measures a call of products of sizes `sizes` as (`name` then the power of
 * two of each size): each on its own, since two products of the same work can split very
 * differently (a short-depth product that writes a large C pays more for copying C out of the
 * shared memory than its second thread saves; a deep one with a small C does not).
 */
export function productKind(name: string, a: number, b: number, c: number): string {
  // floor(log2(d)) of sizes from 1 to 2^31 - 1, without building a string per call: every product
  // asks, and a new string would also be hashed again for each lookup of the policy's rates.
  const la = 31 - Math.clz32(a);
  const lb = 31 - Math.clz32(b);
  const lc = 31 - Math.clz32(c);
  let byPowers = kinds.get(name);
  if (byPowers === undefined) kinds.set(name, (byPowers = new Map()));
  const code = (la << 10) | (lb << 5) | lc;
  let kind = byPowers.get(code);
  if (kind === undefined) byPowers.set(code, (kind = `${name} ${la} ${lb} ${lc}`));
  return kind;
}

/** {@link productKind}'s strings, by name and then by the three powers of two packed into one number. */
const kinds = new Map<string, Map<number, string>>();

/**
 * The threads the pool's policy gives a product C [mp, np] = A [mp, k] @ B [k, np] (padded sizes)
 * of `kind` ({@link productKind}): 1 without a pool or with a single column panel.
 */
function gemmThreads(rt: WasmRuntime, mp: number, k: number, np: number, kind: string): number {
  const pool = rt.threads;
  return pool === null || np >> 3 < 2 ? 1 : pool.threadsFor(mp * np * k, kind);
}

/**
 * C [mp, np] = A [mp, k] @ B [k, np] on operands already in the module's memory (float
 * offsets; mp a multiple of 4, np of 8, all contiguous row-major; B as packed panels
 * [np/8, k, 8] when `packed`) on `threads` threads, as the policy decided for the whole call
 * ({@link wasmGemm}). With `paAt` not 0, the kernel reads A as 4-row strips at that float
 * offset, which the caller has packed (pack_a; {@link wasmGemm} does on one thread, and on
 * several where k > KC: measured on both threads of an AMD EPYC with AVX2, Node 20, eight
 * alternating rounds, medians: 1024x1024 from 41.6 to 46.0 GFLOP/s, 512x512 from 38.4 to 39.7; at 256x256, where a block of A
 * is one run of memory anyway, 38.5 without against 36.8 with, so not there).
 */
function gemmInHeap(
  rt: WasmRuntime,
  aAt: number,
  bAt: number,
  cAt: number,
  mp: number,
  k: number,
  np: number,
  packed: boolean,
  paAt: number,
  threads: number,
): void {
  const nb = np >> 3;
  const args = (nb0: number, nb1: number) => ({
    a: aAt * 4,
    b: bAt * 4,
    c: cAt * 4,
    mp,
    k,
    np,
    nb0,
    nb1,
    kcMax: KC,
    mcMax: MC,
    packed: packed ? 1 : 0,
    pa: paAt * 4,
  });
  const pool = rt.threads;
  if (threads <= 1) {
    rt.runTask('gemm_blocked', args(0, nb));
    return;
  }
  if (splitting === 'static') {
    pool!.runSplit('gemm_blocked', nb, threads, args);
    return;
  }
  // The threads claim chunks of 8-column panels of C from a shared counter (about four chunks a
  // thread, so a thread whose core is busy takes fewer); none writes what another reads or writes.
  const chunk = Math.max(1, Math.ceil(nb / (4 * threads)));
  const part = {
    a: aAt * 4,
    b: bAt * 4,
    c: cAt * 4,
    mp,
    k,
    np,
    chunk,
    kcMax: KC,
    mcMax: MC,
    packed: packed ? 1 : 0,
    counter: COUNTER_AT,
    pa: paAt * 4,
  };
  const reset = (): void => {
    new Int32Array(rt.memory.buffer, COUNTER_AT, 1)[0] = 0;
  };
  reset();
  pool!.run(
    'gemm_claim',
    Array.from({ length: Math.min(threads, nb) }, () => part),
    reset,
  );
}

/**
 * Copies the valid `[rows, cols]` of a C in `rt`'s memory at float `at` (`ld` floats a row) to
 * `out` from `off`, in one copy: where the rows are padded (`ld > cols`, a width that is not a
 * multiple of 8), the module first packs them back to back at float `spare` (`rows_copy`), where
 * the caller has room for `rows * cols` floats that nothing still reads; `mem` is a view of the
 * memory that reaches past them. A copy per row costs about 45 ns whatever its width, so copying
 * C [512, 27] row by row took 23 microseconds, a fifth of the GPT's output-layer product, and
 * [128, 10] 4.4 of the MLP's 19 (measured on an Intel Xeon with AVX-512, Node 20).
 */
function copyOut(
  rt: WasmRuntime,
  mem: Float32Array,
  at: number,
  ld: number,
  out: Float32Array,
  off: number,
  rows: number,
  cols: number,
  spare: number,
): void {
  let from = at;
  if (ld !== cols && rows > 1) {
    rt.exports.rows_copy(at * 4, ld, rows, cols, spare * 4, cols);
    from = spare;
  }
  out.set(mem.subarray(from, from + rows * cols), off);
}

/** What {@link wasmGemm} does to C before copying it out: a linear layer's bias (or none) and ReLU. */
export interface GemmEpilogue {
  bias: TypedArray | null;
  relu: boolean;
}

/**
 * The epilogue in TypeScript on `out[cOff ..]` `[rows, cols]`: the bias added (rounded to float32
 * as the array stores it), then relu (`v <= 0 ? 0 : v`: -0 goes to 0, NaN stays NaN); the bits of `bias_rows`.
 */
export function biasRows(out: Float32Array, cOff: number, bias: TypedArray | null, rows: number, cols: number, relu: boolean): void {
  for (let r = 0, o = cOff; r < rows; r++, o += cols) {
    if (bias === null) {
      if (relu) for (let j = 0; j < cols; j++) if (out[o + j] <= 0) out[o + j] = 0;
    } else if (relu) {
      for (let j = 0; j < cols; j++) {
        const v = Math.fround(out[o + j] + bias[j]);
        out[o + j] = v <= 0 ? 0 : v;
      }
    } else {
      for (let j = 0; j < cols; j++) out[o + j] += bias[j];
    }
  }
}

/**
 * `out[cOff ..] = op(A) @ op(B)` for one `[m, n]` matrix on the WebAssembly SIMD kernel.
 * op(A) and op(B) are staged row-major into the module's memory, padded to whole 4x8
 * tiles (an operand already in that memory, a parameter Adam placed in the threads' shared
 * memory, is read in place where its layout allows); the kernel then runs over depth blocks of KC and row blocks of MC so the
 * working set stays in cache, the `epilogue` (a bias, a ReLU) runs on C in place, and the valid
 * part of C is copied out. Without `threads`, the thread policy is asked once and told the whole
 * call's time, copies included, and a product it gives one thread runs on the private memory
 * ({@link WasmRuntime.alone}); with it, the product runs on that many threads of `rt` as it is.
 */
export function wasmGemm(
  rt: WasmRuntime,
  A: TypedArray,
  aOff: number,
  B: TypedArray,
  bOff: number,
  out: Float32Array,
  cOff: number,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
  epilogue: GemmEpilogue | null = null,
  threads?: number,
  transposeOut = false,
): void {
  if (threads === undefined) {
    const mp = roundUp(m, 4);
    const np = roundUp(n, 8);
    const kind = productKind('gemm', mp, k, np);
    const t = gemmThreads(rt, mp, k, np, kind);
    const t0 = performance.now();
    if (transB && !transA && m * (k + n) < k * n) {
      // A @ B^T with a short A (a batch of inputs times a [out, in] weight): computing
      // C^T = B @ A^T transposes A and C instead of the larger B, on one thread or several (there
      // the workers would otherwise pack all of B^T: 32x784 @ (128x784)^T on both threads of the
      // AMD EPYC went from 133 to 120 microseconds, against 134 on one).
      // C^T is transposed back inside the module, where the epilogue then runs on it.
      wasmGemm(t > 1 ? rt : rt.alone(), B, bOff, A, aOff, out, cOff, n, k, m, false, true, epilogue, t, true);
    } else if (t > 1) wasmGemm(rt, A, aOff, B, bOff, out, cOff, m, k, n, transA, transB, epilogue, t);
    else wasmGemm(rt.alone(), A, aOff, B, bOff, out, cOff, m, k, n, transA, transB, epilogue, 1);
    rt.threads?.record(t, mp * np * k, performance.now() - t0, kind);
    return;
  }
  const mp = roundUp(m, 4);
  const np = roundUp(n, 8);
  // With `transposeOut`, C^T [n, m] is what goes out (to `out` as [n, m], the epilogue's bias [m]
  // across its rows): transposed inside the module into T [np, mp] before the epilogue.
  const biasLen = epilogue === null ? 0 : transposeOut ? roundUp(mp, 8) : np;
  // Layout in floats: the bias when there is an epilogue, C [mp, np], op(A) [mp, k], op(B) [k, np],
  // scratch for a transposed input, op(A) in strips when it is packed, then T.
  const biasAt = rt.dataAt;
  const cAt = biasAt + biasLen;
  const aAt = cAt + mp * np;
  const bAt = aAt + mp * k;
  const sAt = bAt + k * np;
  const packed = packB(k, n, threads > 1, transB);
  // On several threads only where a block of A is not one run of memory (k above KC): there its rows,
  // k floats apart (a power of two in square products), crowd a few cache sets, which the strips avoid.
  const stripsA = packA(k, n) && (threads === 1 || k > KC);
  // 64-byte aligned, so no 16-byte load of a strip straddles a cache line.
  const paAt = roundUp(sAt + (transA || transB || packed ? Math.max(transA ? m * k : 0, transB || packed ? k * n : 0) : 0), 16);
  const tAt = roundUp(paAt + (stripsA ? mp * k : 0), 16);
  let mem = rt.heap(transposeOut ? tAt + np * mp : tAt);
  // Workers start spinning now, so they take their parts at once when the operands are in.
  if (threads > 1) rt.threads!.wake(threads);
  // An operand that lives in this memory (a weight Adam placed there) is read where it lies
  // instead of copied in, where the kernel reads it in that layout: A row-major without pad rows;
  // B as stored when the workers pack it, or row-major without pad columns.
  const rA = residentAt(rt, A);
  const rB = residentAt(rt, B);
  const aIn = !transA && mp === m && rA >= 0;
  const bIn = rB >= 0 && (packed ? threads > 1 : !transB && np === n);
  const aUse = aIn ? rA + aOff : aAt;
  const bUse = bIn && !packed ? rB + bOff : bAt;
  if (packed && threads > 1) {
    // B into scratch as stored; then the workers pack its panels while this thread copies A in
    // (through its own scratch, past B's, when A is transposed), and joins them.
    const aScratch = sAt + k * n;
    rt.heap(Math.max(paAt + (stripsA ? mp * k : 0), aScratch + (transA ? m * k : 0)));
    mem = rt.heap(0);
    if (!bIn) mem.set(B.subarray(bOff, bOff + k * n), sAt);
    const reset = (): void => {
      new Int32Array(rt.memory.buffer, COUNTER_AT, 1)[0] = 0;
    };
    reset();
    const part = {
      src: (bIn ? rB + bOff : sAt) * 4,
      k,
      n,
      dst: bAt * 4,
      trans: transB ? 1 : 0,
      chunk: Math.max(1, Math.ceil(np / 8 / (8 * threads))),
      counter: COUNTER_AT,
    };
    rt.threads!.run(
      'pack_claim',
      Array.from({ length: threads }, () => part),
      reset,
      () => {
        if (!aIn) stage(rt, A, aOff, m, k, transA, aAt, k, mp, aScratch);
        // A into strips too, while the workers pack B: the threads' kernel then reads it as the one-thread one does.
        if (stripsA) rt.exports.pack_a(aUse * 4, mp, k, paAt * 4);
      },
    );
  } else if (packed) {
    if (!aIn) stage(rt, A, aOff, m, k, transA, aAt, k, mp, sAt);
    // B into scratch as stored, then into packed panels by the module.
    mem.set(B.subarray(bOff, bOff + k * n), sAt);
    if (transB) rt.exports.pack_bt(sAt * 4, n, k, bAt * 4);
    else rt.exports.pack_b(sAt * 4, k, n, bAt * 4);
  } else {
    if (!aIn) stage(rt, A, aOff, m, k, transA, aAt, k, mp, sAt);
    if (!bIn) stage(rt, B, bOff, k, n, transB, bAt, np, k, sAt);
  }
  // A into strips, unless the threads' branch above packed them while the workers packed B.
  if (stripsA && !(packed && threads > 1)) rt.exports.pack_a(aUse * 4, mp, k, paAt * 4);
  gemmInHeap(rt, aUse, bUse, cAt, mp, k, np, packed, stripsA ? paAt : 0, threads);
  // What goes out: C [m, n] (ld np), or T [n, m] (ld mp).
  const [oAt, rows, cols, ld] = transposeOut ? [tAt, n, m, mp] : [cAt, m, n, np];
  if (transposeOut) rt.exports.transpose_ld(cAt * 4, np, mp, n, tAt * 4, mp);
  if (epilogue !== null && (epilogue.bias !== null || epilogue.relu)) {
    mem = rt.heap(0);
    if (epilogue.bias === null) mem.fill(0, biasAt, biasAt + ld);
    else {
      mem.set(epilogue.bias.subarray(0, cols), biasAt);
      mem.fill(0, biasAt + cols, biasAt + ld);
    }
    rt.exports.bias_rows(oAt * 4, biasAt * 4, transposeOut ? rows : mp, ld, epilogue.relu ? 1 : 0);
  }
  // Past T (or past A's strips): nothing the call still reads.
  const spare = roundUp(transposeOut ? tAt + np * mp : tAt, 4);
  copyOut(rt, rt.heap(spare + rows * cols), oAt, ld, out, cOff, rows, cols, spare);
}

/**
 * A linear layer's weight gradient `dw = dz^T @ x` `[outF, inF]` (for `dz: [rows, outF]`,
 * `x: [rows, inF]`) started on a worker of `rt`'s pool, which computes it while this thread goes
 * on with the rest of the backward pass (dx first): the operands are copied into a region of the
 * shared memory that `rt` holds for the worker, and the returned array is filled when `rt`
 * settles the region (a call reaching into it, a backend call given the array, or the next one
 * started), which then calls `settled` with the milliseconds it waited for the worker. Null, with
 * nothing started, when no worker is free. The bits of {@link wasmGemm}.
 * B is read row-major (no packed panels: the caller keeps `inF` below {@link ASYNC_DW_MAX_COLS}).
 */
export function startLinearWeightGradient(
  rt: WasmRuntime,
  dz: TypedArray,
  x: TypedArray,
  rows: number,
  inF: number,
  outF: number,
  settled: (waitMs: number) => void = () => {},
): Float32Array | null {
  const pool = rt.threads;
  if (pool === null) return null;
  // One at a time: the one before is waited for (and copied out) first.
  rt.settle();
  if (pool.ready < 1) return null;
  const np = roundUp(inF, 8);
  const m2 = roundUp(outF, 4);
  // Layout in floats from the region's start: the argument struct, dz [rows, outF] as stored,
  // x [rows, np], dz^T [m2, rows], dw [m2, np], and where np > inF room to pack dw's rows for
  // the copy out.
  const argsFloats = ARGS_SLOT_BYTES / 4;
  const from = rt.reserve(argsFloats + rows * outF + rows * np + m2 * rows + m2 * np + (np > inF ? outF * inF : 0));
  const dzAt = from + argsFloats;
  const xAt = dzAt + rows * outF;
  const tAt = xAt + rows * np;
  const cAt = tAt + m2 * rows;
  rt.heap(0).set(dz.subarray(0, rows * outF), dzAt);
  stage(rt, x, 0, rows, inF, false, xAt, np, rows, 0);
  const addr = rt.writeArgsAt(from * 4, 'linear_dw', {
    dz: dzAt * 4,
    x: xAt * 4,
    c: cAt * 4,
    rows,
    outF,
    np,
    at: tAt * 4,
    kcMax: KC,
    mcMax: MC,
  });
  if (!pool.detach('linear_dw', addr)) return null;
  const dw = newF32(outF * inF, false);
  rt.hold(from, dw, () => {
    const t0 = performance.now();
    pool.join();
    settled(performance.now() - t0);
    // The region was grown to hold it all when reserved.
    copyOut(rt, rt.heap(0), cAt, np, dw, 0, outF, inF, cAt + m2 * np);
  });
  return dw;
}

/** Floats of heap one group of {@link wasmGemmBatch} may take (4 MiB): a group's operands stay in L2/L3. */
const BATCH_GROUP_FLOATS = 1 << 20;

/**
 * `out = op(A_t) @ op(B_t)` for a batch of small `[m, n]` products (attention's per-head scores),
 * on one thread (its private memory, where there is one): the products of a group of batch items
 * are staged into the module's memory together (one copy per operand when no padding or
 * transpose is needed), the kernel runs on each
 * item in place and the group's results are copied out together, so the per-call costs of
 * {@link wasmGemm} (staging, zeroing, the thread policy) are paid once a group instead of once a
 * product. `batchA` / `batchB` is 1 for an operand shared by the whole batch. Same bits as
 * {@link wasmGemm} item by item.
 */
export function wasmGemmBatch(
  rt: WasmRuntime,
  A: TypedArray,
  B: TypedArray,
  batchA: number,
  batchB: number,
  out: Float32Array,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
): void {
  // Always one thread: on the private memory where there is one (faster copies, same kernel).
  const on = rt.alone();
  const batch = Math.max(batchA, batchB);
  const mp = roundUp(m, 4);
  const np = roundUp(n, 8);
  const cSize = mp * np;
  const aSize = mp * k;
  const bSize = k * np;
  const per = cSize + aSize + bSize + Math.max(m * k, k * n);
  const group = Math.max(1, Math.min(batch, Math.floor(BATCH_GROUP_FLOATS / per)));
  for (let t0 = 0; t0 < batch; t0 += group) {
    const count = Math.min(group, batch - t0);
    const aItems = batchA === 1 ? 1 : count;
    const bItems = batchB === 1 ? 1 : count;
    // Layout in floats: C items, A items, B items, scratch for the transposed inputs.
    const cAt = on.dataAt;
    const aAt = cAt + count * cSize;
    const bAt = aAt + aItems * aSize;
    const sAt = bAt + bItems * bSize;
    const mem = on.heap(sAt + Math.max(aItems * m * k, bItems * k * n));
    stage(on, A, batchA === 1 ? 0 : t0 * m * k, m, k, transA, aAt, k, mp, sAt, aItems);
    stage(on, B, batchB === 1 ? 0 : t0 * k * n, k, n, transB, bAt, np, k, sAt, bItems);
    on.runTask('gemm_batch', {
      a: aAt * 4,
      b: bAt * 4,
      c: cAt * 4,
      mp,
      k,
      np,
      count,
      as: batchA === 1 ? 0 : aSize * 4,
      bs: batchB === 1 ? 0 : bSize * 4,
      cs: cSize * 4,
      kcMax: KC,
      mcMax: MC,
    });
    const o = t0 * m * n;
    if (mp === m && np === n) out.set(mem.subarray(cAt, cAt + count * m * n), o);
    else
      for (let i = 0; i < count; i++)
        for (let r = 0; r < m; r++) out.set(mem.subarray(cAt + i * cSize + r * np, cAt + i * cSize + r * np + n), o + (i * m + r) * n);
  }
}
