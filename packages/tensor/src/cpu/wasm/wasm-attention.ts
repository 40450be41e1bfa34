import type { AttentionShape } from '../../backend/backend.js';
import { GELU_TABLE } from '../../backend/unary-ops.js';
import { newF32 } from '../storage.js';
import { KC } from './wasm-gemm.js';
import type { WasmRuntime } from './wasm-runtime.js';

/** Floats of heap one group of batch entries may take (4 MiB): a group's operands stay in L2/L3. */
const GROUP_FLOATS = 1 << 20;

const up = (x: number, m: number): number => Math.ceil(x / m) * m;

/**
 * Lays out `arrays` (sizes in floats) one after another from float `from` (the runtime's
 * {@link WasmRuntime.dataAt}) after the exp table,
 * each followed by room for the rows and columns the kernels read past it; returns their float
 * offsets and the heap's size.
 */
function layout(from: number, sizes: readonly number[], slack: number): { at: number[]; tab: number; end: number } {
  const tab = from;
  let end = up(tab + GELU_TABLE.length, 16);
  const at = sizes.map((size) => {
    const a = end;
    end = up(a + size + slack, 16);
    return a;
  });
  return { at, tab, end };
}

/**
 * How q, k and v lie in memory: three arrays, rows `heads*d`, `heads*d` and `heads*dv` floats
 * wide, or (`packed`) one array `[n, l, heads*(2d + dv)]` whose rows hold q, k and v side by side,
 * as self-attention's one projection gives them (then `s = l`). `per` is the floats a
 * batch entry takes of each array; `strides` the row strides of q, k, v and the output; `at`
 * turns the arrays' offsets in the heap into those of q, k and v.
 */
interface Operands {
  per: number[];
  strides: [number, number, number, number];
  at: (arrays: readonly number[]) => [number, number, number];
}

function operands(z: AttentionShape, packed: boolean): Operands {
  const qs = z.heads * z.d;
  const vs = z.heads * z.dv;
  if (packed) {
    const row = 2 * qs + vs;
    return { per: [z.l * row], strides: [row, row, row, vs], at: ([a]) => [a, a + qs, a + 2 * qs] };
  }
  return { per: [z.l * qs, z.s * qs, z.s * vs], strides: [qs, qs, vs, vs], at: ([q, k, v]) => [q, k, v] };
}

/**
 * The arguments `attn_fwd` and `attn_bwd` share, after their arrays: items, heads, the sizes, the
 * row strides of q, k, v and the output, the scale, the mask, the depth block and the table.
 */
function shared(z: AttentionShape, m: number, o: Operands, scale: number, causal: boolean, tab: number): number[] {
  return [m * z.heads, z.heads, z.l, z.s, z.d, z.dv, ...o.strides, scale, causal ? 1 : 0, KC, tab * 4];
}

/** Floats a batch entry takes of the output (and its gradient) and of the weights. */
function perEntry(z: AttentionShape): { o: number; p: number } {
  return { o: z.l * z.heads * z.dv, p: z.heads * z.l * z.s };
}

/** Batch entries `b0 .. b0 + m` of an array holding `per` floats an entry. */
const entries = (x: Float32Array, per: number, b0: number, m: number): Float32Array => x.subarray(b0 * per, (b0 + m) * per);

/** Batch entries per pass, so a pass's heap stays near {@link GROUP_FLOATS}. */
function groupOf(n: number, perEntry: number): number {
  return Math.max(1, Math.min(n, Math.floor(GROUP_FLOATS / Math.max(1, perEntry))));
}

/** Floats the kernels may read past an array: four rows of the widest stride and a vector more. */
const slackOf = (z: AttentionShape, o: Operands): number => 4 * Math.max(...o.strides, z.s, z.l) + 16;

/**
 * Attention on the SIMD kernel `attn_fwd`, on this thread, for q, k and v given as `inputs`: three
 * arrays `q: [n, l, heads*d]`, `k: [n, s, heads*d]`, `v: [n, s, heads*dv]` (each head a column block
 * of its rows), or (`packed`) one array `[n, l, heads*(2d + dv)]` holding them side by side in each
 * row, which the kernel reads in place (self-attention's one projection; `s = l`). Gives the output
 * `[n, l, heads*dv]` and the attention weights `[n, heads, l, s]` (softmax of `q k^T * scale`, keys
 * `j > i` masked for query `i` when `causal`): the bits of the composite (matmul, mul, where,
 * softmax, matmul) on the same kernels, packed or not.
 */
