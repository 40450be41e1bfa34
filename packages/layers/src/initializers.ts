import { withoutGraph } from './no-grad.js';
import { ArgumentError, ShapeError, Tensor, fmtShape, randn, randomNormal, tensor, uniform as uniformTensor } from '@bp/tensor';

/**
 * PyTorch's `torch.nn.init`: functions that fill an existing tensor in place
 * (keeping its identity, so a module's parameter stays registered) and return
 * it. Every draw comes from the generator seeded by `manualSeed`.
 *
 * @example
 * import { init } from '@bp/layers';
 * init.kaimingNormal(layer.weight, { nonlinearity: 'relu' });
 * init.zeros(layer.bias!);
 *
 * @packageDocumentation
 */

/** Nonlinearity names of {@link calculateGain} (PyTorch's strings). */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

/** Which fan a Kaiming initialiser preserves: the forward pass (`fanIn`) or the backward pass (`fanOut`). */
export type FanMode = 'fanIn' | 'fanOut' | 'fan_in' | 'fan_out';

/** Options of {@link kaimingUniform} and {@link kaimingNormal} (PyTorch's defaults). */
export interface KaimingOptions {
  /** The negative slope of the leaky ReLU that follows (default 0). */
  a?: number;
  /** `fanIn` (default) or `fanOut`. */
  mode?: FanMode;
  /** Default `leaky_relu` (with `a = 0`, the same gain as `relu`). */
  nonlinearity?: Nonlinearity;
}

const LINEAR_LIKE = new Set([
  'linear',
  'conv1d',
  'conv2d',
  'conv3d',
  'conv_transpose1d',
  'conv_transpose2d',
  'conv_transpose3d',
  'sigmoid',
]);

/**
 * The recommended gain for a nonlinearity (PyTorch's `calculate_gain`): 1 for
 * linear layers and sigmoid, 5/3 for tanh, sqrt(2) for relu,
 * sqrt(2 / (1 + param^2)) for leaky_relu (param defaults to 0.01), 3/4 for selu.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number | null): number {
  if (LINEAR_LIKE.has(nonlinearity)) return 1;
  if (nonlinearity === 'tanh') return 5 / 3;
  if (nonlinearity === 'relu') return Math.SQRT2;
  if (nonlinearity === 'selu') return 3 / 4;
  if (nonlinearity === 'leaky_relu') {
    const slope = param ?? 0.01;
    if (typeof slope !== 'number' || !Number.isFinite(slope)) {
      throw new ArgumentError('calculateGain', `negative slope ${String(param)} is not a valid number`);
    }
    return Math.sqrt(2 / (1 + slope * slope));
  }
  throw new ArgumentError('calculateGain', `unsupported nonlinearity ${JSON.stringify(nonlinearity)}`);
}

function checkFloat(op: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new ArgumentError(op, `expected a Tensor to fill, got ${t === null ? 'null' : typeof t}`);
  if (t.dtype !== 'float32') throw new ArgumentError(op, `can only fill float32 tensors, got ${t.dtype} ${fmtShape(t.shape)}`);
}

function fill(t: Tensor, value: Tensor): Tensor {
  withoutGraph(() => t.assign(value));
  return t;
}

/**
 * `[fanIn, fanOut]` of a weight as PyTorch computes them: for `[out, in, ...kernel]`,
 * `in * prod(kernel)` and `out * prod(kernel)`. Needs at least 2 dimensions.
 */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  if (!(t instanceof Tensor)) throw new ArgumentError('calculateFanInAndFanOut', 'expected a Tensor');
  if (t.rank < 2) {
    throw new ShapeError(
      'calculateFanInAndFanOut',
      `fan in and fan out can not be computed for a tensor with fewer than 2 dimensions, got ${fmtShape(t.shape)}`,
    );
  }
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1] * receptive, t.shape[0] * receptive];
}

function fan(op: string, t: Tensor, mode: FanMode): number {
  if (mode !== 'fanIn' && mode !== 'fanOut' && mode !== 'fan_in' && mode !== 'fan_out') {
    throw new ArgumentError(op, `mode must be 'fanIn' or 'fanOut', got ${JSON.stringify(mode)}`);
  }
  if (t.rank < 2)
    throw new ShapeError(op, `fan in and fan out can not be computed for a tensor with fewer than 2 dimensions, got ${fmtShape(t.shape)}`);
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const f = mode === 'fanIn' || mode === 'fan_in' ? fanIn : fanOut;
  if (f === 0) throw new ShapeError(op, `cannot initialise an empty tensor ${fmtShape(t.shape)}`);
  return f;
}

/** Fills `t` from U(a, b) (default U(0, 1)). */
export function uniform(t: Tensor, a = 0, b = 1): Tensor {
  checkFloat('init.uniform', t);
  if (!(Number.isFinite(a) && Number.isFinite(b) && a <= b))
    throw new ArgumentError('init.uniform', `needs finite a <= b, got a=${a}, b=${b}`);
  return fill(t, uniformTensor(t.shape, a, b));
}

/** Fills `t` from N(mean, std^2) (default N(0, 1)). */
export function normal(t: Tensor, mean = 0, std = 1): Tensor {
  checkFloat('init.normal', t);
  if (!(Number.isFinite(mean) && Number.isFinite(std) && std >= 0))
    throw new ArgumentError('init.normal', `needs a finite mean and std >= 0, got mean=${mean}, std=${std}`);
  return fill(t, randn(t.shape).mul(std).add(mean));
}

