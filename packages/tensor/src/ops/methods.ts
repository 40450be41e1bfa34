import { elementwiseMethods } from './elementwise.js';
import { matmulMethods } from './matmul.js';
import { movementMethods } from './movement.js';
import { nnMethods } from './nn.js';
import { reduceMethods } from './reduce.js';
import { layerNormMethods } from './layer-norm.js';
import { attentionMethods } from './attention.js';

/**
 * Every op that is also a `Tensor` method, by name: `x.op(...rest)` calls
 * `op(x, ...rest)`. Each op module lists its own; the `Tensor` interface is
 * derived from this table, so a function added to a module's list is a typed
 * method with no further edit.
 */
export const tensorMethods = {
  ...elementwiseMethods,
  ...reduceMethods,
  ...matmulMethods,
  ...movementMethods,
  ...nnMethods,
  ...layerNormMethods,
  ...attentionMethods,
};
