/**
 * What every group of cases shares: tolerances, the quick flag, seeded input
 * generators and a gradcheck that throws a readable report.
 */
import { gradcheck } from '@bp/autograd';
import { concat, fmtShape, manualSeed, randn, rand, randomPermutation, setGradEnabled, tensor, where, type Tensor } from '@bp/tensor';
import { ConformanceError, defer, readsSync, type Tolerance } from './assert.js';

/** One named check; `run` throws on failure. */
export interface ConformanceCase {
  group: string;
  name: string;
  run(): void | Promise<void>;
  /**
   * Set on a case that needs values read synchronously (a bad-input case whose error comes
   * from a debug value check): why. Runners skip it, with this reason, on a backend with
   * `syncRead: false`, where such checks cannot run.
   */
  needsSyncRead?: string;
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
  // On the device, with no read: asynchronous backends cannot read here.
  const v = randn(shape);
  return v.add(where(v.ge(0), gap, -gap));
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
  const tols = {
    eps,
    atol: Math.max(opts.atol ?? 2e-3, (2 * ctx.tol.atol) / eps),
    rtol: Math.max(opts.rtol ?? 1e-2, 10 * ctx.tol.rtol),
  };
  if (!readsSync()) {
    defer(deferredGradcheck(fn, inputs, tols).then((report) => throwIfBad(report, label)));
    return;
  }
  throwIfBad(gradcheck(fn, inputs, tols), label);
}

/** The per-input outcome a gradcheck reports (as autograd's `gradcheck` does). */
interface CheckReport {
  ok: boolean;
  maxAbsError: number;
  inputs: { index: number; shape: number[]; analytic: number[]; numeric: number[]; ok: boolean }[];
}

/** The fixed projection autograd's gradcheck uses, so both paths check the same direction. */
function projection(n: number): Float32Array {
  const w = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    w[i] = 0.5 + (s >>> 8) / (1 << 24);
  }
  return w;
}

/**
 * autograd's gradcheck for backends that read only asynchronously: every forward
 * evaluation is issued now, with no read in between (inputs perturbed on the device), and
 * the outputs and gradients are read once, together; the differences are then summed in
 * float64 on the host, as `gradcheck` does.
 */
async function deferredGradcheck(
  fn: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  tol: { eps: number; atol: number; rtol: number },
): Promise<CheckReport> {
  const { eps, atol, rtol } = tol;
  const xs = inputs.map((x) => {
    const c = x.detach().clone();
    c.requiresGrad = x.dtype === 'float32';
    return c;
  });
  const prev = setGradEnabled(true);
  let w: Float32Array;
  const outs: Tensor[] = [];
  const checked: number[] = [];
  try {
    const out = fn(...xs);
    w = projection(out.size);
    const proj = out.mul(tensor(w, { shape: out.shape.slice() })).sum();
    if (proj.requiresGrad) proj.backward();
    setGradEnabled(false);
    inputs.forEach((x, k) => {
      if (x.dtype !== 'float32') return;
      checked.push(k);
      for (let i = 0; i < x.size; i++) {
        for (const step of [eps, -eps]) {
          const delta = new Float32Array(x.size);
          delta[i] = step;
          const moved = inputs.map((y, j) => (j === k ? y.add(tensor(delta, { shape: y.shape.slice() })) : y));
          outs.push(fn(...moved).reshape([-1]));
        }
      }
    });
  } finally {
    setGradEnabled(prev);
  }
  const all = outs.length === 0 ? null : concat(outs, 0);
  const grads = checked.map((k) => xs[k].grad);
  const [values, ...gradValues] = await Promise.all([
    all ? all.data() : Promise.resolve(new Float32Array(0)),
    ...grads.map((g) => g?.data()),
  ]);
  const n = w.length;
  const loss = (e: number): number => {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[e * n + i] * w[i];
    return s;
  };
  const report: CheckReport = { ok: true, maxAbsError: 0, inputs: [] };
  let e = 0;
  checked.forEach((k, c) => {
    const x = inputs[k];
    const analytic = Array.from(gradValues[c] ?? new Float32Array(x.size));
    const numeric: number[] = [];
    let ok = true;
    for (let i = 0; i < x.size; i++, e += 2) {
      numeric.push((loss(e) - loss(e + 1)) / (2 * eps));
      const d = Math.abs(analytic[i] - numeric[i]);
      report.maxAbsError = Math.max(report.maxAbsError, d);
      if (!(d <= atol + rtol * Math.abs(numeric[i]))) ok = false;
    }
    report.inputs.push({ index: k, shape: x.shape.slice(), analytic, numeric, ok });
    if (!ok) report.ok = false;
  });
  return report;
}

function throwIfBad(report: CheckReport, label: string): void {
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
