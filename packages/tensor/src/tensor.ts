import type { Backend } from './backend/backend.js';
import { backendByName, getBackend } from './backend/registry.js';
import type { DType, TypedArray } from './dtype.js';
import { autogradHooks } from './engine.js';
import { ArgumentError, DTypeError, NotAvailableError, ShapeError, fmtShape } from './errors.js';
import * as ew from './ops/elementwise.js';
import * as mm from './ops/matmul.js';
import * as mv from './ops/movement.js';
import * as nn from './ops/nn.js';
import * as rd from './ops/reduce.js';
import { sizeOf } from './shape.js';

/** Counts the copies of this module loaded in the process: an ESM import and a CommonJS require of @bp/tensor make two. */
const LOADED_COPIES = Symbol.for('@bp/tensor.loadedCopies');
{
  const g = globalThis as unknown as Record<symbol, number | undefined>;
  g[LOADED_COPIES] = (g[LOADED_COPIES] ?? 0) + 1;
}

/** Anything an elementwise op accepts as an operand: a tensor or a plain number. */
export type TensorLike = Tensor | number;

/** Nested arrays of numbers, as returned by {@link Tensor.toArray}. */
export type NestedArray = number | NestedArray[];

/** The autograd node of a non-leaf tensor (set by @bp/autograd). @internal */
export interface GradNodeLike {
  readonly op: string;
  readonly inputs: readonly Tensor[];
}

let nextId = 1;

/**
 * An n-dimensional array of float32 or int32 values living on a backend.
 * Every op is both a method (`a.add(b)`) and a function (`add(a, b)`).
 */
export class Tensor {
  /** Dimensions, outermost first. */
  readonly shape: number[];
  /** Element type. */
  readonly dtype: DType;
  /** Number of elements (the product of `shape`). */
  readonly size: number;
  /** A unique id, handy when printing graphs. */
  readonly id: number;
  /** The accumulated gradient after `backward()` (needs @bp/autograd). */
  grad: Tensor | null = null;
  /** An optional label used when printing the computation graph. */
  name?: string;
  /** @internal */ _storage: unknown;
  /** @internal */ _backend: Backend;
  /** @internal */ _node: GradNodeLike | null = null;
  /** @internal */ _retainGrad = false;
  private _requiresGrad = false;