export function wasmAttention(
  rt: WasmRuntime,
  inputs: readonly Float32Array[],
  packed: boolean,
  z: AttentionShape,
  scale: number,
  causal: boolean,
): [Float32Array, Float32Array] {
  const ops = operands(z, packed);
  const on = rt.alone();
  const { n, l, s, d, dv } = z;
  const e = perEntry(z);
  const out = newF32(n * e.o, false);
  const p = newF32(n * e.p, false);
  const l4 = up(l, 4);
  const s8 = up(s, 8);
  const dv8 = up(dv, 8);
  const g = groupOf(n, ops.per.reduce((a, b) => a + b, 0) + e.o + e.p);
  // Rows past the last (four at a time) and columns past the last feature (eight at a time).
  const slack = slackOf(z, ops);
  const count = inputs.length;
  for (let b0 = 0; b0 < n; b0 += g) {
    const m = Math.min(g, n - b0);
    const sizes = [...ops.per.map((per) => m * per), m * e.o, m * e.p, d * s8, l4 * s8, l * s, l4 * dv8];
    const { at, tab, end } = layout(on.dataAt, sizes, slack);
    const [oA, pA, ktA, scA, srA, obA] = at.slice(count);
    const [qA, kA, vA] = ops.at(at.slice(0, count));
    const mem = on.heap(end);
    mem.set(GELU_TABLE, tab);
    for (let i = 0; i < count; i++) mem.set(entries(inputs[i], ops.per[i], b0, m), at[i]);
    (on.exports.attn_fwd as (...args: number[]) => void)(
      qA * 4,
      kA * 4,
      vA * 4,
      oA * 4,
      pA * 4,
      ...shared(z, m, ops, scale, causal, tab),
      ktA * 4,
      scA * 4,
      srA * 4,
      obA * 4,
    );
    const heap = on.heap(0);
    entries(out, e.o, b0, m).set(heap.subarray(oA, oA + m * e.o));
    entries(p, e.p, b0, m).set(heap.subarray(pA, pA + m * e.p));
  }
  return [out, p];
}

/**
 * The gradients of {@link wasmAttention} for the output gradient `dy` (`[n, l, heads*dv]`) from
 * the attention weights `p` it returned, on the SIMD kernel `attn_bwd`: `[dq, dk, dv]` in the
 * layouts of `inputs` (`[dqkv]` when `packed`, the kernel writing them side by side into its rows).
 * The bits of the composite's gradient on the same kernels.
 */
export function wasmAttentionBackward(
  rt: WasmRuntime,
  dy: Float32Array,
  inputs: readonly Float32Array[],
  p: Float32Array,
  packed: boolean,
  z: AttentionShape,
  scale: number,
  causal: boolean,
): Float32Array[] {
  const ops = operands(z, packed);
  const on = rt.alone();
  const { n, l, s, d, dv } = z;
  const e = perEntry(z);
  const grads = ops.per.map((per) => newF32(n * per, false));
  const l4 = up(l, 4);
  const s4 = up(s, 4);
  const s8 = up(s, 8);
  const w8 = Math.max(up(d, 8), up(dv, 8));
  const g = groupOf(n, 2 * (e.o + ops.per.reduce((a, b) => a + b, 0)) + e.p);
  const slack = slackOf(z, ops);
  const count = inputs.length;
  for (let b0 = 0; b0 < n; b0 += g) {
    const m = Math.min(g, n - b0);
    const sizes = [
      m * e.o, // g
      ...ops.per.map((per) => m * per), // q, k, v (or qkv)
      m * e.p, // p
      ...ops.per.map((per) => m * per), // dq, dk, dv (or dqkv)
      dv * s8, // vt
      l4 * s8, // dpc
      l * s, // dps
      l * s, // ds
      l4 * s, // dr
      s4 * l, // tr
      Math.max(l4, s4) * w8, // cb
    ];
    const { at, tab, end } = layout(on.dataAt, sizes, slack);
    const gA = at[0];
    const pA = at[1 + count];
    const gradsAt = at.slice(2 + count, 2 + 2 * count);
    const [vtA, dpcA, dpsA, dsA, drA, trA, cbA] = at.slice(2 + 2 * count);
    const [qA, kA, vA] = ops.at(at.slice(1, 1 + count));
    const [dqA, dkA, dvA] = ops.at(gradsAt);
    const mem = on.heap(end);
    mem.set(GELU_TABLE, tab);
    mem.set(entries(dy, e.o, b0, m), gA);
    for (let i = 0; i < count; i++) mem.set(entries(inputs[i], ops.per[i], b0, m), at[1 + i]);
    mem.set(entries(p, e.p, b0, m), pA);
    (on.exports.attn_bwd as (...args: number[]) => void)(
      gA * 4,
      qA * 4,
      kA * 4,
      vA * 4,
      pA * 4,
      dqA * 4,
      dkA * 4,
      dvA * 4,
      ...shared(z, m, ops, scale, causal, tab),
      vtA * 4,
      dpcA * 4,
      dpsA * 4,
      dsA * 4,
      drA * 4,
      trA * 4,
      cbA * 4,
    );
    const heap = on.heap(0);
    for (let i = 0; i < count; i++) entries(grads[i], ops.per[i], b0, m).set(heap.subarray(gradsAt[i], gradsAt[i] + m * ops.per[i]));
  }
  return grads;
}
