import {
  arange, argmax, argmin, broadcastTo, cast, div, eq, mul, reshape, sum, type ReduceAttrs, type Tensor,
} from '@bp/tensor';
import type { GradContext } from '../tape.js';
import type { GradientRules } from './registry.js';
import { keptShape } from './util.js';

/**
 * max/min over one axis send the gradient to the arg-max (the first one on
 * ties, as PyTorch's `max(dim)`); over several axes it is split evenly among
 * the tied extremes (as PyTorch's `amax`).
 */
function extremeRule(which: 'max' | 'min') {
  return (dy: Tensor, { inputs: [x], output, attrs }: GradContext<ReduceAttrs['max']>): Tensor[] => {
    const { axes } = attrs;
    const kept = keptShape(x.shape, axes);
    const dyK = reshape(dy, kept);
    if (axes.length === 1) {
      const a = axes[0];
      const idx = (which === 'max' ? argmax : argmin)(x, a, true);
      const pos = reshape(arange(x.shape[a]), x.shape.map((d, i) => (i === a ? d : 1)));
      const mask = cast(eq(pos, idx), 'float32');
      return [mul(mask, dyK)];
    }
    const mask = cast(eq(x, reshape(output, kept)), 'float32');
    const count = sum(mask, axes, true);
    return [div(mul(mask, dyK), count)];
  };
}

/** The gradient of every reduction. */
export const reduceGradients: GradientRules<keyof ReduceAttrs> = {
  sum: (dy, { inputs: [x], attrs: { axes } }) => [broadcastTo(reshape(dy, keptShape(x.shape, axes)), x.shape.slice())],
  prod: (dy, { inputs: [x], output, attrs: { axes } }) => {
    const kept = keptShape(x.shape, axes);
    return [div(mul(reshape(dy, kept), reshape(output, kept)), x)];
  },
  max: extremeRule('max'),
  min: extremeRule('min'),
};
