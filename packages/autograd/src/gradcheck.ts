import { ArgumentError, Tensor, setGradEnabled, tensor } from '@bp/tensor';
import { checkFn } from './functional.js';
import { backwardTo } from './tape.js';

/** Options of {@link gradcheck}. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-2: float32 needs a large one). */
  eps?: number;
  /** Absolute tolerance (default 1e-3). */
  atol?: number;
  /** Relative tolerance (default 1e-2). */
  rtol?: number;
}

/** Per-input comparison in a {@link GradcheckReport}. */
export interface GradcheckInput {
  /** Which input (its position in the inputs given). */
  index: number;
  shape: number[];
  /** The gradient backward() computed, flattened. */
  analytic: number[];
  /** The central-difference estimate, flattened. */
  numeric: number[];
  /** The largest `|analytic - numeric|`. */
  maxAbsError: number;
  /** The largest `|analytic - numeric| / |numeric|` among the values whose absolute error is above `atol` (0 when none is). */
  maxRelError: number;
  /** Whether every value is within `atol + rtol * |numeric|`. */
  ok: boolean;
}

/** What {@link gradcheck} found. */
export interface GradcheckReport {
  /** Whether every input passed. */
  ok: boolean;
  /** The largest absolute error over all inputs. */
  maxAbsError: number;
  /** The largest relative error over all inputs, counted only where the absolute error is above `atol` (0 when it never is). */
  maxRelError: number;
  inputs: GradcheckInput[];
}

/**
 * A fixed projection so non-scalar outputs are checked in every direction: weights in [0.5, 1.5).
 * A one-element output is taken as it is (weight 1), so the report shows its true gradient.
 */
function projection(n: number): Float32Array {
  const w = new Float32Array(n);
  if (n === 1) return w.fill(1);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    w[i] = 0.5 + (s >>> 8) / (1 << 24);
  }
  return w;
}

/**
 * Compares autograd's gradients of `fn` with central finite differences at
 * `inputs` (float32 tensors). A one-element output is differentiated as it is (the
 * report's `analytic` and `numeric` are its gradient); a larger output is reduced as
 * `sum(out * w)` with fixed weights `w` in [0.5, 1.5), which the reported values include.
 * Returns a report; never throws on a mismatch, so tests can print it.
 *
 * bp computes in float32, where PyTorch's gradcheck insists on float64: a difference
 * quotient can only resolve what float32 rounding leaves of `fn`'s change over `eps`. Keep
 * the outputs moderate (about 1e3 and below at the default `eps` of 1e-2), or raise `eps`
 * and `rtol` for large ones; a failure there can be the finite differences, not the gradient.
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): GradcheckReport {
  checkFn('gradcheck', fn);
  if (opts === null || typeof opts !== 'object') throw new ArgumentError('gradcheck', `options must be an object, got ${typeof opts}`);
  const eps = opts.eps ?? 1e-2;
  const atol = opts.atol ?? 1e-3;
  const rtol = opts.rtol ?? 1e-2;
  // A check that cannot fail (eps <= 0, infinite tolerances) or that reads a string as a number is refused.
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) {
    throw new ArgumentError('gradcheck', `eps must be a finite number > 0, got ${JSON.stringify(opts.eps)}`);
  }
  for (const [name, v] of [
    ['atol', atol],
    ['rtol', rtol],
  ] as const) {
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) {
      throw new ArgumentError('gradcheck', `${name} must be a finite number >= 0, got ${JSON.stringify(opts[name])}`);
    }
  }
  if (!Array.isArray(inputs) || inputs.some((x) => !(x instanceof Tensor))) {
    throw new ArgumentError('gradcheck', 'inputs must be an array of Tensors');
  }
  if (!inputs.some((x) => x.dtype === 'float32')) {
    throw new ArgumentError(
      'gradcheck',
      `needs at least one float32 input to differentiate, got ${inputs.length === 0 ? 'none' : inputs.map((x) => x.dtype).join(', ')}`,
    );
  }
  const values = inputs.map((x) => Float64Array.from(x.dataSync()));
  const shapes = inputs.map((x) => x.shape.slice());
  let w: Float32Array | null = null;
  const evaluate = (vals: Float64Array[], withGrad: boolean): { loss: number; grads?: (Tensor | null)[] } => {
    const xs = vals.map((v, i) => tensor(Float32Array.from(v), { shape: shapes[i], dtype: inputs[i].dtype }));
    if (withGrad) xs.forEach((x, i) => (x.requiresGrad = inputs[i].dtype === 'float32'));
    const prev = setGradEnabled(withGrad);
    try {
      const out = fn(...xs);
      if (!(out instanceof Tensor))
        throw new ArgumentError('gradcheck', `the function must return a Tensor, got ${out === null ? 'null' : typeof out}`);
      w ??= projection(out.size);
      const proj = out.mul(tensor(w, { shape: out.shape.slice() })).sum();
      if (withGrad) {
        // Toward the inputs only: tensors fn closes over keep their .grad.
        if (proj.requiresGrad)
          backwardTo(
            proj,
            xs.filter((x) => x.requiresGrad),
          );
        return { loss: proj.item(), grads: xs.map((x) => x.grad) };
      }
      // Recompute in float64 from the float32 outputs to limit rounding in the difference.
      const o = out.dataSync();
      let s = 0;
      for (let i = 0; i < o.length; i++) s += o[i] * w[i];
      return { loss: s };
    } finally {
      setGradEnabled(prev);
    }
  };
  const { grads } = evaluate(values, true);
  const report: GradcheckReport = { ok: true, maxAbsError: 0, maxRelError: 0, inputs: [] };
  inputs.forEach((x, k) => {
    if (x.dtype !== 'float32') return;
    const analytic = Array.from(grads?.[k]?.dataSync() ?? new Float32Array(x.size));
    const numeric: number[] = [];
    for (let i = 0; i < x.size; i++) {
      const orig = values[k][i];
      values[k][i] = orig + eps;
      const up = evaluate(values, false).loss;
      values[k][i] = orig - eps;
      const down = evaluate(values, false).loss;
      values[k][i] = orig;
      numeric.push((up - down) / (2 * eps));
    }
    let maxAbs = 0;
    let maxRel = 0;
    let ok = true;
    for (let i = 0; i < numeric.length; i++) {
      const d = Math.abs(analytic[i] - numeric[i]);
      const rel = d / Math.max(Math.abs(numeric[i]), 1e-12);
      maxAbs = Math.max(maxAbs, d);
      if (d > atol) maxRel = Math.max(maxRel, rel);
      if (!(d <= atol + rtol * Math.abs(numeric[i]))) ok = false;
    }
    report.inputs.push({ index: k, shape: x.shape.slice(), analytic, numeric, maxAbsError: maxAbs, maxRelError: maxRel, ok });
    report.ok &&= ok;
    report.maxAbsError = Math.max(report.maxAbsError, maxAbs);
    report.maxRelError = Math.max(report.maxRelError, maxRel);
  });
  return report;
}
