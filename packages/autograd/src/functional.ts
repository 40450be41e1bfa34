import { ArgumentError, BpError, DTypeError, NotAvailableError, Tensor, fmtShape, setGradEnabled, zerosLike } from '@bp/tensor';
import { backwardTo } from './tape.js';

/**
 * Runs `fn` without recording a graph (PyTorch's `torch.no_grad()`): for
 * evaluation and for weight updates. Works with async functions too.
 */
export function noGrad<T>(fn: () => T): T {
  checkFn('noGrad', fn);
  const prev = setGradEnabled(false);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    setGradEnabled(prev);
    throw e;
  }
  if (result instanceof Promise) {
    return result.finally(() => setGradEnabled(prev)) as T;
  }
  setGradEnabled(prev);
  return result;
}

/** Runs `fn` with graph recording on, even inside {@link noGrad}. */
export function enableGrad<T>(fn: () => T): T {
  checkFn('enableGrad', fn);
  const prev = setGradEnabled(true);
  try {
    return fn();
  } finally {
    setGradEnabled(prev);
  }
}

type Grads<A extends Tensor[]> = A extends [Tensor] ? Tensor : Tensor[];

/** Refuses a `fn` that is not a function, naming `op` (else a TypeError would come later). @internal */
export function checkFn(op: string, fn: unknown): void {
  if (typeof fn !== 'function') throw new ArgumentError(op, `expected a function, got ${fn === null ? 'null' : typeof fn}`);
}

/** How many {@link valueAndGrad} functions are running now, one inside another. */
let depth = 0;

function prepare(op: string, xs: Tensor[]): Tensor[] {
  if (xs.length === 0) throw new ArgumentError(op, 'needs at least one input tensor');
  return xs.map((x, i) => {
    if (!(x instanceof Tensor)) throw new ArgumentError(op, `argument ${i} is not a Tensor`);
    if (x.dtype !== 'float32') throw new ArgumentError(op, `argument ${i} must be float32 to be differentiated, got ${x.dtype}`);
    // Inside another grad's function, an input that requires grad is (or may be) on the outer
    // graph: the backward pass records no graph of its own, so the inner gradient would reach the
    // outer one as a constant and its derivative would silently be zero.
    if (depth > 0 && x.requiresGrad) {
      throw new NotAvailableError(
        op,
        `argument ${i} ${fmtShape(x.shape)} requires grad inside an enclosing grad or valueAndGrad: gradients of gradients ` +
          '(higher-order derivatives) are not supported; pass x.detach() to take the inner gradient as a constant',
      );
    }
    const leaf = x.detach();
    leaf.requiresGrad = true;
    return leaf;
  });
}

/**
 * The functional form of backprop (as `tf.valueAndGrad` / `jax.value_and_grad`):
 * returns `fn`'s value and its gradient with respect to each argument. `fn` must
 * return a one-element tensor. The arguments themselves are not modified.
 */
export function valueAndGrad<A extends Tensor[]>(fn: (...xs: A) => Tensor): (...xs: A) => { value: Tensor; grad: Grads<A> } {
  checkFn('valueAndGrad', fn);
  return (...xs: A) => {
    const leaves = prepare('valueAndGrad', xs);
    const prev = setGradEnabled(true);
    let value: Tensor;
    depth++;
    try {
      value = fn(...(leaves as A));
    } finally {
      depth--;
      setGradEnabled(prev);
    }
    if (!(value instanceof Tensor)) throw new BpError('valueAndGrad', 'the function must return a Tensor');
    if (value.dtype !== 'float32') {
      // An integer result (argmax, a cast) has no gradient: zeros would hide the mistake.
      throw new DTypeError(
        'valueAndGrad',
        `the function returned ${value.dtype} ${fmtShape(value.shape)}: gradients need a float32 result`,
      );
    }
    // Only toward the arguments: tensors fn closed over keep their .grad, and the graph they are on stays.
    if (value.requiresGrad) backwardTo(value, leaves);
    const grads = leaves.map((l) => l.grad ?? zerosLike(l));
    return { value: value.detach(), grad: (xs.length === 1 ? grads[0] : grads) as Grads<A> };
  };
}

/**
 * `grad(fn)(...xs)`: the gradient of a scalar-valued `fn` with respect to its
 * arguments: one tensor for a one-argument function, else an array. First
 * derivatives only: `grad` inside another `grad`'s function, on an input that
 * requires grad there, throws rather than return a second derivative of zero.
 *
 * @example
 * const dfdx = grad((x: Tensor) => x.pow(2).sum());
 * dfdx(tensor([1, 2, 3])).toArray(); // [2, 4, 6]
 */
export function grad<A extends Tensor[]>(fn: (...xs: A) => Tensor): (...xs: A) => Grads<A> {
  checkFn('grad', fn);
  const vg = valueAndGrad(fn);
  return (...xs: A) => vg(...xs).grad;
}
