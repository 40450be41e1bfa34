import type { BinaryOp, UnaryOp } from '../../backend/backend.js';
import { GELU_TABLE, UNARY_TABLE } from '../../backend/unary-ops.js';
import type { TaskArgs, WasmRuntime } from './wasm-runtime.js';

/**
 * Below this many elements, copying in and out of a private memory costs more than the SIMD loop
 * saves (from 256 values a multiply or square root is faster in the kernel than in a JavaScript loop).
 */
export const WASM_MIN_ELEMENTS = 256;

type SimdUnary = 'neg' | 'abs' | 'sqrt' | 'square' | 'relu' | 'step';
type SimdBinary = 'add' | 'sub' | 'mul' | 'div';
const SIMD_UNARY: ReadonlySet<string> = new Set<SimdUnary>(['neg', 'abs', 'sqrt', 'square', 'relu', 'step']);
const SIMD_BINARY: ReadonlySet<string> = new Set<SimdBinary>(['add', 'sub', 'mul', 'div']);
const isSimdUnary = (op: UnaryOp): op is UnaryOp & SimdUnary => SIMD_UNARY.has(op);
const isSimdBinary = (op: BinaryOp): op is BinaryOp & SimdBinary => SIMD_BINARY.has(op);

/**
 * Elements per pass through the WebAssembly heap. Elementwise work is done in blocks of this
 * size: the inputs' blocks copied in, the kernel's output and the copy out all stay in a core's
 * L2 cache (three blocks of 64 KiB), and the heap (which never shrinks) stays small even when a
 * whole dataset is normalised at once.
 */
export const WASM_BLOCK = 1 << 14;
let block = WASM_BLOCK;

/** For tests and measurements: the block size of the elementwise kernels (results do not depend on it). */
export function setElementwiseBlock(values: number): void {
  block = Math.max(4, values & ~3);
}

/** Room for `n` floats rounded up to whole pairs of f32x4 vectors, which the kernels read and write. */
function padded(n: number): number {
  return (n + 7) & ~7;
}

/**
 * Runs an elementwise kernel over `n` values in blocks of {@link WASM_BLOCK}:
 * each block of every input is copied into the heap one after the other (input
 * `i` at float `i * p`), `kernel(p, m)` computes the block's `m` values into the
 * slots after the inputs (output `j` at float `(inputs + j) * p`), they are copied
 * to `outs` (an output given as null is left in the heap), and `table` (when given) lies after
 * the last output.
 */
function inBlocks(
  rt: WasmRuntime,
  inputs: Float32Array[],
  out: Float32Array | (Float32Array | null)[],
  n: number,
  kernel: (p: number, m: number) => void,
  table: Float32Array | null = null,
): void {
  const k = inputs.length;
  const outs = Array.isArray(out) ? out : [out];
  const slots = k + outs.length;
  for (let at = 0; at < n; at += block) {
    const m = Math.min(block, n - at);
    const p = padded(m);
    const mem = rt.heap(slots * p + (table === null ? 0 : table.length));
    if (table !== null) mem.set(table, slots * p);
    for (let i = 0; i < k; i++) mem.set(inputs[i].subarray(at, at + m), i * p);
    kernel(p, m);
    for (let j = 0; j < outs.length; j++) outs[j]?.set(mem.subarray((k + j) * p, (k + j) * p + m), at);
  }
}

/**
 * `out = op(x)` on the SIMD kernels (those of {@link SPLIT_UNARY} on two threads where `shared`'s
 * pool measures that faster); false when `op` has none (sin, atan... stay in JavaScript).
 */
export function unarySimd(
  rt: WasmRuntime,
  op: UnaryOp,
  x: Float32Array,
  out: Float32Array,
  n: number,
  shared: WasmRuntime | null = null,
): boolean {
  if (isSplitUnary(op)) {
    // geluGrad stays in TypeScript: training takes the gradient gelu_save computes with the GELU instead.
    splitUnarySimd(rt, op, x, out, n, shared);
    return true;
  }
  if (!isSimdUnary(op)) return false;
  inBlocks(rt, [x], out, n, (p, m) => rt.exports[op](0, p * 4, m));
  return true;
}

