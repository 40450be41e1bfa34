import { getBackend } from '../backend/registry.js';
import { record } from '../engine.js';
import { ArgumentError, ShapeError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor.js';
import { add, cast, mul, sqrt, sub, div } from './elementwise.js';
import { mean } from './reduce.js';
import { checkTensor, make, composite } from './util.js';

/**
 * Layer normalisation over the trailing axes named by `normalizedShape`
 * (PyTorch's `torch.nn.functional.layer_norm`): each slice over those axes is
 * shifted to mean 0 and scaled to variance 1 (the biased variance, as PyTorch),
 * `(x - mean) / sqrt(var + eps)`, then multiplied by `weight` and shifted by
 * `bias` when given (both of shape `normalizedShape`). A number `d` stands for `[d]`, as in PyTorch.
 *
 * On backends with a fused layer-norm kernel (the CPU backend) this is one recorded op:
 * one pass for the row statistics and the output forward, one for the gradients backward
 * (PyTorch's `native_layer_norm` and its backward). Elsewhere it is composed of the mean,
 * subtraction, square root and division ops, with the same values within float32 rounding.
 *
 * @example
 * layerNorm(x, [x.shape[x.rank - 1]]); // normalise each row of features
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  return composite([x, normalizedShape, weight, bias], () => {
    checkTensor('layerNorm', x);
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new ArgumentError('layerNorm', `normalizedShape must be an array of sizes, got ${JSON.stringify(shape)}`);
    }
    const k = shape.length;
    if (k === 0) throw new ArgumentError('layerNorm', 'normalizedShape must name at least one axis, got []');
    const tail = x.shape.slice(x.rank - k);
    if (x.rank < k || tail.some((d, i) => d !== shape[i])) {
      throw new ShapeError('layerNorm', `input ${fmtShape(x.shape)} does not end with normalizedShape ${fmtShape(shape)}`);
    }
    for (const [name, p] of [
      ['weight', weight],
      ['bias', bias],
    ] as const) {
      if (p === null || p === undefined) continue;
      checkTensor('layerNorm', p, name);
      if (p.rank !== k || p.shape.some((d, i) => d !== shape[i])) {
        throw new ShapeError('layerNorm', `${name} ${fmtShape(p.shape)} must have normalizedShape ${fmtShape(shape)}`);
      }
    }
    if (typeof eps !== 'number' || !(eps >= 0)) throw new ArgumentError('layerNorm', `eps must be a number >= 0, got ${String(eps)}`);
    const xf = x.dtype === 'float32' ? x : cast(x, 'float32');
    const be = getBackend();
    const fwd = be.fused?.layerNorm;
    const f32 = (p: Tensor | null): boolean => p === null || p === undefined || p.dtype === 'float32';
    if (fwd && be.fused?.layerNormBackward && f32(weight) && f32(bias)) {
      const cols = shape.reduce((a, d) => a * d, 1);
      const rows = cols === 0 ? 0 : xf.size / cols;
      const w = weight ?? null;
      const b = bias ?? null;
      const [y, mu, rstd] = fwd(xf._on(be), w ? w._on(be) : null, b ? b._on(be) : null, rows, cols, eps);
      const inputs = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
      return record('layerNorm', inputs, make(y, x.shape.slice(), 'float32'), { axes: k, eps, weight: w !== null, bias: b !== null }, [
        make(mu, [rows], 'float32'),
        make(rstd, [rows], 'float32'),
      ]);
    }
    const axes = Array.from({ length: k }, (_, i) => x.rank - k + i);
    const centred = sub(xf, mean(xf, axes, true));
    const variance = mean(mul(centred, centred), axes, true);
    let out = div(centred, sqrt(add(variance, eps)));
    if (weight) out = mul(out, weight);
    if (bias) out = add(out, bias);
    return out;
  });
}

/**
 * The gradients of the fused {@link layerNorm} for the output gradient `dy`, from the row
 * means and rstds it saved: `[dx, dweight, dbias]`, each only where `needs` holds (null
 * otherwise). `weight` is null when the layer norm had none. Internal (the gradient rule in
 * @bp/autograd); not itself differentiable.
 */
export function layerNormBackward(
  dy: Tensor,
  x: Tensor,
  weight: Tensor | null,
  mu: Tensor,
  rstd: Tensor,
  axes: number,
  needs: readonly [boolean, boolean, boolean],
): [Tensor | null, Tensor | null, Tensor | null] {
  const be = getBackend();
  const kernel = be.fused?.layerNormBackward;
  if (!kernel) throw new ArgumentError('layerNorm', `backend ${be.name} has no fused layerNormBackward kernel for a fused layerNorm`);
  const tail = x.shape.slice(x.rank - axes);
  const cols = tail.reduce((a, d) => a * d, 1);
  const rows = mu.size;
  const xf = x.dtype === 'float32' ? x : cast(x, 'float32');
  const g = dy.dtype === 'float32' ? dy : cast(dy, 'float32');
  const [dx, dw, db] = kernel(g._on(be), xf._on(be), weight ? weight._on(be) : null, mu._on(be), rstd._on(be), rows, cols, needs);
  return [
    dx === null ? null : make(dx, x.shape.slice(), 'float32'),
    dw === null ? null : make(dw, tail, 'float32'),
    db === null ? null : make(db, tail, 'float32'),
  ];
}

/** The layer-norm op as a `Tensor` method (`x.layerNorm([n])`). */
export const layerNormMethods = { layerNorm };
