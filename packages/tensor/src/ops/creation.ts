import { getBackend } from '../backend/registry.js';
import { arrayFor, isDType, type DType, type TypedArray } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../errors.js';
import { random, randomNormal } from '../random.js';
import { sizeOf } from '../shape.js';
import { Tensor, type NestedData } from '../tensor.js';
import { checkInt32Scalar, make } from './util.js';

/** Options for {@link tensor} and the creation functions. */
export interface TensorOptions {
  /** Element type; `float32` unless the data is an Int32Array. */
  dtype?: DType;
  /** Whether gradients flow to this tensor (float32 only). */
  requiresGrad?: boolean;
  /** Shape of flat or typed-array data; defaults to its length. */
  shape?: number[];
}

/** Options of {@link tensor}: those of every creator, and whether a typed array is copied. */
export interface TensorDataOptions extends TensorOptions {
  /**
   * `false` hands a Float32Array or Int32Array of the tensor's dtype over to the tensor: the CPU
   * backend then uses the array itself as the tensor's storage (as `torch.from_numpy` shares
   * memory), so a 188 MB dataset is not held twice while it is loaded. Do not write to the array
   * afterwards. Other backends, and other data, are copied whatever this says. Default `true`.
   */
  copy?: boolean;
}

/** The most elements a typed array can hold: larger shapes are refused before allocating. */
/** The most elements a tensor can hold. */
export const MAX_ELEMENTS = 2 ** 32;

