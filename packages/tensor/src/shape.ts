import { AxisError, ShapeError, fmtShape } from './errors.js';

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** NumPy broadcasting: align from the right; sizes must match or be 1. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  if (shapesEqual(a, b)) return a.slice();
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(op, `shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast (axis ${i - n}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Normalises one axis (negative counts from the end) or throws naming the op. */
export function normAxis(op: string, axis: number, rank: number): number {
  // A 0-d tensor accepts axis 0 and -1, as in PyTorch.
  const r = Math.max(rank, 1);
  if (!Number.isInteger(axis) || axis < -r || axis >= r) {
    throw new AxisError(op, `axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return axis < 0 ? axis + r : axis;
}

/** Normalises an axis list (default: every axis), sorted and unique. */
export function normAxes(op: string, axis: number | readonly number[] | undefined | null, rank: number): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  if (typeof axis !== 'number' && !Array.isArray(axis)) {
    throw new AxisError(op, `axis must be a number or an array of numbers, got ${JSON.stringify(axis) ?? typeof axis}`);
  }
  const list = typeof axis === 'number' ? [axis] : axis;
  const out = list.map((a) => normAxis(op, a, rank));
  const sorted = [...out].sort((x, y) => x - y);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new AxisError(op, `axis ${sorted[i]} is repeated in [${list.join(',')}]`);
  }
  return sorted;
}

/** Resolves a reshape target with at most one `-1`. */
export function resolveReshape(op: string, from: readonly number[], to: readonly number[]): number[] {
  const total = sizeOf(from);
  let neg = -1;
  let known = 1;
  for (let i = 0; i < to.length; i++) {
    const d = to[i];
    if (d === -1) {
      if (neg >= 0) throw new ShapeError(op, `only one -1 is allowed in ${fmtShape(to)}`);
      neg = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(op, `invalid dimension ${d} in ${fmtShape(to)}`);
    } else known *= d;
  }
  const out = to.slice();
  if (neg >= 0) {
    if (known === 0 || total % known !== 0) {
      throw new ShapeError(op, `cannot reshape ${fmtShape(from)} (${total} elements) to ${fmtShape(to)}`);
    }
    out[neg] = total / known;
  } else if (known !== total) {
    throw new ShapeError(op, `cannot reshape ${fmtShape(from)} (${total} elements) to ${fmtShape(to)} (${known} elements)`);
  }
  return out;
}
