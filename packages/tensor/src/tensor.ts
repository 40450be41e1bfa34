import type { Backend } from './backend/backend.js';
import { backendByName, getBackend } from './backend/registry.js';
import type { DType, TypedArray } from './dtype.js';
import { autogradHooks, type BackwardOptions } from './engine.js';
import { ArgumentError, BpError, DTypeError, NotAvailableError, ShapeError, fmtShape } from './errors.js';
import { StorageRef, setTensorCheck, trackTensor } from './memory.js';
import * as ew from './ops/elementwise.js';
import * as methodTable from './ops/methods.js';
import * as mv from './ops/movement.js';
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

/**
 * What {@link tensor} takes as nested data: numbers and booleans (`true` is 1, `false` 0), in
 * nested arrays of one shape. All booleans make an int32 tensor (the dtype of the masks that
 * comparisons return), as PyTorch makes a bool one.
 */
export type NestedData = number | boolean | NestedData[];

/** The autograd node of a non-leaf tensor (set by @bp/autograd). @internal */
export interface GradNodeLike {
  readonly op: string;
  readonly inputs: readonly Tensor[];
}

let nextId = 1;

/** `op(x, ...rest)` as `x.op(...rest)`. */
type AsMethod<F> = F extends (x: Tensor, ...rest: infer R) => infer O ? (...rest: R) => O : never;

type MethodTable = ReturnType<typeof methodTable.tensorMethods>;

/** The ops that are also methods, typed from their functions (see `ops/methods.ts`). */
export type TensorMethods = { [K in keyof MethodTable]: AsMethod<MethodTable[K]> };

let methodsInstalled = false;

/**
 * Puts every op of the method table on `Tensor.prototype` (names already there are left
 * alone, so calling it again only fills gaps). The package entry points call it once all op
 * modules are loaded; the first tensor's construction calls it too, for code that imports a
 * module directly. A module cycle can leave part of the table unevaluated at that moment,
 * which the entry points' later call completes. @internal
 */
