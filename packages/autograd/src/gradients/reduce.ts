import {
  arange, argmax, argmin, broadcastTo, cast, div, eq, mul, reshape, sum, type Tensor,
} from '@bp/tensor';
import { registerGradient } from './registry.js';
import { keptShape } from './util.js';

registerGradient('sum', (dy, { inputs: [x], attrs }) => {
  const axes = attrs.axes as number[];
  return [broadcastTo(reshape(dy, keptShape(x.shape, axes)), x.shape.slice())];
});

registerGradient('prod', (dy, { inputs: [x], output, attrs }) => {
  const kept = keptShape(x.shape, attrs.axes as number[]);
  return [div(mul(reshape(dy, kept), reshape(output, kept)), x)];
});

/**
 * max/min over one axis send the gradient to the arg-max (the first one on
 * ties, as PyTorch's `max(dim)`); over several axes it is split evenly among
 * the tied extremes (as PyTorch's `amax`).
 */
function extremeRule(which: 'max' | 'min') {
  return (dy: Tensor, { inputs: [x], output, attrs }: { inputs: readonly Tensor[]; output: Tensor; attrs: Record<string, unknown> }) => {
    const axes = attrs.axes as number[];
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
registerGradient('max', extremeRule('max'));
registerGradient('min', extremeRule('min'));
