/**
 * Contour lines of a function sampled on a grid (marching squares), and the
 * colour ramp of the filled contours, for the `landscape(...)` figure.
 */

/** A line segment in grid coordinates (column, row; 0..n-1 are sample centres). */
export type Segment = [number, number, number, number];

/** Contour levels: `count` values evenly spaced between the extremes of `values`, on a log scale when `log`. */
export function contourLevels(values: readonly number[], count: number, log: boolean): number[] {
  const finite = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (!finite.length) return [];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (log) {
    lo = Math.log10(lo);
    hi = Math.log10(hi);
  }
  if (hi === lo) return [];
  const out: number[] = [];
  for (let i = 1; i < count; i++) {
    const t = lo + ((hi - lo) * i) / count;
    out.push(log ? 10 ** t : t);
  }
  return out;
}

/**
 * The segments where the surface crosses `level`, by marching squares over
 * the n×n grid `values` (row-major). Saddle cells give both segments.
 */
export function contourSegments(values: readonly number[], n: number, level: number): Segment[] {
  const out: Segment[] = [];
  const v = (r: number, c: number): number => values[r * n + c];
  // Where the level crosses the edge from (r1, c1) to (r2, c2), linearly interpolated.
  const cross = (r1: number, c1: number, r2: number, c2: number): [number, number] => {
    const a = v(r1, c1);
    const b = v(r2, c2);
    const t = a === b ? 0.5 : (level - a) / (b - a);
    return [c1 + t * (c2 - c1), r1 + t * (r2 - r1)];
  };
  for (let r = 0; r < n - 1; r++) {
    for (let c = 0; c < n - 1; c++) {
      const tl = v(r, c) > level ? 1 : 0;
      const tr = v(r, c + 1) > level ? 1 : 0;
      const br = v(r + 1, c + 1) > level ? 1 : 0;
      const bl = v(r + 1, c) > level ? 1 : 0;
      const k = (tl << 3) | (tr << 2) | (br << 1) | bl;
      if (k === 0 || k === 15) continue;
      const top = (): [number, number] => cross(r, c, r, c + 1);
      const right = (): [number, number] => cross(r, c + 1, r + 1, c + 1);
      const bottom = (): [number, number] => cross(r + 1, c, r + 1, c + 1);
      const left = (): [number, number] => cross(r, c, r + 1, c);
      const seg = (p: [number, number], q: [number, number]): void => void out.push([p[0], p[1], q[0], q[1]]);
      switch (k) {
        case 1:
        case 14:
          seg(left(), bottom());
          break;
        case 2:
        case 13:
          seg(bottom(), right());
          break;
        case 3:
        case 12:
          seg(left(), right());
          break;
        case 4:
        case 11:
          seg(top(), right());
          break;
        case 6:
        case 9:
          seg(top(), bottom());
          break;
        case 7:
        case 8:
          seg(left(), top());
          break;
        case 5:
          seg(left(), top());
          seg(bottom(), right());
          break;
        case 10:
          seg(top(), right());
          seg(left(), bottom());
          break;
      }
    }
  }
  return out;
}

const RAMP: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** The colour of `t` in 0..1 on a viridis-like ramp, mixed with white so paths drawn on it stay visible. */
export function rampColor(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  return RAMP[i].map((a, j) => Math.round(0.45 * 255 + 0.55 * (a + f * (RAMP[i + 1][j] - a)))) as [number, number, number];
}