  /** @internal Use {@link tensor} and the creation functions instead. */
  constructor(storage: unknown, shape: number[], dtype: DType, backend: Backend) {
    this._storage = storage;
    this.shape = shape;
    this.dtype = dtype;
    this.size = sizeOf(shape);
    this._backend = backend;
    this.id = nextId++;
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Whether gradients flow to this tensor. Only float32 tensors can require gradients. */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(v: boolean) {
    if (v && this.dtype !== 'float32') {
      throw new DTypeError('requiresGrad', `only float32 tensors can require gradients, got ${this.dtype} ${fmtShape(this.shape)}`);
    }
    this._requiresGrad = v;
  }

  /** True for tensors made by the user (not by an op recorded for autograd). */
  get isLeaf(): boolean {
    return this._node === null;
  }

  /** @internal The storage on the current backend, moving it there if it lives elsewhere. */
  _on(backend: Backend): unknown {
    if (this._backend !== backend) {
      const values = this._backend.read(this._storage, this.size, this.dtype);
      this._storage = backend.upload(values, this.dtype);
      this._backend = backend;
    }
    return this._storage;
  }

  /** @internal The storage on the active backend. */
  _s(): unknown {
    return this._on(getBackend());
  }

  /** The values as a new typed array (Float32Array or Int32Array), read synchronously. */
  dataSync(): TypedArray {
    const v = this._backend.read(this._storage, this.size, this.dtype);
    return v.slice() as TypedArray;
  }

  /** The values as a new typed array; waits for the device on asynchronous backends. */
  async data(): Promise<TypedArray> {
    const b = this._backend;
    const v = b.readAsync ? await b.readAsync(this._storage, this.size, this.dtype) : b.read(this._storage, this.size, this.dtype);
    return v.slice() as TypedArray;
  }

  /** The values as nested arrays (a plain number for a 0-d tensor). */
  toArray(): NestedArray {
    const v = this._backend.read(this._storage, this.size, this.dtype);
    if (this.rank === 0) return v[0];
    const build = (dim: number, off: number): NestedArray[] => {
      const n = this.shape[dim];
      const out: NestedArray[] = new Array(n);
      if (dim === this.rank - 1) {
        for (let i = 0; i < n; i++) out[i] = v[off + i];
        return out;
      }
      const stride = sizeOf(this.shape.slice(dim + 1));
      for (let i = 0; i < n; i++) out[i] = build(dim + 1, off + i * stride);
      return out;
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) {
      throw new ShapeError('item', `only one-element tensors can be read with item(), got shape ${fmtShape(this.shape)}`);
    }
    return this._backend.read(this._storage, 1, this.dtype)[0];
  }

  /**
   * Runs the backward pass from this tensor: accumulates d(this)/d(leaf) into
   * `.grad` of every leaf that requires a gradient. `grad` defaults to 1 for
   * a one-element tensor. Needs `import '@bp/autograd'`.
   */
  backward(grad?: Tensor): void {
    const hooks = autogradHooks();
    if (!hooks) {
      throw new NotAvailableError(
        'backward',
        "gradients need @bp/autograd: install it (npm i @bp/autograd) and add `import '@bp/autograd'` before building the graph" +
          ((globalThis as unknown as Record<symbol, number>)[LOADED_COPIES] > 1
            ? '. Two copies of @bp/tensor are loaded (one by import and one by require, or two versions): if @bp/autograd is imported, ' +
              'it installed itself into the other copy; load @bp/tensor and @bp/autograd the same way (both import or both require)'
            : ''),
      );
    }
    hooks.backward(this, grad);
  }

  /** A tensor sharing these values but cut from the graph (no gradient flows through it). */
  detach(): Tensor {
    return new Tensor(this._storage, this.shape.slice(), this.dtype, this._backend);
  }

  /** A copy of the values in new storage (recorded, so gradients flow through it). */
  clone(): Tensor {
    return ew.clone(this);
  }

  /** Keeps `.grad` on this non-leaf tensor after backward (as PyTorch's `retain_grad`). */
  retainGrad(): this {
    this._retainGrad = true;
    return this;
  }

  /**
   * Replaces this tensor's values in place with `value`'s (same shape; cast to this dtype).
   * Not recorded by autograd: this is how optimizers and `loadStateDict` update parameters.
   */
  assign(value: Tensor | TypedArray | number[]): this {
    let t: Tensor;
    if (value instanceof Tensor) t = value;
    else {
      const arr = Array.isArray(value) ? (this.dtype === 'int32' ? Int32Array.from(value) : Float32Array.from(value)) : value;
      const b = getBackend();
      t = new Tensor(b.upload(arr, this.dtype), [arr.length], this.dtype, b);
    }
    if (t.size !== this.size) {
      throw new ShapeError('assign', `shape ${fmtShape(t.shape)} (${t.size} values) does not match ${fmtShape(this.shape)}`);
    }
    const src = t.dtype === this.dtype ? t : t.cast(this.dtype);
    const b = getBackend();
    this._storage = src._on(b);
    this._backend = b;
    return this;
  }

  /** Frees backend memory now (only matters on GPU backends); the tensor must not be used after. */
  dispose(): void {
    this._backend.dispose?.(this._storage);
  }

  /** A short description: `Tensor(float32 [2,3])`. */
  toString(): string {
    return `Tensor(${this.dtype} ${fmtShape(this.shape)}${this.size <= 16 ? ' ' + JSON.stringify(this.toArray()) : ''})`;
  }

  // ---- elementwise -------------------------------------------------------
  /** Elementwise `this + other` with broadcasting. */
  add(other: TensorLike): Tensor { return ew.add(this, other); }
  /** Elementwise `this - other` with broadcasting. */
  sub(other: TensorLike): Tensor { return ew.sub(this, other); }
  /** Elementwise `this * other` with broadcasting. */
  mul(other: TensorLike): Tensor { return ew.mul(this, other); }
  /** Elementwise `this / other` with broadcasting (always float32). */
  div(other: TensorLike): Tensor { return ew.div(this, other); }
  /** Elementwise `this ** other` with broadcasting. */
  pow(other: TensorLike): Tensor { return ew.pow(this, other); }
  /** Elementwise larger of `this` and `other`. */
  maximum(other: TensorLike): Tensor { return ew.maximum(this, other); }
  /** Elementwise smaller of `this` and `other`. */
  minimum(other: TensorLike): Tensor { return ew.minimum(this, other); }
  /** `-this`. */
  neg(): Tensor { return ew.neg(this); }
  /** `e ** this`. */
  exp(): Tensor { return ew.exp(this); }
  /** Natural logarithm. */
  log(): Tensor { return ew.log(this); }
  /** Square root. */
  sqrt(): Tensor { return ew.sqrt(this); }
  /** `this * this`. */
  square(): Tensor { return ew.square(this); }
  /** Absolute value. */
  abs(): Tensor { return ew.abs(this); }
  /** `max(this, 0)`. */
  relu(): Tensor { return ew.relu(this); }
  /** `this` where positive, `slope * this` elsewhere. */
  leakyRelu(slope = 0.01): Tensor { return ew.leakyRelu(this, slope); }
  /** `1 / (1 + e ** -this)`, stable for large inputs. */
  sigmoid(): Tensor { return ew.sigmoid(this); }
  /** Hyperbolic tangent. */
  tanh(): Tensor { return ew.tanh(this); }
  /** Limits values to `[min, max]` (either may be omitted). */
  clamp(min?: number | null, max?: number | null): Tensor { return ew.clamp(this, min, max); }
  /** `1` where equal, else `0` (int32). */
  eq(other: TensorLike): Tensor { return ew.eq(this, other); }
  /** `1` where not equal, else `0` (int32). */
  ne(other: TensorLike): Tensor { return ew.ne(this, other); }
  /** `1` where `this > other` (int32). */
  gt(other: TensorLike): Tensor { return ew.gt(this, other); }
  /** `1` where `this < other` (int32). */
  lt(other: TensorLike): Tensor { return ew.lt(this, other); }
  /** `1` where `this >= other` (int32). */
  ge(other: TensorLike): Tensor { return ew.ge(this, other); }
  /** `1` where `this <= other` (int32). */
  le(other: TensorLike): Tensor { return ew.le(this, other); }
  /** Converts to another dtype (float to int32 truncates toward zero). */
  cast(dtype: DType): Tensor { return ew.cast(this, dtype); }

  // ---- reductions --------------------------------------------------------
  /** Sum over `axis` (one or several; all by default). */
  sum(axis?: number | number[] | null, keepDims = false): Tensor { return rd.sum(this, axis, keepDims); }
  /** Mean over `axis` (one or several; all by default). */
  mean(axis?: number | number[] | null, keepDims = false): Tensor { return rd.mean(this, axis, keepDims); }
  /** Largest values over `axis`; the gradient flows to the arg-max. */
  max(axis?: number | number[] | null, keepDims = false): Tensor { return rd.max(this, axis, keepDims); }
  /** Smallest values over `axis`. */
  min(axis?: number | number[] | null, keepDims = false): Tensor { return rd.min(this, axis, keepDims); }
  /** Index of the largest value along `axis` (over the flattened tensor when omitted), int32. */
  argmax(axis?: number | null, keepDims = false): Tensor { return rd.argmax(this, axis, keepDims); }
  /** Index of the smallest value along `axis`, int32. */
  argmin(axis?: number | null, keepDims = false): Tensor { return rd.argmin(this, axis, keepDims); }
  /** Softmax along `axis` (default last), stable for large inputs. */
  softmax(axis = -1): Tensor { return nn.softmax(this, axis); }
  /** Log-softmax along `axis` (default last), stable for large inputs. */
  logSoftmax(axis = -1): Tensor { return nn.logSoftmax(this, axis); }

  // ---- linear algebra ----------------------------------------------------
  /** Matrix product; 2-D, or batched `[..., n, k] @ [..., k, m]` with broadcasting over batch axes. */
  matmul(other: Tensor): Tensor { return mm.matmul(this, other); }

  // ---- shape -------------------------------------------------------------
  /** Same values, new shape; one dimension may be `-1`. */
  reshape(shape: number[]): Tensor { return mv.reshape(this, shape); }
  /** Permutes axes (`perm`), or reverses them when omitted. */
  transpose(perm?: number[]): Tensor { return mv.transpose(this, perm); }
  /** Swaps the last two axes (matrix transpose). */
  get T(): Tensor { return mv.transpose(this); }
  /** Collapses axes `startAxis..endAxis` into one (`flatten()` keeps the batch axis). */
  flatten(startAxis = 1, endAxis = -1): Tensor { return mv.flatten(this, startAxis, endAxis); }
  /** Inserts an axis of size 1 at `axis`. */
  unsqueeze(axis: number): Tensor { return mv.unsqueeze(this, axis); }
  /** Removes axes of size 1 (all of them, or the given ones). */
  squeeze(axis?: number | number[]): Tensor { return mv.squeeze(this, axis); }
  /** Repeats size-1 axes to reach `shape` (NumPy broadcasting rules). */
  broadcastTo(shape: number[]): Tensor { return mv.broadcastTo(this, shape); }
  /** The box starting at `begin` of `size` (`-1` in `size`: to the end), as tfjs' `slice`. */
  slice(begin: number[] | number, size?: number[] | number): Tensor { return mv.slice(this, begin, size); }
  /** `length` elements from `start` along `axis` (PyTorch's `narrow`). */
  narrow(axis: number, start: number, length: number): Tensor { return mv.narrow(this, axis, start, length); }
  /** Pads each axis with `[before, after]` copies of `value`. */
  pad(pads: [number, number][], value = 0): Tensor { return mv.pad(this, pads, value); }
  /** Selects entries along `axis` by int32 `indices` (PyTorch's `index_select`, tfjs' `gather`). */
  gather(indices: Tensor | number[], axis = 0): Tensor { return mv.gather(this, indices, axis); }
  /** `where(this, a, b)`: `a` where this is non-zero, else `b`. */
  where(a: TensorLike, b: TensorLike): Tensor { return ew.where(this, a, b); }
}

/** True when `x` is a bp tensor. */
export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}

/** @internal Wraps a backend storage as a tensor. */
export function wrap(storage: unknown, shape: number[], dtype: DType, backend: Backend = getBackend()): Tensor {
  return new Tensor(storage, shape, dtype, backend);
}

/** @internal Moves a tensor to a named backend, used when a backend is selected by name. */
export function moveTo(t: Tensor, name: string): Tensor {
  const b = backendByName(name);
  if (!b) throw new ArgumentError('moveTo', `unknown backend '${name}'`);
  t._on(b);
  return t;
}
