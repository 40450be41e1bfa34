import type { AttentionShape } from '../../backend/backend.js';
import { GELU_TABLE } from '../../backend/unary-ops.js';
import { newF32 } from '../storage.js';
import { KC } from './wasm-gemm.js';
import { DATA_AT, type WasmRuntime } from './wasm-runtime.js';

/** Floats of heap one group of batch entries may take (4 MiB): a group's operands stay in L2/L3. */
const GROUP_FLOATS = 1 << 20;

const up = (x: number, m: number): number => Math.ceil(x / m) * m;

/**
 * Lays out `arrays` (sizes in floats) one after another from {@link DATA_AT} after the exp table,
 * each followed by room for the rows and columns the kernels read past it; returns their float
 * offsets and the heap's size.
 */
function layout(sizes: readonly number[], slack: number): { at: number[]; tab: number; end: number } {
  const tab = DATA_AT;
  let end = up(tab + GELU_TABLE.length, 16);
  const at = sizes.map((size) => {
    const a = end;
    end = up(a + size + slack, 16);
    return a;
  });
  return { at, tab, end };
}

/**
 * The arguments `attn_fwd` and `attn_bwd` share, after their arrays: items, heads, the sizes, the
 * row strides of q, k, v and the output, the scale, the mask, the depth block and the table.
 */
function shared(z: AttentionShape, m: number, scale: number, causal: boolean, tab: number): number[] {
  const qs = z.heads * z.d;
  const vs = z.heads * z.dv;
  return [m * z.heads, z.heads, z.l, z.s, z.d, z.dv, qs, qs, vs, vs, scale, causal ? 1 : 0, KC, tab * 4];
}

/** Floats a batch entry takes of q, k, v, the output (and its gradient) and the weights. */
function perEntry(z: AttentionShape): { q: number; k: number; v: number; o: number; p: number } {
  const qs = z.heads * z.d;
  const vs = z.heads * z.dv;
  return { q: z.l * qs, k: z.s * qs, v: z.s * vs, o: z.l * vs, p: z.heads * z.l * z.s };
}

/** Batch entries `b0 .. b0 + m` of an array holding `per` floats an entry. */
const entries = (x: Float32Array, per: number, b0: number, m: number): Float32Array => x.subarray(b0 * per, (b0 + m) * per);

/** Batch entries per pass, so a pass's heap stays near {@link GROUP_FLOATS}. */
function groupOf(n: number, perEntry: number): number {
  return Math.max(1, Math.min(n, Math.floor(GROUP_FLOATS / Math.max(1, perEntry))));
}

/**
 * Attention on the SIMD kernel `attn_fwd`, on this thread: `q: [n, l, heads*d]`, `k: [n, s, heads*d]`,
 * `v: [n, s, heads*dv]` (each head a column block of its rows), giving the output `[n, l, heads*dv]`
 * and the attention weights `[n, heads, l, s]` (softmax of `q k^T * scale`, keys `j > i` masked
 * for query `i` when `causal`). The bits of the composite (matmul, mul, where, softmax, matmul) on the
 * same kernels.
 */
export function wasmAttention(
  rt: WasmRuntime,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  z: AttentionShape,
  scale: number,
  causal: boolean,
): [Float32Array, Float32Array] {
  const on = rt.alone();
  const { n, l, s, d, dv } = z;
  const e = perEntry(z);
  const out = newF32(n * e.o, false);
  const p = newF32(n * e.p, false);
  const l4 = up(l, 4);
  const s8 = up(s, 8);
  const dv8 = up(dv, 8);
  const g = groupOf(n, e.q + e.k + e.v + e.o + e.p);
  // Rows past the last (four at a time) and columns past the last feature (eight at a time).
  const slack = 4 * Math.max(z.heads * d, z.heads * dv, s) + 16;
  for (let b0 = 0; b0 < n; b0 += g) {
    const m = Math.min(g, n - b0);
    const sizes = [m * e.q, m * e.k, m * e.v, m * e.o, m * e.p, d * s8, l4 * s8, l * s, l4 * dv8];
    const { at, tab, end } = layout(sizes, slack);
    const [qA, kA, vA, oA, pA, ktA, scA, srA, obA] = at;
    const mem = on.heap(end);
    mem.set(GELU_TABLE, tab);
    mem.set(entries(q, e.q, b0, m), qA);
    mem.set(entries(k, e.k, b0, m), kA);
    mem.set(entries(v, e.v, b0, m), vA);
    (on.exports.attn_fwd as (...args: number[]) => void)(
      qA * 4,
      kA * 4,
      vA * 4,
      oA * 4,
      pA * 4,
      ...shared(z, m, scale, causal, tab),
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
 * layouts of `q`, `k`, `v`. The bits of the composite's gradient on the same kernels.
 */
export function wasmAttentionBackward(
  rt: WasmRuntime,
  dy: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  p: Float32Array,
  z: AttentionShape,
  scale: number,
  causal: boolean,
): [Float32Array, Float32Array, Float32Array] {
  const on = rt.alone();
  const { n, heads, l, s, d, dv } = z;
  const e = perEntry(z);
  const dq = newF32(n * e.q, false);
  const dk = newF32(n * e.k, false);
  const dvOut = newF32(n * e.v, false);
  const l4 = up(l, 4);
  const s4 = up(s, 4);
  const s8 = up(s, 8);
  const w8 = Math.max(up(d, 8), up(dv, 8));
  const g = groupOf(n, 2 * (e.o + e.q + e.k + e.v) + e.p);
  const slack = 4 * Math.max(heads * d, heads * dv, s, l) + 16;
  for (let b0 = 0; b0 < n; b0 += g) {
    const m = Math.min(g, n - b0);
    const sizes = [
      m * e.o, // g
      m * e.q, // q
      m * e.k, // k
      m * e.v, // v
      m * e.p, // p
      m * e.q, // dq
      m * e.k, // dk
      m * e.v, // dv
      dv * s8, // vt
      l4 * s8, // dpc
      l * s, // dps
      l * s, // ds
      l4 * s, // dr
      s4 * l, // tr
      Math.max(l4, s4) * w8, // cb
    ];
    const { at, tab, end } = layout(sizes, slack);
    const [gA, qA, kA, vA, pA, dqA, dkA, dvA, vtA, dpcA, dpsA, dsA, drA, trA, cbA] = at;
    const mem = on.heap(end);
    mem.set(GELU_TABLE, tab);
    mem.set(entries(dy, e.o, b0, m), gA);
    mem.set(entries(q, e.q, b0, m), qA);
    mem.set(entries(k, e.k, b0, m), kA);
    mem.set(entries(v, e.v, b0, m), vA);
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
      ...shared(z, m, scale, causal, tab),
      vtA * 4,
      dpcA * 4,
      dpsA * 4,
      dsA * 4,
      drA * 4,
      trA * 4,
      cbA * 4,
    );
    const heap = on.heap(0);
    entries(dq, e.q, b0, m).set(heap.subarray(dqA, dqA + m * e.q));
    entries(dk, e.k, b0, m).set(heap.subarray(dkA, dkA + m * e.k));
    entries(dvOut, e.v, b0, m).set(heap.subarray(dvA, dvA + m * e.v));
  }
  return [dq, dk, dvOut];
}