function checkShape(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(op, `shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const size = shape.reduce((p: number, d: number) => p * d, 1);
  if (size > MAX_ELEMENTS) {
    throw new ShapeError(op, `shape ${JSON.stringify(shape)} has ${size} elements, more than the ${MAX_ELEMENTS} a tensor can hold`);
  }
  return shape.slice();
}

function checkDType(op: string, dtype: unknown): DType {
  if (dtype === undefined) return 'float32';
  if (!isDType(dtype)) throw new DTypeError(op, `unknown dtype ${JSON.stringify(dtype)}; use 'float32' or 'int32'`);
  return dtype;
}

function finish(t: Tensor, opts?: TensorOptions): Tensor {
  if (opts?.requiresGrad) t.requiresGrad = true;
  return t;
}

/** How many of the values met so far were booleans and how many were numbers (typed arrays count as numbers). */
interface Leaves {
  bools: number;
  numbers: number;
}

/** The deepest nesting of arrays {@link tensor} reads (NumPy's limit on dimensions): deeper data would overflow the call stack. */
const MAX_NESTING = 64;

/** Infers the shape of nested arrays, rejecting ragged or non-numeric data, and counts their leaves into `leaves`. */
function inferShape(data: unknown, path: string, leaves: Leaves, depth = 0): number[] {
  if (typeof data === 'number') {
    leaves.numbers++;
    return [];
  }
  if (typeof data === 'boolean') {
    leaves.bools++;
    return [];
  }
  if (Array.isArray(data)) {
    if (depth >= MAX_NESTING) {
      throw new ShapeError(
        'tensor',
        `nested arrays deeper than ${MAX_NESTING} levels (at ${path}); a tensor has at most ${MAX_NESTING} dimensions`,
      );
    }
    if (data.length === 0) return [0];
    const inner = inferShape(data[0], `${path}[0]`, leaves, depth + 1);
    for (let i = 1; i < data.length; i++) {
      const s = inferShape(data[i], `${path}[${i}]`, leaves, depth + 1);
      if (s.length !== inner.length || s.some((d, j) => d !== inner[j])) {
        throw new ShapeError(
          'tensor',
          `ragged nested array: ${path}[0] has shape ${fmtShape(inner)} but ${path}[${i}] has shape ${fmtShape(s)}`,
        );
      }
    }
    return [data.length, ...inner];
  }
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
      throw new DTypeError(
        'tensor',
        `a ${data.constructor.name} at ${path || 'the top level'} holds BigInt values, which a float32 or int32 tensor cannot take; convert it first (Float64Array.from(a, Number) or Int32Array.from(a, Number))`,
      );
    }
    leaves.numbers++;
    return [(data as unknown as ArrayLike<number>).length];
  }
  throw new ArgumentError(
    'tensor',
    `expected numbers or booleans, got ${data === null ? 'null' : typeof data} at ${path || 'the top level'}`,
  );
}

/** Refuses a value an int32 tensor cannot hold (NaN, ±Infinity, beyond ±2^31) instead of letting it wrap; fractions truncate toward zero. */
function checkInt32(v: number, i: number): void {
  if (!(v > -2147483649 && v < 2147483648)) {
    throw new DTypeError('tensor', `value ${v} at index ${i} does not fit in int32 (-2147483648 .. 2147483647); use float32 for it`);
  }
}

function fill(out: TypedArray, data: unknown, offset: { i: number }): void {
  const int32 = out instanceof Int32Array;
  if (typeof data === 'number') {
    if (int32) checkInt32(data, offset.i);
    out[offset.i++] = data;
    return;
  }
  if (typeof data === 'boolean') {
    out[offset.i++] = data ? 1 : 0;
    return;
  }
  if (ArrayBuffer.isView(data)) {
    const arr = data as unknown as ArrayLike<number>;
    const fits =
      data instanceof Int8Array ||
      data instanceof Uint8Array ||
      data instanceof Uint8ClampedArray ||
      data instanceof Int16Array ||
      data instanceof Uint16Array;
    if (int32 && !fits) {
      for (let j = 0; j < arr.length; j++) {
        checkInt32(arr[j], offset.i);
        out[offset.i++] = arr[j];
      }
      return;
    }
    for (let j = 0; j < arr.length; j++) out[offset.i++] = arr[j];
    return;
  }
  for (const d of data as unknown[]) fill(out, d, offset);
}

/**
 * Makes a tensor from a number, nested arrays of numbers, or a typed array
 * (with `opts.shape`). The values are copied. Booleans count as 1 and 0, and data that is all
 * booleans makes an int32 tensor unless `opts.dtype` says otherwise (a mask, as comparisons give).
 *
 * @example
 * const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 */
export function tensor(data: NestedData | TypedArray | ArrayLike<number> | Tensor, opts: TensorDataOptions = {}): Tensor {
  const given: unknown = opts;
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new ArgumentError(
      'tensor',
      `options must be an object such as { dtype: 'int32' }, got ${given === null ? 'null' : Array.isArray(given) ? 'an array' : typeof given}`,
    );
  }
  if (data instanceof Tensor) {
    const dtype = opts.dtype ?? data.dtype;
    return tensor(data.dataSync(), { ...opts, dtype, shape: opts.shape ?? data.shape });
  }
  const leaves: Leaves = { bools: 0, numbers: 0 };
  const inferred = inferShape(data, '', leaves);
  const allBools = leaves.bools > 0 && leaves.numbers === 0;
  const dtype =
    opts.dtype === undefined ? (data instanceof Int32Array || allBools ? 'int32' : 'float32') : checkDType('tensor', opts.dtype);
  let shape = inferred;
  if (opts.shape) {
    shape = checkShape('tensor', opts.shape);
    const n = sizeOf(inferred);
    if (sizeOf(shape) !== n) {
      throw new ShapeError('tensor', `data has ${n} values but shape ${fmtShape(shape)} needs ${sizeOf(shape)}`);
    }
  }
  // A typed array of the right dtype goes straight to `upload`, which copies it
  // anyway: an intermediate copy would briefly double the memory of a dataset.
  const sameType = (data instanceof Float32Array && dtype === 'float32') || (data instanceof Int32Array && dtype === 'int32');
  let values: TypedArray;
  if (sameType) values = data;
  else {
    values = arrayFor(dtype, sizeOf(shape));
    fill(values, data, { i: 0 });
  }
  if (opts.copy !== undefined && typeof opts.copy !== 'boolean') {
    throw new ArgumentError('tensor', `copy must be a boolean, got ${typeof opts.copy}`);
  }
  const b = getBackend();
  return finish(make(b.upload(values, dtype, sameType && opts.copy === false), shape, dtype), opts);
}

/** A 0-d tensor holding `value`. */
export function scalar(value: number, opts: TensorOptions = {}): Tensor {
  return tensor(value, opts);
}

/** `full` under the name of the creator the user called, so errors name it. */
function fillAs(op: string, shape: number[], value: number, opts: TensorOptions): Tensor {
  const s = checkShape(op, shape);
  const dtype = checkDType(op, opts.dtype);
  if (typeof value !== 'number') throw new ArgumentError(op, `value must be a number, got ${typeof value}`);
  if (dtype === 'int32') checkInt32Scalar(op, 'value', value);
  const b = getBackend();
  return finish(make(b.fill(sizeOf(s), value, dtype), s, dtype), opts);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: number[], value: number, opts: TensorOptions = {}): Tensor {
  return fillAs('full', shape, value, opts);
}

/** A tensor of zeros. */
export function zeros(shape: number[], opts: TensorOptions = {}): Tensor {
  return fillAs('zeros', shape, 0, opts);
}

/** A tensor of ones. */
export function ones(shape: number[], opts: TensorOptions = {}): Tensor {
  return fillAs('ones', shape, 1, opts);
}

/** Zeros with the shape and dtype of `t`. */
export function zerosLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return fillAs('zerosLike', t.shape, 0, { dtype: t.dtype, ...opts });
}

/** Ones with the shape and dtype of `t`. */
export function onesLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return fillAs('onesLike', t.shape, 1, { dtype: t.dtype, ...opts });
}

function fromFn(op: string, shape: number[], f: () => number, opts: TensorOptions): Tensor {
  const s = checkShape(op, shape);
  // Random floats have no int32 form (PyTorch refuses it too): randint draws integers.
  if (opts?.dtype !== undefined && opts.dtype !== 'float32') {
    throw new DTypeError(op, `draws float32 values, got dtype ${JSON.stringify(opts.dtype)}; use randint for int32`);
  }
  const n = sizeOf(s);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = f();
  const b = getBackend();
  return finish(make(b.upload(v, 'float32'), s, 'float32'), opts);
}

/** Uniform random values in [0, 1), drawn from the generator seeded by `manualSeed`. */
export function rand(shape: number[], opts: TensorOptions = {}): Tensor {
  return fromFn('rand', shape, random, opts);
}

/** Standard normal random values, drawn from the generator seeded by `manualSeed`. */
export function randn(shape: number[], opts: TensorOptions = {}): Tensor {
  return fromFn('randn', shape, randomNormal, opts);
}

/** Uniform random values in [low, high). */
export function uniform(shape: number[], low: number, high: number, opts: TensorOptions = {}): Tensor {
  if (!(high >= low)) throw new ArgumentError('uniform', `high (${high}) must be >= low (${low})`);
  return fromFn('uniform', shape, () => low + (high - low) * random(), opts);
}

/** Random integers in [low, high) as int32. */
export function randint(low: number, high: number, shape: number[]): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new ArgumentError('randint', `need integers low < high, got ${low}, ${high}`);
  }
  const s = checkShape('randint', shape);
  const v = new Int32Array(sizeOf(s));
  for (let i = 0; i < v.length; i++) v[i] = low + Math.floor(random() * (high - low));
  const b = getBackend();
  return make(b.upload(v, 'int32'), s, 'int32');
}

/**
 * Values from `start` (inclusive) to `stop` (exclusive) by `step`; with one
 * argument, `0 .. start`. int32 when all arguments are integers.
 */
export function arange(start: number, stop?: number, step = 1, opts: TensorOptions = {}): Tensor {
  let lo = start;
  let hi = stop;
  if (hi === undefined) {
    hi = start;
    lo = 0;
  }
  if (step === 0 || !Number.isFinite(step) || !Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new ArgumentError('arange', `need finite start/stop and a non-zero step, got (${start}, ${stop}, ${step})`);
  }
  if ((hi - lo) * step < 0) {
    throw new ArgumentError(
      'arange',
      `the step's sign points away from stop: (${start}, ${stop}, ${step}) (as in PyTorch; use a ${step > 0 ? 'negative' : 'positive'} step)`,
    );
  }
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  if (n > MAX_ELEMENTS)
    throw new ArgumentError('arange', `(${start}, ${stop}, ${step}) gives ${n} values, more than the ${MAX_ELEMENTS} a tensor can hold`);
  const dtype =
    opts.dtype !== undefined
      ? checkDType('arange', opts.dtype)
      : Number.isInteger(lo) && Number.isInteger(hi) && Number.isInteger(step)
        ? 'int32'
        : 'float32';
  const v = arrayFor(dtype, n);
  for (let i = 0; i < n; i++) v[i] = lo + i * step;
  const b = getBackend();
  return finish(make(b.upload(v, dtype), [n], dtype), opts);
}

/** `n` evenly spaced float32 values from `start` to `stop` inclusive. */
export function linspace(start: number, stop: number, n: number): Tensor {
  if (!Number.isInteger(n) || n < 0 || n > MAX_ELEMENTS)
    throw new ArgumentError('linspace', `n must be an integer in [0, ${MAX_ELEMENTS}], got ${n}`);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = n === 1 ? start : start + ((stop - start) * i) / (n - 1);
  const b = getBackend();
  return make(b.upload(v, 'float32'), [n], 'float32');
}

/** The `n x n` identity matrix (or `n x m`). */
export function eye(n: number, m = n, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(m) || m < 0 || n * m > MAX_ELEMENTS) {
    throw new ArgumentError('eye', `sizes must be non-negative integers with at most ${MAX_ELEMENTS} elements in all, got ${n}, ${m}`);
  }
  const dtype = checkDType('eye', opts.dtype);
  const v = arrayFor(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) v[i * m + i] = 1;
  const b = getBackend();
  return finish(make(b.upload(v, dtype), [n, m], dtype), opts);
}
