import type { Backend } from './backend/backend.js';
import { backendByName, getBackend } from './backend/registry.js';
import type { DType, TypedArray } from './dtype.js';
import { autogradHooks } from './engine.js';
import { ArgumentError, DTypeError, NotAvailableError, ShapeError, fmtShape } from './errors.js';
import * as ew from './ops/elementwise.js';
import * as methodTable from './ops/methods.js';
import * as mv from './ops/movement.js';
import { sizeOf } from './shape.js';

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

/** `op(x, ...rest)` as `x.op(...rest)`. */
type AsMethod<F> = F extends (x: Tensor, ...rest: infer R) => infer O ? (...rest: R) => O : never;

/** The ops that are also methods, typed from their functions (see `ops/methods.ts`). */
export type TensorMethods = { [K in keyof typeof methodTable.tensorMethods]: AsMethod<(typeof methodTable.tensorMethods)[K]> };

let methodsInstalled = false;

/**
 * Puts every op of the method table on `Tensor.prototype`. Done on the first tensor's
 * construction rather than at module load, when the op modules (which import this one)
 * may not have been evaluated yet.
 */
function installMethods(): void {
  methodsInstalled = true;
  const proto = Tensor.prototype as unknown as Record<string, unknown>;
  for (const [name, fn] of Object.entries(methodTable.tensorMethods)) {
    if (Object.prototype.hasOwnProperty.call(proto, name)) continue;
    const op = fn as (x: Tensor, ...rest: unknown[]) => unknown;
    Object.defineProperty(proto, name, {
      value: function (this: Tensor, ...rest: unknown[]) { return op(this, ...rest); },
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
}

// The op methods (`add`, `sum`, `reshape`, …) come from the method table.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface Tensor extends TensorMethods {}

/**
 * An n-dimensional array of float32 or int32 values living on a backend.
 * Every op is both a method (`a.add(b)`) and a function (`add(a, b)`).
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
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
    if (!methodsInstalled) installMethods();
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
        "gradients need @bp/autograd: install it (npm i @bp/autograd) and add `import '@bp/autograd'` before building the graph",
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

  /** Swaps the last two axes (matrix transpose). */
  get T(): Tensor { return mv.transpose(this); }
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
