import { ArgumentError, ShapeError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor.js';
import { add, cast, mul, sqrt, sub, div } from './elementwise.js';
import { mean } from './reduce.js';
import { checkTensor } from './util.js';

/**
 * Layer normalisation over the trailing axes named by `normalizedShape`
 * (PyTorch's `torch.nn.functional.layer_norm`): each slice over those axes is
 * shifted to mean 0 and scaled to variance 1 (the biased variance, as PyTorch),
 * `(x - mean) / sqrt(var + eps)`, then multiplied by `weight` and shifted by
 * `bias` when given (both of shape `normalizedShape`). Composed of ops, so
 * its gradient comes from theirs.
 *
 * @example
 * layerNorm(x, [x.shape[x.rank - 1]]); // normalise each row of features
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  checkTensor('layerNorm', x);
  if (!Array.isArray(normalizedShape) || normalizedShape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ArgumentError('layerNorm', `normalizedShape must be an array of sizes, got ${JSON.stringify(normalizedShape)}`);
  }
  const k = normalizedShape.length;
  if (k === 0) throw new ArgumentError('layerNorm', 'normalizedShape must name at least one axis, got []');
  const tail = x.shape.slice(x.rank - k);
  if (x.rank < k || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new ShapeError('layerNorm', `input ${fmtShape(x.shape)} does not end with normalizedShape ${fmtShape(normalizedShape)}`);
  }
  for (const [name, p] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (p === null || p === undefined) continue;
    checkTensor('layerNorm', p, name);
    if (p.rank !== k || p.shape.some((d, i) => d !== normalizedShape[i])) {
      throw new ShapeError('layerNorm', `${name} ${fmtShape(p.shape)} must have normalizedShape ${fmtShape(normalizedShape)}`);
    }
  }
  if (typeof eps !== 'number' || !(eps >= 0)) throw new ArgumentError('layerNorm', `eps must be a number >= 0, got ${String(eps)}`);
  const xf = x.dtype === 'float32' ? x : cast(x, 'float32');
  const axes = Array.from({ length: k }, (_, i) => x.rank - k + i);
  const centred = sub(xf, mean(xf, axes, true));
  const variance = mean(mul(centred, centred), axes, true);
  let out = div(centred, sqrt(add(variance, eps)));
  if (weight) out = mul(out, weight);
  if (bias) out = add(out, bias);
  return out;
}

/** The layer-norm op as a `Tensor` method (`x.layerNorm([n])`). */
export const layerNormMethods = { layerNorm };
