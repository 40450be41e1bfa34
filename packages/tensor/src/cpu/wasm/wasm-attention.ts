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
  const { n, heads, l, s, d, dv } = z;
  const qs = heads * d;
  const vs = heads * dv;
  const out = newF32(n * l * vs, false);
  const p = newF32(n * heads * l * s, false);
  const l4 = up(l, 4);
  const s8 = up(s, 8);
  const dv8 = up(dv, 8);
  const g = groupOf(n, l * qs + s * qs + s * vs + l * vs + heads * l * s);
  // Rows past the last (four at a time) and columns past the last feature (eight at a time).
  const slack = 4 * Math.max(qs, vs, s) + 16;
  for (let b0 = 0; b0 < n; b0 += g) {
    const m = Math.min(g, n - b0);
    const sizes = [m * l * qs, m * s * qs, m * s * vs, m * l * vs, m * heads * l * s, d * s8, l4 * s8, l * s, l4 * dv8];
    const { at, tab, end } = layout(sizes, slack);
    const [qA, kA, vA, oA, pA, ktA, scA, srA, obA] = at;
    const mem = on.heap(end);
    mem.set(GELU_TABLE, tab);
    mem.set(q.subarray(b0 * l * qs, (b0 + m) * l * qs), qA);
    mem.set(k.subarray(b0 * s * qs, (b0 + m) * s * qs), kA);
    mem.set(v.subarray(b0 * s * vs, (b0 + m) * s * vs), vA);
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
    out.set(heap.subarray(oA, oA + m * l * vs), b0 * l * vs);
    p.set(heap.subarray(pA, pA + m * heads * l * s), b0 * heads * l * s);
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
  const qs = heads * d;
  const vs = heads * dv;
  const dq = newF32(n * l * qs, false);
  const dk = newF32(n * s * qs, false);
  const dvOut = newF32(n * s * vs, false);
  const l4 = up(l, 4);
  const s4 = up(s, 4);
  const s8 = up(s, 8);
  const w8 = Math.max(up(d, 8), up(dv, 8));
  const g = groupOf(n, 2 * (l * vs + l * qs + s * qs + s * vs) + heads * l * s);
  const slack = 4 * Math.max(qs, vs, s, l) + 16;
  for (let b0 = 0; b0 < n; b0 += g) {
    const m = Math.min(g, n - b0);
    const sizes = [
      m * l * vs, // g
      m * l * qs, // q
      m * s * qs, // k
      m * s * vs, // v
      m * heads * l * s, // p
      m * l * qs, // dq
      m * s * qs, // dk
      m * s * vs, // dv
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
    mem.set(dy.subarray(b0 * l * vs, (b0 + m) * l * vs), gA);
    mem.set(q.subarray(b0 * l * qs, (b0 + m) * l * qs), qA);
    mem.set(k.subarray(b0 * s * qs, (b0 + m) * s * qs), kA);
    mem.set(v.subarray(b0 * s * vs, (b0 + m) * s * vs), vA);
    mem.set(p.subarray(b0 * heads * l * s, (b0 + m) * heads * l * s), pA);
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
    dq.set(heap.subarray(dqA, dqA + m * l * qs), b0 * l * qs);
    dk.set(heap.subarray(dkA, dkA + m * s * qs), b0 * s * qs);
    dvOut.set(heap.subarray(dvA, dvA + m * s * vs), b0 * s * vs);
  }
  return [dq, dk, dvOut];
}
