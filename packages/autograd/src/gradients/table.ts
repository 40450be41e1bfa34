import type { OpName } from '@bp/tensor';
import { elementwiseGradients } from './elementwise.js';
import { matmulGradients } from './matmul.js';
import { movementGradients } from './movement.js';
import { nnGradients } from './nn.js';
import { reduceGradients } from './reduce.js';
import type { GradientRules } from './registry.js';

/**
 * The gradient rule of every op @bp/tensor records. Its type lists every op
 * name, so an op added to @bp/tensor without a rule here fails to typecheck.
 */
export const gradientTable: GradientRules<OpName> = {
  ...elementwiseGradients,
  ...reduceGradients,
  ...matmulGradients,
  ...movementGradients,
  ...nnGradients,
};
