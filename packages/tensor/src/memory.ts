/**
 * Tensor lifetimes: reference-counted storage, `tidy` scopes and `keep`.
 *
 * A backend storage is owned by one {@link StorageRef}; every tensor that views
 * it (the tensor itself, `detach()`, `reshape` and other views) holds one
 * reference. `dispose()` drops a tensor's reference and the storage is freed
 * when the last one goes, so disposing an alias never breaks another tensor.
 * The ref also carries the storage's version, bumped by every in-place change,
 * which autograd compares with the version it saw when it recorded an op.
 */
import type { Backend } from './backend/backend.js';
import { ArgumentError, BpError } from './errors.js';
import type { Tensor } from './tensor.js';

// `using` needs Symbol.dispose; engines before it get the registered symbol TypeScript's helpers look for.
if (typeof (Symbol as { dispose?: symbol }).dispose !== 'symbol') {
  Object.defineProperty(Symbol, 'dispose', { value: Symbol.for('Symbol.dispose') });
}

/** One backend storage and the tensors sharing it. @internal */
export class StorageRef {
  /** Bumped by every in-place write (`assign`, fused optimizer updates). */
  version = 0;
  /** Tensors holding this storage. */
  refs = 0;
  /**
   * False when the backend's memory may be shared with another storage (a CPU slice that
   * views its source, an array handed over with `copy: false`): an in-place kernel then
   * first gives the tensor a private copy, so the write cannot reach anything else.
   */
  exclusive = true;
  constructor(
    public data: unknown,
    public backend: Backend,
  ) {
    backend.adopt?.(data);
  }

  /**
   * Puts `data` of `backend` in place of the storage (moved to another backend, or written anew
   * by `assign`) for every tensor sharing this ref, and frees the one it replaces.
   */
  replace(data: unknown, backend: Backend): void {
    const old = this.data;
    const oldBackend = this.backend;
    this.data = data;
    this.backend = backend;
    if (old === data) return;
    backend.adopt?.(data);
    if (old !== null) oldBackend.dispose?.(old);
  }

  /** Drops one tensor's reference, freeing the backend memory with the last. */
  release(): void {
    if (--this.refs > 0) return;
    const d = this.data;
    this.data = null;
    if (d !== null) this.backend.dispose?.(d);
  }
}

const scopes: Set<Tensor>[] = [];

/** Notes a new tensor in the innermost `tidy` scope, if any. @internal */
export function trackTensor(t: Tensor): void {
  if (scopes.length > 0) scopes[scopes.length - 1].add(t);
}

/** Collects every tensor reachable from a `tidy` result (arrays, plain objects, Maps). */
function collect(value: unknown, out: Set<Tensor>, isTensor: (v: unknown) => v is Tensor, depth = 0): void {
  if (depth > 64 || value === null || typeof value !== 'object') return;
  if (isTensor(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out, isTensor, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, isTensor, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, isTensor, depth + 1);
  }
}

let isTensorFn: ((v: unknown) => v is Tensor) | null = null;
/** @internal */
export function setTensorCheck(fn: (v: unknown) => v is Tensor): void {
  isTensorFn = fn;
}

/**
 * Runs `fn` and then disposes every tensor created while it ran, except those it
 * returns (directly or inside arrays, plain objects or Maps), those passed to
 * {@link keep}, parameters (leaves with `requiresGrad`) and gradients that
 * autograd stored in `.grad`: TensorFlow.js' `tf.tidy`. Use it around a training
 * or evaluation step on a GPU backend, where memory is not garbage collected
 * quickly enough; on the CPU backend the released memory is recycled for the next
 * step's outputs, which spares the garbage collector. `model.fit` and `trainGPT` run
 * each step in one. Scopes nest; a tensor returned from an inner scope belongs to
 * the outer one. `fn` must be synchronous (a Promise result is refused, since
 * the scope would close before the awaited work).
 *
 * @example
 * const loss = tidy(() => {
 *   const l = crossEntropyLoss(model.forward(x), y);
 *   l.backward();
 *   opt.step();
 *   return l;
 * });
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new ArgumentError('tidy', `expected a function, got ${fn === null ? 'null' : typeof fn}`);
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    release(scope, new Set());
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    release(scope, new Set());
    throw new BpError(
      'tidy',
      'the function returned a Promise: tidy scopes are synchronous; await inside an async function and call tidy around each synchronous step',
    );
  }
  const kept = new Set<Tensor>();
  if (isTensorFn) collect(result, kept, isTensorFn);
  release(scope, kept);
  // What survives belongs to the enclosing scope, if any.
  if (scopes.length > 0) {
    const outer = scopes[scopes.length - 1];
    // Only what this scope made: a tensor from outside returned as it is stays out of every scope.
    for (const t of kept) if (!t._kept && scope.has(t)) outer.add(t);
  }
  return result;
}

function release(scope: Set<Tensor>, kept: Set<Tensor>): void {
  for (const t of scope) {
    if (kept.has(t) || t._kept || (t.requiresGrad && t.isLeaf)) continue;
    t.dispose();
  }
}

/**
 * Exempts `t` from every enclosing {@link tidy} scope (TensorFlow.js' `tf.keep`):
 * for state created inside a step that must outlive it, such as an optimizer's
 * moment buffers. Returns `t`.
 */
export function keep<T extends Tensor>(t: T): T {
  t._kept = true;
  return t;
}
