import { elementwiseMethods } from './elementwise.js';
import { convMethods } from './conv.js';
import { indexingMethods } from './indexing.js';
import { matmulMethods } from './matmul.js';
import { movementMethods } from './movement.js';
import { nnMethods } from './nn.js';
import { reduceMethods } from './reduce.js';
import { activationMethods } from './activation.js';
import { statsMethods } from './stats.js';

/**
 * Every op that is also a `Tensor` method, by name: `x.op(...rest)` calls
 * `op(x, ...rest)`. Each op module lists its own; the `Tensor` interface is
 * derived from this table, so a function added to a module's list is a typed
 * method with no further edit.
 */
export function tensorMethods() {
  // A function, not a constant: built when called, after every op module has loaded, so an
  // import cycle through an op module cannot leave part of the table unevaluated.
  return {
    ...elementwiseMethods,
    ...reduceMethods,
    ...matmulMethods,
    ...movementMethods,
    ...nnMethods,
    ...indexingMethods,
    ...convMethods,
    ...activationMethods,
    ...statsMethods,
  };
}