/** Fills `t` with `value`. */
export function constant(t: Tensor, value: number): Tensor {
  checkFloat('init.constant', t);
  if (typeof value !== 'number') throw new ArgumentError('init.constant', `value must be a number, got ${typeof value}`);
  return fill(t, tensor(new Float32Array(t.size).fill(value), { shape: t.shape }));
}

/** Fills `t` with zeros. */
export function zeros(t: Tensor): Tensor {
  checkFloat('init.zeros', t);
  return constant(t, 0);
}

/** Fills `t` with ones. */
export function ones(t: Tensor): Tensor {
  checkFloat('init.ones', t);
  return constant(t, 1);
}

/** Xavier/Glorot uniform: U(-b, b) with `b = gain * sqrt(6 / (fanIn + fanOut))`. */
export function xavierUniform(t: Tensor, gain = 1): Tensor {
  checkFloat('init.xavierUniform', t);
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return fill(t, uniformTensor(t.shape, -bound, bound));
}

/** Xavier/Glorot normal: N(0, std^2) with `std = gain * sqrt(2 / (fanIn + fanOut))`. */
export function xavierNormal(t: Tensor, gain = 1): Tensor {
  checkFloat('init.xavierNormal', t);
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const std = gain * Math.sqrt(2 / (fanIn + fanOut));
  return fill(t, randn(t.shape).mul(std));
}

function kaimingStd(op: string, t: Tensor, opts: KaimingOptions): number {
  const { a = 0, mode = 'fanIn', nonlinearity = 'leaky_relu' } = opts ?? {};
  const f = fan(op, t, mode);
  return calculateGain(nonlinearity, a) / Math.sqrt(f);
}

/**
 * He/Kaiming uniform: U(-b, b) with `b = gain * sqrt(3 / fan)`, the gain from
 * {@link calculateGain}(nonlinearity, a). `nn.Linear`'s default init is
 * `kaimingUniform(w, { a: Math.sqrt(5) })`.
 */
export function kaimingUniform(t: Tensor, opts: KaimingOptions = {}): Tensor {
  checkFloat('init.kaimingUniform', t);
  const bound = Math.sqrt(3) * kaimingStd('init.kaimingUniform', t, opts);
  return fill(t, uniformTensor(t.shape, -bound, bound));
}

/** He/Kaiming normal: N(0, std^2) with `std = gain / sqrt(fan)`. */
export function kaimingNormal(t: Tensor, opts: KaimingOptions = {}): Tensor {
  checkFloat('init.kaimingNormal', t);
  const std = kaimingStd('init.kaimingNormal', t, opts);
  return fill(t, randn(t.shape).mul(std));
}

/**
 * A (semi-)orthogonal matrix times `gain` (PyTorch's `orthogonal_`): `t` is
 * viewed as `[shape[0], rest]`; a normal matrix is QR-factorised (in float64)
 * and Q's columns take the signs of R's diagonal, so the result is uniform
 * over orthogonal matrices. Rows are orthonormal when there are fewer rows
 * than columns, columns otherwise.
 */
export function orthogonal(t: Tensor, gain = 1): Tensor {
  checkFloat('init.orthogonal', t);
  if (t.rank < 2) throw new ShapeError('init.orthogonal', `only tensors with 2 or more dimensions are supported, got ${fmtShape(t.shape)}`);
  const rows = t.shape[0];
  const cols = t.size / rows;
  // Draw [rows, cols] as PyTorch does, factorise the tall orientation.
  const draw = Float64Array.from({ length: rows * cols }, () => randomNormal());
  const tall = rows >= cols;
  const m = tall ? rows : cols;
  const n = tall ? cols : rows;
  // a: m x n, column-major for the Householder sweep.
  const a = new Float64Array(m * n);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      if (tall) a[j * m + i] = draw[i * cols + j];
      else a[i * m + j] = draw[i * cols + j];
    }
  const q = householderQ(a, m, n);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      out[i * cols + j] = gain * (tall ? q[j * m + i] : q[i * m + j]);
    }
  return fill(t, tensor(out, { shape: t.shape }));
}

/**
 * Q of the thin QR factorisation of the column-major m x n matrix `a` (m >= n),
 * with each column multiplied by the sign of R's diagonal entry (so R's diagonal is positive).
 */
function householderQ(a: Float64Array, m: number, n: number): Float64Array {
  const vs: Float64Array[] = [];
  const rdiag = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += a[k * m + i] ** 2;
    norm = Math.sqrt(norm);
    const x0 = a[k * m + k];
    const alpha = x0 >= 0 ? -norm : norm;
    const v = new Float64Array(m);
    for (let i = k; i < m; i++) v[i] = a[k * m + i];
    v[k] -= alpha;
    let vn = 0;
    for (let i = k; i < m; i++) vn += v[i] * v[i];
    if (vn > 0) {
      for (let j = k; j < n; j++) {
        let dot = 0;
        for (let i = k; i < m; i++) dot += v[i] * a[j * m + i];
        const f = (2 * dot) / vn;
        for (let i = k; i < m; i++) a[j * m + i] -= f * v[i];
      }
    }
    rdiag[k] = a[k * m + k];
    vs.push(vn > 0 ? v.map((x) => x / Math.sqrt(vn)) : v);
  }
  // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the identity.
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) q[j * m + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k];
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i] * q[j * m + i];
      for (let i = k; i < m; i++) q[j * m + i] -= 2 * dot * v[i];
    }
  }
  for (let j = 0; j < n; j++) {
    if (rdiag[j] < 0) for (let i = 0; i < m; i++) q[j * m + i] = -q[j * m + i];
  }
  return q;
}