/** `out = a op b` for same-size operands on the SIMD kernels; false when `op` has none. */
export function sameSimd(rt: WasmRuntime, op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array, n: number): boolean {
  if (!isSimdBinary(op)) return false;
  inBlocks(rt, [a, b], out, n, (p, m) => rt.exports[op](0, p * 4, 2 * p * 4, m));
  return true;
}

/** `out = a op s` (or `s op a` when `sFirst`) for a float32 scalar `s` on the SIMD kernels. */
export function scalarSimd(
  rt: WasmRuntime,
  op: BinaryOp,
  a: Float32Array,
  s: number,
  out: Float32Array,
  n: number,
  sFirst: boolean,
): boolean {
  if (!isSimdBinary(op)) return false;
  const name = sFirst && (op === 'sub' || op === 'div') ? (`r${op}_scalar` as const) : (`${op}_scalar` as const);
  inBlocks(rt, [a], out, n, (p, m) => rt.exports[name](0, s, p * 4, m));
  return true;
}

/**
 * `out = a op b` for `b` of `period` values repeated along `a` (`b op a` when `bFirst`; a bias added
 * to every row, say) on the same-shape SIMD kernels: `b` is tiled once over a block of whole rows
 * in the heap, then `a` goes through in such blocks. False when `op` has no kernel.
 */
export function rowSimd(
  rt: WasmRuntime,
  op: BinaryOp,
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  n: number,
  period: number,
  bFirst: boolean,
): boolean {
  if (!isSimdBinary(op)) return false;
  const per = Math.max(1, Math.floor(block / period)) * period;
  const tile = Math.min(per, n);
  const p = padded(tile);
  const mem = rt.heap(3 * p);
  mem.set(b.subarray(0, period), p);
  for (let len = period; len < tile; len *= 2) mem.copyWithin(p + len, p, p + Math.min(len, tile - len));
  for (let at = 0; at < n; at += per) {
    const m = Math.min(per, n - at);
    mem.set(a.subarray(at, at + m), 0);
    if (bFirst) rt.exports[op](p * 4, 0, 2 * p * 4, m);
    else rt.exports[op](0, p * 4, 2 * p * 4, m);
    out.set(mem.subarray(2 * p, 2 * p + m), at);
  }
  return true;
}

/** `out = x <= 0 ? 0 : dy` (the gradient of relu) on the SIMD kernel. */
export function reluGradSimd(rt: WasmRuntime, dy: Float32Array, x: Float32Array, out: Float32Array, n: number): void {
  inBlocks(rt, [dy, x], out, n, (p, m) => rt.exports.relu_grad(0, p * 4, 2 * p * 4, m));
}

/**
 * What the thread policy counts one value of GELU as, in multiply-adds of a matrix product: about what the kernels cost a value (AMD EPYC, AVX-512, Node 20: 1.8 ns a value for
 * `gelu_save`, a product's multiply-add about 0.035 ns). The policy then considers threads from
 * 65,536 values on, and measures whether they pay.
 */
const GELU_WORK = 32;

/** The elementwise kernels {@link splitTwo} can share with a worker, by task name. */
type SplitTask = 'gelu_fwd' | 'gelu_only' | 'exp_fwd' | 'sigmoid_fwd' | 'tanh_fwd' | 'log_fwd' | 'expm1_fwd' | 'log1p_fwd';

/**
 * The one-input kernels that read a coefficient table (after their output in the memory) and may
 * split over two threads: each one's task, what the thread policy counts one of its values as (see
 * {@link GELU_WORK}) and its table. GELU without its derivative, exp, sigmoid, tanh, log, expm1 and
 * log1p take about 2.7, 1.0, 1.5, 2.3, 2.0, 1.3 and 2.3 ns a value on one thread (AMD EPYC, AVX-512,
 * Node 20), so two threads are considered from about 87,000, 131,072, 87,000, 65,536, 75,000, 105,000
 * and 65,536 values on.
 */
