import { ArgumentError, randomNormal, randomPermutation, tensor, type Tensor } from '@bp/tensor';
import { optionsOf } from './options.js';

/**
 * A supervised dataset as two tensors sharing their first axis: inputs `x`
 * and targets `y` (int32 class ids for classification, float32 for regression).
 */
export interface TensorPair {
  /** Inputs, `[N, ...]`. */
  x: Tensor;
  /** Targets, `[N, ...]`. */
  y: Tensor;
}

/** What {@link linearRegression} returns: the data and the true coefficients that generated it. */
export interface LinearRegressionData extends TensorPair {
  /** The true weights, one per feature. */
  weights: number[];
  /** The true intercept. */
  bias: number;
}

/** More points (or features) than any synthetic set needs; refused before allocating arrays that size. */
const MAX_COUNT = 2 ** 26;

function positiveInt(op: string, name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new ArgumentError(op, `${name} must be a positive integer, got ${String(v)}`);
  if (v > MAX_COUNT) throw new ArgumentError(op, `${name} must be at most ${MAX_COUNT}, got ${v}`);
  return v;
}

function nonNegative(op: string, name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ArgumentError(op, `${name} must be a finite number >= 0, got ${String(v)}`);
  }
  return v;
}

/** Most values (n * features) {@link linearRegression} allocates: 2^28 float32s, 1 GiB. */
const MAX_VALUES = 2 ** 28;

/** Evenly spaced values like NumPy's `linspace`, with or without the end point. */
function linspace(start: number, stop: number, n: number, endpoint = true): number[] {
  const div = endpoint ? n - 1 : n;
  const step = div > 0 ? (stop - start) / div : 0;
  return Array.from({ length: n }, (_, i) => start + i * step);
}

/**
 * Assembles a 2-d point set, adds Gaussian noise and optionally shuffles; the
 * noise is drawn before the permutation so `shuffle` does not change which
 * noise each point gets.
 */
function finishPoints(px: number[], py: number[], labels: number[], noise: number, shuffle: boolean): TensorPair {
  const n = labels.length;
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = px[i] + (noise > 0 ? noise * randomNormal() : 0);
    x[2 * i + 1] = py[i] + (noise > 0 ? noise * randomNormal() : 0);
  }
  const y = Int32Array.from(labels);
  if (shuffle) {
    const perm = randomPermutation(n);
    const xs = new Float32Array(2 * n);
    const ys = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      xs[2 * i] = x[2 * perm[i]];
      xs[2 * i + 1] = x[2 * perm[i] + 1];
      ys[i] = y[perm[i]];
    }
    return { x: tensor(xs, { shape: [n, 2] }), y: tensor(ys, { shape: [n], dtype: 'int32' }) };
  }
  return { x: tensor(x, { shape: [n, 2] }), y: tensor(y, { shape: [n], dtype: 'int32' }) };
}

/**
 * The XOR truth table, the smallest problem a linear model cannot solve:
 * `x` float32 `[4, 2]` = (0,0), (0,1), (1,0), (1,1) and `y` float32 `[4, 1]` = 0, 1, 1, 0
 * (float targets, ready for `mseLoss` or `bceLoss`).
 */
export function xor(): TensorPair {
  return {
    x: tensor([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]),
    y: tensor([[0], [1], [1], [0]]),
  };
}

/** Options for {@link spirals}. */
export interface SpiralsOptions {
  /** Total number of points, split evenly between classes (default 300). */
  n?: number;
  /** Number of interleaved arms, one class each (default 3). */
  classes?: number;
  /** Standard deviation of the Gaussian noise on each point's angle, in radians (default 0.2). */
  noise?: number;
  /** Shuffle the points (default true); otherwise they come class by class. */
  shuffle?: boolean;
}

/**
 * Interleaved spiral arms, the CS231n toy problem: arm `k` has radius growing
 * from 0 to 1 and angle from `4k` to `4(k+1)` radians plus noise.
 * Returns `x` float32 `[n, 2]` and `y` int32 `[n]`. Seeded by `manualSeed`.
 */
export function spirals(options?: SpiralsOptions | null): TensorPair {
  const op = 'spirals';
  const opts = optionsOf(op, options, ['n', 'classes', 'noise', 'shuffle']);
  const n = positiveInt(op, 'n', opts.n ?? 300);
  const classes = positiveInt(op, 'classes', opts.classes ?? 3);
  const noise = nonNegative(op, 'noise', opts.noise ?? 0.2);
  if (n < classes) throw new ArgumentError(op, `n (${n}) must be at least the number of classes (${classes})`);
  const px: number[] = [];
  const py: number[] = [];
  const labels: number[] = [];
  for (let k = 0; k < classes; k++) {
    const m = Math.floor(n / classes) + (k < n % classes ? 1 : 0);
    const r = linspace(0, 1, m);
    const t = linspace(4 * k, 4 * (k + 1), m);
    for (let i = 0; i < m; i++) {
      const angle = t[i] + (noise > 0 ? noise * randomNormal() : 0);
      px.push(r[i] * Math.sin(angle));
      py.push(r[i] * Math.cos(angle));
      labels.push(k);
    }
  }
  return finishPoints(px, py, labels, 0, opts.shuffle ?? true);
}

/** Options for {@link moons}. */
export interface MoonsOptions {
  /** Total number of points (default 200); the upper moon gets `floor(n/2)`. */
  n?: number;
  /** Standard deviation of the Gaussian noise added to each coordinate (default 0.1). */
  noise?: number;
  /** Shuffle the points (default true). */
  shuffle?: boolean;
}