export function installMethods(): void {
  const build = (methodTable as { tensorMethods?: () => Record<string, unknown> }).tensorMethods;
  if (typeof build !== 'function') return;
  const table = build();
  methodsInstalled = true;
  const proto = Tensor.prototype as unknown as Record<string, unknown>;
  for (const [name, fn] of Object.entries(table)) {
    if (typeof fn !== 'function') continue;
    if (Object.prototype.hasOwnProperty.call(proto, name)) continue;
    const op = fn as (x: Tensor, ...rest: unknown[]) => unknown;
    Object.defineProperty(proto, name, {
      value: function (this: Tensor, ...rest: unknown[]) {
        // A disposed tensor's error names the method called, whatever op it runs inside.
        this._live(name);
        return op(this, ...rest);
      },
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
  private _grad: Tensor | null = null;
  /**
   * The accumulated gradient after `backward()` (needs @bp/autograd). It may be set (or cleared
   * with null), as in PyTorch, to a float32 tensor of this tensor's shape.
   */
  get grad(): Tensor | null {
    return this._grad;
  }

  set grad(g: Tensor | null) {
    if (g !== null && g !== undefined) {
      if (!(g instanceof Tensor))
        throw new ArgumentError('grad', `must be a Tensor or null, got ${Array.isArray(g) ? 'an array' : typeof g}`);
      if (g.shape.length !== this.shape.length || g.shape.some((d, i) => d !== this.shape[i])) {
        throw new ShapeError('grad', `a gradient ${fmtShape(g.shape)} for a tensor ${fmtShape(this.shape)}: the shapes must be equal`);
      }
      if (g.dtype !== 'float32') throw new DTypeError('grad', `must be float32, got ${g.dtype} ${fmtShape(g.shape)}`);
    }
    this._grad = g ?? null;
  }
  /** An optional label used when printing the computation graph. */
  name?: string;
  /** @internal The storage this tensor views (shared by its aliases), or null once disposed. */
  _ref: StorageRef | null;
  /** @internal */ _node: GradNodeLike | null = null;
  /** @internal */ _retainGrad = false;
  /** @internal Exempt from `tidy` (see `keep`). */ _kept = false;
  private _requiresGrad = false;

  /**
   * @internal Use {@link tensor} and the creation functions instead. `storage` is a new
   * backend storage, or the {@link StorageRef} of a tensor this one views.
   */
  constructor(storage: unknown, shape: number[], dtype: DType, backend: Backend) {
    if (!methodsInstalled) {
      try {
        installMethods();
      } catch {
        // Mid-way through loading the op modules: the package entry point completes the methods.
      }
    }
    const ref = storage instanceof StorageRef ? storage : new StorageRef(storage, backend);
    ref.refs++;
    this._ref = ref;
    this.shape = shape;
    this.dtype = dtype;
    this.size = sizeOf(shape);
    this.id = nextId++;
    trackTensor(this);
  }

  /** @internal The live storage ref, or a clear error for a disposed tensor naming `op`, the op it was given to. */
  _live(op = 'dispose'): StorageRef {
    const r = this._ref;
    if (r === null || r.data === null) {
      throw new BpError(
        op,
        `this tensor (${this.dtype} ${fmtShape(this.shape)}) was disposed${r === null ? '' : ' with the storage it shared'}; ` +
          'it cannot be used after dispose(), tidy() or zeroGrad() released it (return it from the tidy, keep() it, or clone() it to keep it)',
      );
    }
    return r;
  }

  /** @internal The backend storage (read-only view of the ref's data). */
  get _storage(): unknown {
    return this._live().data;
  }

  /** @internal The backend holding the storage. */
  get _backend(): Backend {
    return this._live().backend;
  }

  /**
   * How many times this tensor's storage has been changed in place (PyTorch's
   * `_version`). Autograd compares it with the version it saw when recording.
   */
  get version(): number {
    return this._live().version;
  }

  /** Whether {@link Tensor.dispose} has released this tensor. */
  get isDisposed(): boolean {
    return this._ref === null || this._ref.data === null;
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
    if (!v && this._requiresGrad && this._node !== null) {
      // As PyTorch: turning it off would silently cut the graph through this tensor.
      throw new ArgumentError(
        'requiresGrad',
        `only a leaf tensor's requiresGrad can be turned off; this ${fmtShape(this.shape)} tensor was computed by '${this._node.op}': ` +
          'use t.detach() for a copy outside the graph',
      );
    }
    this._requiresGrad = v;
  }

  /** True for tensors made by the user (not by an op recorded for autograd). */
  get isLeaf(): boolean {
    return this._node === null;
  }

  /** @internal The storage on the current backend, moving it there if it lives elsewhere. */
  _on(backend: Backend): unknown {
    const r = this._live();
    if (r.backend !== backend) {
      // Moves the storage (for every alias) to the active backend.
      if (r.backend.syncRead === false) {
        throw new NotAvailableError(
          'setBackend',
          `a tensor (${this.dtype} ${fmtShape(this.shape)}) on the '${r.backend.name}' backend is used on '${backend.name}': ` +
            `values cannot be moved synchronously from it; move them with tensor(await t.data(), { shape: t.shape, dtype: t.dtype })`,
        );
      }
      r.replace(backend.upload(r.backend.read(r.data, this.size, this.dtype), this.dtype), backend);
    }
    return r.data;
  }

  /** @internal The storage on the active backend. */
  _s(): unknown {
    return this._on(getBackend());
  }

  /** @internal The values, read synchronously; a clear error where the backend cannot. */
  _readSync(op: string, instead: string): TypedArray {
    const b = this._live(op).backend;
    if (b.syncRead === false) {
      throw new NotAvailableError(
        op,
        `the '${b.name}' backend cannot read values synchronously (its kernels finish later); use ${instead} in an async function`,
      );
    }
    return b.read(this._storage, this.size, this.dtype);
  }

  /**
   * The values as a new typed array (Float32Array or Int32Array), read synchronously.
   * Throws a `NotAvailableError` on a backend that cannot read synchronously
   * (`backend.syncRead === false`, e.g. WebGPU): use `await t.data()` there.
   */
  dataSync(): TypedArray {
    return this._readSync('dataSync', 'await t.data()').slice() as TypedArray;
  }

  /**
   * The values as a new typed array; waits for the device on asynchronous backends.
   * This is where waiting happens: ops return at once, and a backend may still be
   * computing the values when `data()` is called.
   */
  async data(): Promise<TypedArray> {
    const b = this._live('data').backend;
    const v = b.readAsync ? await b.readAsync(this._storage, this.size, this.dtype) : b.read(this._storage, this.size, this.dtype);
    return v.slice() as TypedArray;
  }

  /**
   * The values as nested arrays (a plain number for a 0-d tensor). Synchronous: on a
   * backend that cannot read synchronously use {@link Tensor.array}.
   */
  toArray(): NestedArray {
    return this._nest(this._readSync('toArray', 'await t.array()'));
  }

  /** The values as nested arrays, waiting for the device on asynchronous backends. */
  async array(): Promise<NestedArray> {
    return this._nest(await this.data());
  }

  private _nest(v: TypedArray): NestedArray {
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

  /**
   * The single value of a one-element tensor. `await t.item()` works on every
   * backend; a plain `t.item()` works where the backend reads synchronously (the
   * CPU backend and gpu.js' GL modes). On a backend that cannot (WebGPU), `item()`
   * returns a pending value that `await` resolves to the number, and that throws a
   * `NotAvailableError` naming `await t.item()` when used as a number without
   * `await` (in arithmetic, comparisons, template strings or `JSON.stringify`).
   * Its type stays `number`, so the same code types on every backend.
   */
  item(): number {
    this._live('item');
    if (this.size !== 1) {
      throw new ShapeError('item', `only one-element tensors can be read with item(), got shape ${fmtShape(this.shape)}`);
    }
    const b = this._backend;
    if (b.syncRead !== false) return b.read(this._storage, 1, this.dtype)[0];
    return pendingItem(
      this.data().then((v) => v[0]),
      b.name,
    ) as unknown as number;
  }

  /**
   * Runs the backward pass from this tensor: accumulates d(this)/d(leaf) into
   * `.grad` of every leaf that requires a gradient. `grad` defaults to 1 for
   * a one-element tensor. Needs `import '@bp/autograd'`.
   *
   * The graph is released afterwards: a second backward through it throws unless the
   * first passed `{ retainGraph: true }` (as PyTorch's `retain_graph`). Either argument
   * may be the options: `loss.backward({ retainGraph: true })`.
   *
   * It throws, naming the op, when a value an op's gradient reads was changed in place
   * (`assign`, an optimizer step) after the op was recorded; as in PyTorch only what the
   * gradient reads counts: `exp` reads its output, `mul` its inputs, `add` nothing.
   */
  backward(grad?: Tensor | BackwardOptions, opts?: BackwardOptions): void {
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
    if (this.isDisposed) throw new BpError('backward', `called on a disposed tensor (${this.dtype} ${fmtShape(this.shape)})`);
    if (grad !== undefined && grad !== null && !(grad instanceof Tensor)) {
      if (typeof grad !== 'object' || Array.isArray(grad) || ArrayBuffer.isView(grad)) {
        throw new ArgumentError(
          'backward',
          `expected a gradient Tensor (or options), got ${Array.isArray(grad) ? 'an array' : ArrayBuffer.isView(grad) ? 'a typed array' : typeof grad}: wrap it with tensor(...)`,
        );
      }
      hooks.backward(this, undefined, grad);
      return;
    }
    hooks.backward(this, grad ?? undefined, opts);
  }

  /** A tensor sharing these values but cut from the graph (no gradient flows through it). */
  detach(): Tensor {
    const r = this._live('detach');
    return new Tensor(r, this.shape.slice(), this.dtype, r.backend);
  }

  /** A copy of the values in new storage (recorded, so gradients flow through it). */
  clone(): Tensor {
    this._live('clone');
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
    const r = this._live();
    // A private copy: later changes to `value` never reach this tensor, and disposing
    // `value` leaves it intact. Every alias of this tensor sees the new values.
    r.replace(b.cast(src._on(b), this.size, this.dtype, this.dtype), b);
    r.exclusive = true;
    r.version++;
    return this;
  }

  /**
   * Releases this tensor's hold on its storage; the memory is freed when no other
   * tensor shares it (views from `detach()` and `reshape` keep it alive). Using the
   * tensor afterwards throws. Needed on GPU backends, where memory is not reclaimed
   * quickly by garbage collection; on the CPU backend the memory goes to the next output of
   * the same size instead of to the garbage collector, which makes steps faster. See also
   * `tidy`. Calling it twice is harmless.
   */
  dispose(): void {
    const r = this._ref;
    if (r === null) return;
    this._ref = null;
    r.release();
  }

  /** What `console.log(t)` prints in Node: the same as `String(t)`, not the internals. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** `using t = …` disposes `t` at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** A short description: `Tensor(float32 [2,3])`. */
  toString(): string {
    if (this.isDisposed) return `Tensor(${this.dtype} ${fmtShape(this.shape)} disposed)`;
    const show = this.size <= 16 && this._backend.syncRead !== false;
    return `Tensor(${this.dtype} ${fmtShape(this.shape)}${show ? ' ' + JSON.stringify(this.toArray()) : ''})`;
  }

  /** Swaps the last two axes (matrix transpose). */
  get T(): Tensor {
    return mv.transpose(this);
  }
}

/**
 * What `item()` returns on a backend that cannot read synchronously: awaitable to the
 * number, and a clear error when used as a number without `await`.
 */
function pendingItem(value: Promise<number>, backend: string): PromiseLike<number> {
  // An unawaited pending value must not leave an unhandled rejection behind.
  value.catch(() => {});
  const misuse = (): never => {
    throw new NotAvailableError(
      'item',
      `the '${backend}' backend cannot read values synchronously: write \`await t.item()\` (item() without await gives a pending value, not a number)`,
    );
  };
  return {
    then: (ok, fail) => value.then(ok, fail),
    [Symbol.toPrimitive]: misuse,
    valueOf: misuse,
    toString: misuse,
    toJSON: misuse,
  } as PromiseLike<number>;
}

/** True when `x` is a bp tensor. */
export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}
setTensorCheck(isTensor);

/** @internal A tensor of `shape` viewing `x`'s storage (same number of elements): reshape, detach. */
export function view(x: Tensor, shape: number[]): Tensor {
  const r = x._live();
  return new Tensor(r, shape, x.dtype, r.backend);
}

/** @internal Gives `x` (and its views) a private copy of its storage unless it already owns it. */
export function ensureExclusive(x: Tensor): void {
  const r = x._live();
  if (!r.exclusive) x.assign(x);
}

/** @internal Marks `x`'s storage as possibly sharing backend memory with another storage. */
export function markShared(x: Tensor): Tensor {
  x._live().exclusive = false;
  return x;
}

/**
 * @internal True when `x` is the only tensor using its storage and that storage shares memory
 * with nothing else: handing `x` over then gives the receiver values no one else can see or change.
 */
export function ownsStorage(x: Tensor): boolean {
  const r = x._live();
  return r.refs === 1 && r.exclusive;
}

/** @internal Marks `x`'s storage as changed in place (a fused kernel wrote into it). */
export function bumpVersion(x: Tensor): void {
  x._live().version++;
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