const SPLIT_UNARY = {
  gelu: { task: 'gelu_only', work: 24, table: GELU_TABLE },
  exp: { task: 'exp_fwd', work: 16, table: UNARY_TABLE },
  sigmoid: { task: 'sigmoid_fwd', work: 24, table: UNARY_TABLE },
  tanh: { task: 'tanh_fwd', work: 32, table: UNARY_TABLE },
  log: { task: 'log_fwd', work: 28, table: UNARY_TABLE },
  expm1: { task: 'expm1_fwd', work: 20, table: UNARY_TABLE },
  log1p: { task: 'log1p_fwd', work: 32, table: UNARY_TABLE },
} as const;
type SplitUnary = keyof typeof SPLIT_UNARY;
const isSplitUnary = (op: UnaryOp): op is UnaryOp & SplitUnary => Object.hasOwn(SPLIT_UNARY, op);

/**
 * Runs an elementwise kernel over `n` values on two threads where `shared`'s pool has a worker
 * and its policy measures that faster, else on this thread alone (`alone`): the worker's part
 * (the values from `m` on) goes through the shared memory, its inputs copied in before it starts
 * and its outputs out after, while this thread runs `alone` on the values before `m` in its
 * private memory; each part with the same kernel, so the same bits. The policy is told each
 * call's time.
 */
function splitTwo<T extends SplitTask>(
  shared: WasmRuntime | null,
  inputs: Float32Array[],
  outs: Float32Array[],
  n: number,
  task: T,
  perValue: number,
  table: Float32Array,
  args: (at: (slot: number) => number, count: number) => TaskArgs<T>,
  alone: (inputs: Float32Array[], outs: Float32Array[], count: number) => void,
): void {
  const pool = shared?.threads ?? null;
  const work = n * perValue;
  const threads = pool === null ? 1 : pool.threadsFor(work, task);
  const t0 = performance.now();
  if (threads < 2 || shared === null || pool === null) alone(inputs, outs, n);
  else {
    pool.wake(2);
    // This thread also copies the worker's values in and out: it takes a little less than half.
    const m = Math.floor((n * 15) / 32);
    const w = n - m;
    const p = padded(w);
    const slots = inputs.length + outs.length;
    const base = shared.dataAt;
    const at = (slot: number): number => (base + slot * p) * 4;
    let mem = shared.heap(base + slots * p + table.length);
    mem.set(table, base + slots * p);
    inputs.forEach((x, i) => mem.set(x.subarray(m, n), base + i * p));
    const part = args(at, w);
    pool.run(task, [args(at, 0), part], undefined, () =>
      alone(
        inputs.map((x) => x.subarray(0, m)),
        outs.map((o) => o.subarray(0, m)),
        m,
      ),
    );
    mem = shared.heap(0);
    outs.forEach((o, j) => {
      const from = base + (inputs.length + j) * p;
      o.set(mem.subarray(from, from + w), m);
    });
  }
  pool?.record(threads, work, performance.now() - t0, task);
}

/**
 * GELU of `x` into `y` and its derivative into `g` on the SIMD kernel `gelu_save` (the bits of
 * unary-ops.ts `gelu` and `geluGrad`, from one erf), block by block in `rt`'s memory; given `shared`
 * (a runtime with a thread pool other than `rt`), on two threads where its policy measures that
 * faster (the same bits). The backward pass is then a product, `dy * g`.
 */
export function geluSaveSimd(
  rt: WasmRuntime,
  x: Float32Array,
  y: Float32Array,
  g: Float32Array,
  n: number,
  shared: WasmRuntime | null = null,
): void {
  splitTwo(
    shared === rt ? null : shared,
    [x],
    [y, g],
    n,
    'gelu_fwd',
    GELU_WORK,
    GELU_TABLE,
    (at, count) => ({ a: at(0), o: at(1), g: at(2), n: count, tab: at(3) }),
    ([xs], [ys, gs], count) =>
      inBlocks(rt, [xs], [ys, gs], count, (p, k) => rt.exports.gelu_save(0, p * 4, 2 * p * 4, k, 3 * p * 4), GELU_TABLE),
  );
}

/**
 * `out = op(x)` for the ops of {@link SPLIT_UNARY} on their SIMD kernels (the bits of unary-ops.ts
 * gelu, expF32Full, sigmoidF32, tanhF32, logF32, expm1F32 and log1pF32), block by block in `rt`'s
 * memory; given `shared` (a runtime with a thread pool other than `rt`), on two threads where its
 * policy measures that faster (the same bits).
 */
