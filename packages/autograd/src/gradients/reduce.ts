import {
  arange,
  argmax,
  argmin,
  broadcastTo,
  cast,
  div,
  eq,
  isnan,
  maximum,
  mul,
  prod,
  reshape,
  sum,
  where,
  type ReduceAttrs,
  type Tensor,
} from '@bp/tensor';
import type { GradContext } from '../tape.js';
import type { GradientRules } from './registry.js';
import { keptShape } from './util.js';

/**
 * max/min over one axis given as a number send the gradient to the arg-max
 * (the first one on ties, as PyTorch's `max(dim)`); the full reduction and
 * lists of axes split it evenly among the tied extremes (as PyTorch's `max()`
 * and `amax`). A NaN is the extreme of its slice: the split goes to the NaNs there
 * (PyTorch's rule for `max()`: mask `x == out | (isnan(x) & isnan(out))`).
 */
function extremeRule(which: 'max' | 'min') {
  return (dy: Tensor, { inputs: [x], output, attrs }: GradContext<ReduceAttrs['max']>): Tensor[] => {
    const { axes, splitTies } = attrs;
    const kept = keptShape(x.shape, axes);
    const dyK = reshape(dy, kept);
    if (axes.length === 1 && !splitTies) {
      const a = axes[0];
      const idx = (which === 'max' ? argmax : argmin)(x, a, true);
      const pos = reshape(
        arange(x.shape[a]),
        x.shape.map((d, i) => (i === a ? d : 1)),
      );
      const mask = cast(eq(pos, idx), 'float32');
      return [mul(mask, dyK)];
    }
    const outK = reshape(output, kept);
    const mask = cast(maximum(eq(x, outK), mul(isnan(x), isnan(outK))), 'float32');
    const count = sum(mask, axes, true);
    return [div(mul(mask, dyK), count)];
  };
}

/** The gradient of every reduction. */
export const reduceGradients: GradientRules<keyof ReduceAttrs> = {
  sum: (dy, { inputs: [x], attrs: { axes } }) => [broadcastTo(reshape(dy, keptShape(x.shape, axes)), x.shape.slice())],
  // The product of the other factors: out / x where no factor is 0; where exactly one is, the
  // product of the rest at that factor and 0 elsewhere; 0 everywhere where several are (PyTorch's rule).
  prod: (dy, { inputs: [x], output, attrs: { axes } }) => {
    const kept = keptShape(x.shape, axes);
    const dyK = reshape(dy, kept);
    const isZero = eq(x, 0);
    const zeros = sum(isZero, axes, true);
    const restAtZero = prod(where(isZero, 1, x), axes, true);
    const atZero = where(eq(zeros, 1), restAtZero, 0);
    const elsewhere = where(eq(zeros, 0), div(reshape(output, kept), x), 0);
    return [mul(where(isZero, atZero, elsewhere), dyK)];
  },
  max: extremeRule('max'),
  min: extremeRule('min'),
};
