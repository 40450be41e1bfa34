/**
 * @bp/autograd: reverse-mode automatic differentiation for @bp/tensor.
 * Importing this package makes every op differentiable: tensors with
 * `requiresGrad: true` record the ops applied to them, and `backward()` walks
 * that graph in reverse, applying the chain rule.
 *
 * @example
 * import { tensor } from '@bp/tensor';
 * import '@bp/autograd';
 * const x = tensor(2, { requiresGrad: true });
 * x.pow(2).backward();
 * x.grad!.item(); // 4
 *
 * @packageDocumentation
 */
import { installAutograd } from '@bp/tensor/internal';
import { installGradients } from './gradients/registry.js';
import { gradientTable } from './gradients/table.js';
import { hooks } from './tape.js';

installGradients(gradientTable);
installAutograd(hooks);

export { noGrad, enableGrad, grad, valueAndGrad } from './functional.js';
export { gradcheck } from './gradcheck.js';
export { graphTensors, gradFn } from './graph.js';
export type { GradcheckOptions, GradcheckReport, GradcheckInput } from './gradcheck.js';
export { detectAnomaly, AnomalyError } from './anomaly.js';
export { registerGradient, listGradients } from './gradients/registry.js';
export { customOp } from './custom-op.js';
export type { CustomOpDefinition } from './custom-op.js';
export type { GradientRule, GradientRules } from './gradients/registry.js';
export type { GradContext, Node } from './tape.js';
export { sumToShape } from './gradients/util.js';
