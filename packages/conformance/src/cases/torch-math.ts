import {
  acos, acosh, all, any, argmin, asin, asinh, atan, atanh, celu, clamp, copysign, cosh, cummax, cummin, cumprod, cumsum,
  elu, erf, exp2, gelu, hardsigmoid, hardswish, hardtanh, isfinite, isinf, isnan, lerp, log2, log10, logaddexp, logsigmoid,
  maximum, maxWithIndices, min, minimum, minWithIndices, mish, norm, prod, relu6, rsqrt, selu, silu, sinh, softplus,
  softsign, stack, std, tan, trunc, variance, type NormOrder, type Tensor,
} from '@bp/tensor';

type Axis = number | number[];
type RefOp = (xs: Tensor[], a: Record<string, unknown>) => Tensor;

const num = (a: Record<string, unknown>, k: string, d: number) => (a[k] as number | undefined) ?? d;
const axisOf = (a: Record<string, unknown>) => a.axis as Axis | undefined;
const keep = (a: Record<string, unknown>) => (a.keepDims as boolean | undefined) ?? false;
const order = (a: Record<string, unknown>): NormOrder => (a.p === 'inf' ? Infinity : ((a.p as NormOrder | undefined) ?? 2));

/** bp's side of the reference ops for the elementwise math, activations, reductions and scans. */
export const mathOps: Record<string, RefOp> = {
  prod: ([x], a) => prod(x, axisOf(a), keep(a)),
  min: ([x], a) => min(x, axisOf(a), keep(a)),
  maximum: ([a, b]) => maximum(a, b),
  minimum: ([a, b]) => minimum(a, b),
  clampT: ([x, lo, hi]) => clamp(x, lo, hi),
  tan: ([x]) => tan(x),
  asin: ([x]) => asin(x),
  acos: ([x]) => acos(x),
  atan: ([x]) => atan(x),
  sinh: ([x]) => sinh(x),
  cosh: ([x]) => cosh(x),
  asinh: ([x]) => asinh(x),
  acosh: ([x]) => acosh(x),
  atanh: ([x]) => atanh(x),
  erf: ([x]) => erf(x),
  trunc: ([x]) => trunc(x),
  rsqrt: ([x]) => rsqrt(x),
  log2: ([x]) => log2(x),
  log10: ([x]) => log10(x),
  exp2: ([x]) => exp2(x),
  copysign: ([a, b]) => copysign(a, b),
  logaddexp: ([a, b]) => logaddexp(a, b),
  lerp: ([a, b, w]) => lerp(a, b, w),
  lerpScalar: ([a, b], o) => lerp(a, b, o.weight as number),
  gelu: ([x], a) => gelu(x, { approximate: (a.approximate as 'none' | 'tanh' | undefined) ?? 'none' }),
  silu: ([x]) => silu(x),
  elu: ([x], a) => elu(x, num(a, 'alpha', 1)),
  celu: ([x], a) => celu(x, num(a, 'alpha', 1)),
  selu: ([x]) => selu(x),
  softplus: ([x], a) => softplus(x, { beta: num(a, 'beta', 1), threshold: num(a, 'threshold', 20) }),
  mish: ([x]) => mish(x),
  relu6: ([x]) => relu6(x),
  hardtanh: ([x], a) => hardtanh(x, num(a, 'min', -1), num(a, 'max', 1)),
  hardswish: ([x]) => hardswish(x),
  hardsigmoid: ([x]) => hardsigmoid(x),
  logsigmoid: ([x]) => logsigmoid(x),
  softsign: ([x]) => softsign(x),
  variance: ([x], a) => variance(x, axisOf(a), { correction: num(a, 'correction', 1), keepDims: keep(a) }),
  std: ([x], a) => std(x, axisOf(a), { correction: num(a, 'correction', 1), keepDims: keep(a) }),
  norm: ([x], a) => norm(x, order(a), axisOf(a), keep(a)),
  cumsum: ([x], a) => cumsum(x, a.axis as number),
  cumprod: ([x], a) => cumprod(x, a.axis as number),
  cummax: ([x], a) => cummax(x, a.axis as number).values,
  cummaxIndices: ([x], a) => cummax(x, a.axis as number).indices,
  cummin: ([x], a) => cummin(x, a.axis as number).values,
  maxWithIndices: ([x], a) => maxWithIndices(x, a.axis as number).values,
  minWithIndicesIndices: ([x], a) => minWithIndices(x, a.axis as number).indices,
  argmin: ([x], a) => argmin(x, a.axis as number),
  all: ([x], a) => all(x, axisOf(a), keep(a)),
  any: ([x], a) => any(x, axisOf(a), keep(a)),
  isfiniteAll: ([x]) => stack([isnan(x), isinf(x), isfinite(x)]),
};
