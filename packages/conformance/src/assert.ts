/**
 * Assertions for conformance cases. They throw plain `Error`s with a message
 * that says what differed, and depend on nothing but @bp/tensor, so the same
 * cases run under vitest and in a bare browser page.
 *
 * On a backend that reads only asynchronously (`syncRead: false`, e.g. WebGPU) the value
 * checks cannot read at once: they start `await t.data()` and return, and the runner awaits
 * {@link settleChecks} after each case, which throws the first failure in the order the
 * checks were made. On every other backend they read and throw at once, as before, so a
 * case is written once for every backend.
 */
import { BpError, Tensor, fmtShape, getBackend, type DType, type NestedArray, type TypedArray } from '@bp/tensor';

/** Forward-value tolerance: `|actual - expected| <= atol + rtol * |expected|`. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** A failed conformance check. */
export class ConformanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceError';
  }
}

/** Throws a {@link ConformanceError} unless `cond` holds. */
export function check(cond: boolean, message: string | (() => string)): asserts cond {
  if (!cond) throw new ConformanceError(typeof message === 'string' ? message : message());
}

const pending: Promise<unknown>[] = [];

/** Whether the backend in use reads values synchronously. */
export function readsSync(): boolean {
  return getBackend().syncRead !== false;
}

/**
 * Runs `checkValues` on `t`'s values: at once on a synchronous backend, else once
 * `t.data()` resolves (the read is issued now, in queue order; {@link settleChecks} awaits it).
 */
export function withValues(t: Tensor, checkValues: (values: TypedArray) => void): void {
  if (readsSync()) {
    checkValues(t.dataSync());
    return;
  }
  defer(t.data().then(checkValues));
}

/** Registers a check that completes later; {@link settleChecks} awaits it. */
export function defer(p: Promise<unknown>): void {
  // Marked handled here; settleChecks reports the failure.
  p.catch(() => {});
  pending.push(p);
}

/**
 * Awaits every check deferred since the last call and throws the first failure (in the
 * order the checks were made). Runners call it after each case; a no-op on synchronous backends.
 */
export async function settleChecks(): Promise<void> {
  const list = pending.splice(0);
  const outcomes = await Promise.allSettled(list);
  for (const o of outcomes) if (o.status === 'rejected') throw o.reason;
}

/** The shape of nested arrays (no raggedness check: expected values are written by hand). */
export function shapeOf(v: NestedArray): number[] {
  const s: number[] = [];
  let cur: NestedArray = v;
  while (Array.isArray(cur)) {
    s.push(cur.length);
    cur = cur[0] as NestedArray;
    if (cur === undefined) break;
  }
  return s;
}

/** Nested arrays flattened in row-major order. */
export function flat(v: NestedArray | ArrayLike<number>): number[] {
  if (typeof v === 'number') return [v];
  if (!Array.isArray(v)) return Array.from(v as ArrayLike<number>);
  const out: number[] = [];
  const walk = (x: NestedArray) => {
    if (Array.isArray(x)) x.forEach(walk);
    else out.push(x);
  };
  walk(v);
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function fmtNum(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(7);
}

/**
 * Checks `actual` against values. Nested `expected` also fixes the shape; a
 * flat array or typed array needs `shape` to check it.
 */
export function expectClose(
  actual: Tensor,
  expected: NestedArray | ArrayLike<number>,
  tol: Tolerance,
  label = 'value',
  shape?: readonly number[],
): void {
  check(actual instanceof Tensor, `${label}: expected a Tensor, got ${typeof actual}`);
  const wantShape = shape ?? (Array.isArray(expected) || typeof expected === 'number' ? shapeOf(expected as NestedArray) : undefined);
  if (wantShape) {
    check(sameShape(actual.shape, wantShape), `${label}: shape ${fmtShape(actual.shape)}, expected ${fmtShape(wantShape)}`);
  }
  const want = flat(expected as NestedArray);
  const shapeNow = actual.shape.slice();
  withValues(actual, (got) => {
    check(got.length === want.length, `${label}: ${got.length} values, expected ${want.length}`);
    for (let i = 0; i < want.length; i++) {
      const g = got[i];
      const w = want[i];
      const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= tol.atol + tol.rtol * Math.abs(w);
      if (!ok) {
        throw new ConformanceError(
          `${label}: at flat index ${i} of ${fmtShape(shapeNow)}: got ${fmtNum(g)}, expected ${fmtNum(w)} ` +
            `(atol ${tol.atol}, rtol ${tol.rtol})`,
        );
      }
    }
  });
}

/** Checks values exactly (integers, indices, 0/1 masks) and the dtype. */
export function expectExact(actual: Tensor, expected: NestedArray, dtype: DType, label = 'value'): void {
  check(actual instanceof Tensor, `${label}: expected a Tensor, got ${typeof actual}`);
  check(actual.dtype === dtype, `${label}: dtype ${actual.dtype}, expected ${dtype}`);
  expectClose(actual, expected, { atol: 0, rtol: 0 }, label);
}

/** Checks a tensor's shape and dtype. */
export function expectMeta(actual: Tensor, shape: readonly number[], dtype: DType, label = 'value'): void {
  check(sameShape(actual.shape, shape), `${label}: shape ${fmtShape(actual.shape)}, expected ${fmtShape(shape)}`);
  check(actual.dtype === dtype, `${label}: dtype ${actual.dtype}, expected ${dtype}`);
  check(actual.size === shape.reduce((a, b) => a * b, 1), `${label}: size ${actual.size} does not match ${fmtShape(shape)}`);
  check(actual.rank === shape.length, `${label}: rank ${actual.rank}, expected ${shape.length}`);
}

/** Every value finite (no NaN or Infinity). */
export function expectFinite(actual: Tensor, label = 'value'): void {
  const shape = actual.shape.slice();
  withValues(actual, (v) => {
    for (let i = 0; i < v.length; i++) {
      check(Number.isFinite(v[i]), () => `${label}: non-finite ${v[i]} at flat index ${i} of ${fmtShape(shape)}`);
    }
  });
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Checks that `fn` throws an instance of `cls` (a BpError subclass) whose
 * message contains every one of `parts` (the op name and the offending shapes).
 */
export function expectThrows(fn: () => unknown, cls: ErrorClass, parts: readonly string[], label?: string): void {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  const what = label ?? parts[0] ?? 'call';
  check(caught !== null, `${what}: expected ${cls.name} but nothing was thrown`);
  check(caught instanceof Error, `${what}: expected ${cls.name}, got a non-Error ${String(caught)}`);
  check(caught instanceof cls, `${what}: expected ${cls.name}, got ${(caught as Error).name}: ${(caught as Error).message}`);
  if (cls.prototype instanceof BpError || (cls as unknown) === BpError) {
    check(caught instanceof BpError, `${what}: ${(caught as Error).name} is not a BpError`);
  }
  const msg = (caught as Error).message;
  for (const p of parts) {
    check(msg.includes(p), `${what}: message ${JSON.stringify(msg)} does not mention ${JSON.stringify(p)}`);
  }
}
