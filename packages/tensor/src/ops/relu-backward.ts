import { getBackend } from '../backend/registry.js';
import { ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { le, where } from './elementwise.js';
import { checkTensor, make } from './util.js';

/**
 * The gradient of {@link relu} for the gradient `dy` of its output: `0` where `x <= 0` (also
 * where `dy` is infinite or NaN), else `dy` (also where `x` is NaN), as in PyTorch. One pass over
 * both tensors on backends with a fused kernel; `where(le(x, 0), 0, dy)` elsewhere. Not itself
 * differentiable.
 */
export function reluBackward(dy: Tensor, x: Tensor): Tensor {
  checkTensor('reluBackward', dy, 'dy');
  checkTensor('reluBackward', x, 'x');
  if (dy.rank !== x.rank || dy.shape.some((d, i) => d !== x.shape[i])) {
    throw new ShapeError('reluBackward', `dy ${fmtShape(dy.shape)} must have the shape of x ${fmtShape(x.shape)}`);
  }
  const b = getBackend();
  const fused = b.fused?.reluBackward;
  if (fused && dy.dtype === 'float32' && x.dtype === 'float32') {
    return make(fused(dy._on(b), x._on(b), x.size), x.shape.slice(), 'float32');
  }
  return where(le(x, 0), 0, dy);
}
