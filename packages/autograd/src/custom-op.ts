import { ArgumentError, Tensor } from '@bp/tensor';
import { checkTensor, record } from '@bp/tensor/internal';
import { noGrad } from './functional.js';
import { defineOpName, isBuiltinOp, registerGradient, type GradientRule } from './gradients/registry.js';

/** The two halves of an op made with {@link customOp}. */
export interface CustomOpDefinition<I extends Tensor[] = Tensor[]> {
  /** Computes the output from the inputs. It runs without recording: only the op itself is on the graph. */
  forward: (...inputs: I) => Tensor;
  /**
   * The gradient rule: `dy` is the gradient of the output, `ctx.inputs` and `ctx.output` the
   * tensors of this call. Returns one gradient per input, of that input's shape, or null where
   * none flows (an input that is not differentiated).
   */
  backward: GradientRule;
}

/**
 * A new differentiable op (PyTorch's `torch.autograd.Function`): `forward` computes the output
 * from tensors, `backward` turns the output's gradient into the inputs'. The returned function
 * records one op named `name` on the graph, whose gradient is `backward`'s; `gradcheck` checks
 * it against finite differences. Ops inside `forward` are not recorded, so `backward` alone
 * decides the gradient (a faster or more stable rule than the composed ops', or one for a
 * forward that is not differentiable step by step).
 *
 * `name` must not be an op of @bp/tensor (`registerGradient` replaces those rules); defining a
 * name again replaces its rule. What `backward` returns is checked: one gradient or null per
 * input, each of its input's shape.
 *
 * @example
 * import { tensor } from '@bp/tensor';
 * import { customOp } from '@bp/autograd';
 * // softplus(x) = log(1 + e^x), with the gradient sigmoid(x)
 * const softplus = customOp('mySoftplus', {
 *   forward: (x) => x.exp().add(1).log(),
 *   backward: (dy, { inputs: [x] }) => [dy.mul(x.sigmoid())],
 * });
 * const x = tensor([0, 2], { requiresGrad: true });
 * softplus(x).sum().backward();
 * x.grad!.toArray(); // [0.5, 0.8808]
 */
export function customOp<I extends Tensor[] = Tensor[]>(name: string, def: CustomOpDefinition<I>): (...inputs: I) => Tensor {
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) {
    throw new ArgumentError(
      'customOp',
      `name must be letters, digits, '_' or '.', starting with a letter or '_', got ${JSON.stringify(name)}`,
    );
  }
  if (isBuiltinOp(name)) {
    throw new ArgumentError(
      'customOp',
      `'${name}' is an op of @bp/tensor: choose another name (registerGradient('${name}', rule) replaces its gradient)`,
    );
  }
  if (def === null || typeof def !== 'object' || typeof def.forward !== 'function' || typeof def.backward !== 'function') {
    throw new ArgumentError('customOp', `the definition of '${name}' must be { forward, backward }, both functions`);
  }
  defineOpName(name);
  registerGradient(name, def.backward);
  const forward = def.forward;
  const op = (...inputs: I): Tensor => {
    inputs.forEach((t, i) => checkTensor(name, t, `input ${i}`));
    let out: unknown = noGrad(() => forward(...inputs));
    if (!(out instanceof Tensor)) throw new ArgumentError(name, `forward must return a Tensor, got ${out === null ? 'null' : typeof out}`);
    // An input handed back as it is: the op's output is a new tensor over the same values, so
    // recording never turns the input itself into a computed tensor.
    if (inputs.includes(out)) out = out.detach();
    return (record as (op: string, inputs: readonly Tensor[], output: Tensor) => Tensor)(name, inputs, out as Tensor);
  };
  Object.defineProperty(op, 'name', { value: name });
  return op;
}