/**
 * Two interleaving half circles, as scikit-learn's `make_moons`: class 0 on
 * the upper arc `(cos t, sin t)`, class 1 on `(1 - cos t, 0.5 - sin t)`, `t` in [0, pi].
 * Returns `x` float32 `[n, 2]` and `y` int32 `[n]`. Seeded by `manualSeed`.
 */
export function moons(options?: MoonsOptions | null): TensorPair {
  const op = 'moons';
  const opts = optionsOf(op, options, ['n', 'noise', 'shuffle']);
  const n = positiveInt(op, 'n', opts.n ?? 200);
  const noise = nonNegative(op, 'noise', opts.noise ?? 0.1);
  const nOut = Math.floor(n / 2);
  const nIn = n - nOut;
  const px: number[] = [];
  const py: number[] = [];
  const labels: number[] = [];
  for (const t of linspace(0, Math.PI, nOut)) {
    px.push(Math.cos(t));
    py.push(Math.sin(t));
    labels.push(0);
  }
  for (const t of linspace(0, Math.PI, nIn)) {
    px.push(1 - Math.cos(t));
    py.push(1 - Math.sin(t) - 0.5);
    labels.push(1);
  }
  return finishPoints(px, py, labels, noise, opts.shuffle ?? true);
}

/** Options for {@link circles}. */
export interface CirclesOptions {
  /** Total number of points (default 200); the outer circle gets `floor(n/2)`. */
  n?: number;
  /** Standard deviation of the Gaussian noise added to each coordinate (default 0.05). */
  noise?: number;
  /** Radius of the inner circle relative to the outer one, in [0, 1) (default 0.8, as scikit-learn). */
  factor?: number;
  /** Shuffle the points (default true). */
  shuffle?: boolean;
}

/**
 * A small circle inside a large one, as scikit-learn's `make_circles`: class 0
 * on the unit circle, class 1 on the circle of radius `factor`.
 * Returns `x` float32 `[n, 2]` and `y` int32 `[n]`. Seeded by `manualSeed`.
 */
export function circles(options?: CirclesOptions | null): TensorPair {
  const op = 'circles';
  const opts = optionsOf(op, options, ['n', 'noise', 'factor', 'shuffle']);
  const n = positiveInt(op, 'n', opts.n ?? 200);
  const noise = nonNegative(op, 'noise', opts.noise ?? 0.05);
  const factor = opts.factor ?? 0.8;
  if (typeof factor !== 'number' || !(factor >= 0 && factor < 1)) {
    throw new ArgumentError(op, `factor must be in [0, 1), got ${String(factor)}`);
  }
  const nOut = Math.floor(n / 2);
  const nIn = n - nOut;
  const px: number[] = [];
  const py: number[] = [];
  const labels: number[] = [];
  for (const t of linspace(0, 2 * Math.PI, nOut, false)) {
    px.push(Math.cos(t));
    py.push(Math.sin(t));
    labels.push(0);
  }
  for (const t of linspace(0, 2 * Math.PI, nIn, false)) {
    px.push(factor * Math.cos(t));
    py.push(factor * Math.sin(t));
    labels.push(1);
  }
  return finishPoints(px, py, labels, noise, opts.shuffle ?? true);
}

/** Options for {@link linearRegression}. */
export interface LinearRegressionOptions {
  /** Number of examples (default 100). */
  n?: number;
  /** Number of input features (default 1). */
  features?: number;
  /** Standard deviation of the Gaussian noise added to each target (default 0.1). */
  noise?: number;
  /** The true weights, one per feature (default: drawn from a standard normal). */
  weights?: number[];
  /** The true intercept (default 0). */
  bias?: number;
}

/**
 * Data from a known linear model: `x` float32 `[n, features]` standard normal,
 * `y` float32 `[n, 1]` = `x @ weights + bias + noise`. The true `weights` and
 * `bias` come back too, so a fitted model can be checked against them.
 * Seeded by `manualSeed` (weights, then inputs, then noise).
 */
export function linearRegression(options?: LinearRegressionOptions | null): LinearRegressionData {
  const op = 'linearRegression';
  const opts = optionsOf(op, options, ['n', 'features', 'noise', 'weights', 'bias']);
  const n = positiveInt(op, 'n', opts.n ?? 100);
  const features = positiveInt(op, 'features', opts.features ?? opts.weights?.length ?? 1);
  if (n * features > MAX_VALUES) {
    throw new ArgumentError(op, `n * features must be at most ${MAX_VALUES} values, got ${n} * ${features} = ${n * features}`);
  }
  const noise = nonNegative(op, 'noise', opts.noise ?? 0.1);
  const bias = opts.bias ?? 0;
  if (typeof bias !== 'number' || !Number.isFinite(bias)) throw new ArgumentError(op, `bias must be a finite number, got ${String(bias)}`);
  let weights: number[];
  if (opts.weights !== undefined) {
    if (!Array.isArray(opts.weights) || opts.weights.length !== features || opts.weights.some((w) => !Number.isFinite(w))) {
      throw new ArgumentError(op, `weights must be ${features} finite numbers (one per feature), got ${JSON.stringify(opts.weights)}`);
    }
    weights = opts.weights.slice();
  } else {
    weights = Array.from({ length: features }, () => randomNormal());
  }
  const x = new Float32Array(n * features);
  for (let i = 0; i < x.length; i++) x[i] = randomNormal();
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = bias;
    for (let j = 0; j < features; j++) s += x[i * features + j] * weights[j];
    y[i] = s + (noise > 0 ? noise * randomNormal() : 0);
  }
  return { x: tensor(x, { shape: [n, features] }), y: tensor(y, { shape: [n, 1] }), weights, bias };
}
