/**
 * What every group of cases shares: tolerances, the quick flag, seeded input
 * generators and a gradcheck that throws a readable report.
 */
import { gradcheck } from '@bp/autograd';
import { fmtShape, manualSeed, randn, rand, randomPermutation, tensor, type Tensor } from '@bp/tensor';
import { ConformanceError, type Tolerance } from './assert.js';

/** One named check; `run` throws on failure. */
export interface ConformanceCase {
  group: string;
  name: string;
  run(): void | Promise<void>;
}

/** Settings the case builders read. */
export interface CaseContext {
  /** Forward-value tolerance. */
  tol: Tolerance;
  /** Fewer and smaller gradchecks, for slow backends. */
  quick: boolean;
}

/** Builds the cases of one group. */
export type CaseBuilder = (ctx: CaseContext) => ConformanceCase[];

/** A case builder bound to a group name, for terse case lists. */
export function group(name: string): (caseName: string, run: () => void | Promise<void>) => ConformanceCase {
  return (caseName, run) => ({ group: name, name: caseName, run });
}

/** Standard normal values of `shape`, reproducible from `seed`. */
export function normal(shape: number[], seed: number): Tensor {
  manualSeed(seed);
  return randn(shape);
}

/** Uniform values in `[lo, hi)` of `shape`, reproducible from `seed`. */
export function uniformIn(shape: number[], lo: number, hi: number, seed: number): Tensor {
  manualSeed(seed);
  return rand(shape)
    .mul(hi - lo)
    .add(lo);
}

/**
 * Normal values pushed at least `gap` away from zero, so finite differences
 * never straddle the kink of relu, abs or sign.
 */
export function awayFromZero(shape: number[], seed: number, gap = 0.2): Tensor {
  manualSeed(seed);
  const v = randn(shape).dataSync();
  for (let i = 0; i < v.length; i++) v[i] += v[i] >= 0 ? gap : -gap;
  return tensor(v, { shape });
}

/**
 * Distinct values `step` apart in random order, so max, min and pooling have a
 * unique winner that a finite-difference step cannot change.
 */
export function distinct(shape: number[], seed: number, step = 0.1): Tensor {
  manualSeed(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const p = randomPermutation(n);
  const v = new Float32Array(n);
  // Centred on a multiple of `step` whatever n is, so two calls offset by step/2 never tie.
  for (let i = 0; i < n; i++) v[i] = (p[i] - Math.floor(n / 2)) * step;
  return tensor(v, { shape });
}

/**
 * Runs autograd's gradcheck and throws the worst mismatch when it fails.
 * Tolerances widen with the forward tolerance: a central difference divides
 * the forward error by the step, so a backend accurate to `atol` can only
 * match finite differences to about `2 atol / eps`.
 */
export function expectGradcheck(
  ctx: CaseContext,
  fn: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  label: string,
  opts: { eps?: number; atol?: number; rtol?: number } = {},
): void {
  const eps = opts.eps ?? 1e-2;
  const report = gradcheck(fn, inputs, {
    eps,
    atol: Math.max(opts.atol ?? 2e-3, (2 * ctx.tol.atol) / eps),
    rtol: Math.max(opts.rtol ?? 1e-2, 10 * ctx.tol.rtol),
  });
  if (report.ok) return;
  const bad = report.inputs.find((r) => !r.ok)!;
  let worst = 0;
  let worstErr = -1;
  bad.analytic.forEach((a, i) => {
    const e = Math.abs(a - bad.numeric[i]);
    if (e > worstErr) {
      worstErr = e;
      worst = i;
    }
  });
  throw new ConformanceError(
    `${label}: gradcheck failed for input ${bad.index} ${fmtShape(bad.shape)}: at flat index ${worst} ` +
      `autograd gives ${bad.analytic[worst]}, finite differences ${bad.numeric[worst]} ` +
      `(max abs error ${report.maxAbsError.toExponential(2)})`,
  );
}