function splitUnarySimd(rt: WasmRuntime, op: SplitUnary, x: Float32Array, out: Float32Array, n: number, shared: WasmRuntime | null): void {
  const { task, work, table } = SPLIT_UNARY[op];
  splitTwo(
    shared === rt ? null : shared,
    [x],
    [out],
    n,
    task,
    work,
    table,
    (at, count) => ({ a: at(0), o: at(1), n: count, tab: at(2) }),
    ([xs], [os], count) => inBlocks(rt, [xs], os, count, (p, m) => rt.exports[op](0, p * 4, m, 2 * p * 4), table),
  );
}

/**
 * Runs a row kernel over `[rows, cols]` a block of whole rows at a time (as many as fit in
 * {@link WASM_BLOCK} values, at least one): the block of each input is copied into the heap (input
 * `i` at float `i * p`, `p` the block's padded size), {@link GELU_TABLE} after `slots` such slots,
 * then room for `perRow` floats a row; `run(mem, p, r0, r1)` calls the kernel on rows `r0 .. r1` and
 * copies its results out.
 */
function inRowBlocks(
  rt: WasmRuntime,
  rows: number,
  cols: number,
  inputs: Float32Array[],
  slots: number,
  perRow: number,
  run: (mem: Float32Array, p: number, r0: number, r1: number) => void,
): void {
  const per = Math.max(1, Math.floor(block / cols));
  for (let r0 = 0; r0 < rows; r0 += per) {
    const r1 = Math.min(rows, r0 + per);
    const p = padded((r1 - r0) * cols);
    const mem = rt.heap(slots * p + GELU_TABLE.length + perRow * (r1 - r0));
    mem.set(GELU_TABLE, slots * p);
    inputs.forEach((x, i) => mem.set(x.subarray(r0 * cols, r1 * cols), i * p));
    run(mem, p, r0, r1);
  }
}

/**
 * Softmax of each row of `[rows, cols]` on the SIMD kernel `softmax_rows` (the bits of cpu-backend.ts
 * softmaxF32).
 */
export function softmaxSimd(rt: WasmRuntime, x: Float32Array, out: Float32Array, rows: number, cols: number): void {
  inRowBlocks(rt, rows, cols, [x], 2, 0, (mem, p, r0, r1) => {
    rt.exports.softmax_rows(0, p * 4, r1 - r0, cols, 2 * p * 4);
    out.set(mem.subarray(p, p + (r1 - r0) * cols), r0 * cols);
  });
}

/**
 * The gradient of softmax (`op` `'softmax'`) or log-softmax (`'logSoftmax'`) along each row of
 * `[rows, cols]` from the output `y`, on the SIMD kernels `softmax_bwd_rows` / `log_softmax_bwd_rows`
 * (the bits of cpu-backend.ts softmaxRowsBackward).
 */
export function softmaxBackwardSimd(
  rt: WasmRuntime,
  op: 'softmax' | 'logSoftmax',
  dy: Float32Array,
  y: Float32Array,
  out: Float32Array,
  rows: number,
  cols: number,
): void {
  const kernel = op === 'softmax' ? rt.exports.softmax_bwd_rows : rt.exports.log_softmax_bwd_rows;
  inRowBlocks(rt, rows, cols, [dy, y], 3, 0, (mem, p, r0, r1) => {
    kernel(0, p * 4, 2 * p * 4, r1 - r0, cols, 3 * p * 4);
    out.set(mem.subarray(2 * p, 2 * p + (r1 - r0) * cols), r0 * cols);
  });
}

/**
 * Each row's largest value (0 if none) and sum of e^(x - max) for `[rows, cols]`, as the pairs
 * `stats[2r], stats[2r + 1]`, on the SIMD kernel `row_logsumexp` (the bits of cpu-backend.ts
 * rowExpSums).
 */
export function rowLogSumExpSimd(rt: WasmRuntime, x: Float32Array, stats: Float32Array, rows: number, cols: number): void {
  inRowBlocks(rt, rows, cols, [x], 1, 2, (mem, p, r0, r1) => {
    const at = p + GELU_TABLE.length;
    rt.exports.row_logsumexp(0, r1 - r0, cols, p * 4, at * 4);
    stats.set(mem.subarray(at, at + 2 * (r1 - r0)), 2 * r0);
  });
}
