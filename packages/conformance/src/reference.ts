/**
 * Naive float64 reference implementations, written as the textbook loops so
 * they share no code with any backend. Cases compare backends against them on
 * random inputs; hand-derived values cover the small examples.
 */

/** Row-major strides of `shape`. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** The multi-index of flat position `flatIndex` in `shape`. */
export function unravel(flatIndex: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  let r = flatIndex;
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = r % shape[i];
    r = Math.floor(r / shape[i]);
  }
  return idx;
}

/** NumPy's broadcast shape, or null when the shapes do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Flat position in `shape` read by output multi-index `idx` under broadcasting. */
export function broadcastOffset(idx: readonly number[], shape: readonly number[]): number {
  const st = strides(shape);
  const lead = idx.length - shape.length;
  let off = 0;
  for (let i = 0; i < shape.length; i++) off += (shape[i] === 1 ? 0 : idx[lead + i]) * st[i];
  return off;
}

/** `f(a, b)` elementwise with broadcasting, one output element at a time. */
export function broadcastBinary(
  a: ArrayLike<number>,
  aShape: readonly number[],
  b: ArrayLike<number>,
  bShape: readonly number[],
  f: (x: number, y: number) => number,
): { shape: number[]; values: number[] } {
  const shape = broadcastShape(aShape, bShape);
  if (!shape) throw new Error(`reference: [${aShape}] and [${bShape}] do not broadcast`);
  const n = shape.reduce((p, d) => p * d, 1);
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    values.push(f(a[broadcastOffset(idx, aShape)], b[broadcastOffset(idx, bShape)]));
  }
  return { shape, values };
}

/** `[batch.., m, k] @ [batch.., k, n]` with broadcast batch axes (both rank >= 2). */
export function matmulRef(
  a: ArrayLike<number>,
  aShape: readonly number[],
  b: ArrayLike<number>,
  bShape: readonly number[],
): { shape: number[]; values: number[] } {
  const m = aShape[aShape.length - 2];
  const k = aShape[aShape.length - 1];
  const n = bShape[bShape.length - 1];
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const batch = broadcastShape(aBatch, bBatch);
  if (!batch || bShape[bShape.length - 2] !== k) throw new Error('reference: matmul shapes do not match');
  const nb = batch.reduce((p, d) => p * d, 1);
  const values: number[] = [];
  for (let t = 0; t < nb; t++) {
    const bi = unravel(t, batch);
    const aOff = broadcastOffset(bi, aBatch) * m * k;
    const bOff = broadcastOffset(bi, bBatch) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[aOff + i * k + p] * b[bOff + p * n + j];
        values.push(s);
      }
    }
  }
  return { shape: [...batch, m, n], values };
}

/** Direct 2-D cross-correlation over NCHW input, zero padding. */
export function conv2dRef(
  x: ArrayLike<number>,
  xShape: readonly number[],
  w: ArrayLike<number>,
  wShape: readonly number[],
  bias: ArrayLike<number> | null,
  stride: number,
  padding: number,
): { shape: number[]; values: number[] } {
  const [n, c, h, wd] = xShape;
  const [oc, , kh, kw] = wShape;
  const oh = Math.floor((h + 2 * padding - kh) / stride) + 1;
  const ow = Math.floor((wd + 2 * padding - kw) / stride) + 1;
  const values: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < oc; o++) {
      for (let y = 0; y < oh; y++) {
        for (let xo = 0; xo < ow; xo++) {
          let s = bias ? bias[o] : 0;
          for (let ch = 0; ch < c; ch++) {
            for (let i = 0; i < kh; i++) {
              for (let j = 0; j < kw; j++) {
                const iy = y * stride - padding + i;
                const ix = xo * stride - padding + j;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                s += x[((b * c + ch) * h + iy) * wd + ix] * w[((o * c + ch) * kh + i) * kw + j];
              }
            }
          }
          values.push(s);
        }
      }
    }
  }
  return { shape: [n, oc, oh, ow], values };
}

/** Max or average pooling over NCHW input (padding: -Infinity for max, zeros counted for average). */
export function poolRef(
  x: ArrayLike<number>,
  xShape: readonly number[],
  kind: 'max' | 'avg',
  k: number,
  stride: number,
  padding: number,
): { shape: number[]; values: number[] } {
  const [n, c, h, w] = xShape;
  const oh = Math.floor((h + 2 * padding - k) / stride) + 1;
  const ow = Math.floor((w + 2 * padding - k) / stride) + 1;
  const values: number[] = [];
  for (let p = 0; p < n * c; p++) {
    for (let y = 0; y < oh; y++) {
      for (let xo = 0; xo < ow; xo++) {
        let acc = kind === 'max' ? -Infinity : 0;
        for (let i = 0; i < k; i++) {
          for (let j = 0; j < k; j++) {
            const iy = y * stride - padding + i;
            const ix = xo * stride - padding + j;
            const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
            const v = inside ? x[(p * h + iy) * w + ix] : kind === 'max' ? -Infinity : 0;
            acc = kind === 'max' ? Math.max(acc, v) : acc + v;
          }
        }
        values.push(kind === 'max' ? acc : acc / (k * k));
      }
    }
  }
  return { shape: [n, c, oh, ow], values };
}

/** Reduction over `axes` with `f` folding from `init`. */
export function reduceRef(
  x: ArrayLike<number>,
  shape: readonly number[],
  axes: readonly number[],
  f: (acc: number, v: number) => number,
  init: number,
): { shape: number[]; values: number[] } {
  const outShape = shape.filter((_, i) => !axes.includes(i));
  const outStr = strides(outShape);
  const size = outShape.reduce((p, d) => p * d, 1);
  const values = new Array<number>(size).fill(init);
  const n = shape.reduce((p, d) => p * d, 1);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape).filter((_, d) => !axes.includes(d));
    let o = 0;
    idx.forEach((v, d) => (o += v * outStr[d]));
    values[o] = f(values[o], x[i]);
  }
  return { shape: outShape, values };
}
