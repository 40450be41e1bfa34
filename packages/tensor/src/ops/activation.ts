import { getBackend } from '../backend/registry.js';
import { record, willRecord } from '../engine.js';
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import {
  abs,
  add,
  cast,
  div,
  exp,
  expm1,
  ge,
  gt,
  le,
  log1p,
  lt,
  maximum,
  minimum,
  mul,
  neg,
  sigmoid,
  sub,
  tanh,
  where,
} from './elementwise.js';
import { checkTensor, make } from './util.js';

/*
 * Activations composed from elementwise ops: autograd differentiates them, and the way each is
 * composed gives PyTorch's gradient at its kinks. Branches a `where` does not pick are fed
 * harmless inputs (`safe` below), so that an overflow there cannot turn a zero gradient into NaN.
 */

function f32(op: string, x: Tensor): Tensor {
  checkTensor(op, x);
  return x.dtype === 'float32' ? x : cast(x, 'float32');
}

function finite(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ArgumentError(op, `${name} must be a finite number, got ${typeof v === 'number' ? v : typeof v}`);
  }
  return v;
}

/** `x` where `cond` holds, else `fill`: an input for the branch used where `cond` is false. */
function safe(cond: Tensor, x: Tensor, fill: number): Tensor {
  return where(cond, fill, x);
}

/** Options of {@link gelu}. */
export interface GeluOptions {
  /** `'none'` (default): `x Φ(x)` with the exact normal CDF; `'tanh'`: the tanh approximation. */
  approximate?: 'none' | 'tanh';
}

/** The float32 primitive `op` over `x` (float32), recorded as `op`. */
function primitive(op: 'gelu' | 'geluGrad', x: Tensor): Tensor {
  const b = getBackend();
  return record(op, [x], make(b.unary(op, x._on(b), x.size, 'float32'), x.shape.slice(), 'float32'));
}

/**
 * GELU, `x Φ(x)` (PyTorch's `gelu`): with `approximate: 'tanh'`,
 * `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`. Finite with a finite gradient at ±1e4.
 * The exact form is one pass (and its gradient another) in PyTorch's float32 steps, with an erf
 * within 1.4 float32 ulps (PyTorch's own vectorised float32 erf is an approximation too); as
 * PyTorch, it is NaN at -Infinity (`-Inf * 0`) and its gradient NaN at ±Infinity.
 */
export function gelu(x: Tensor, opts: GeluOptions = {}): Tensor {
  const xf = f32('gelu', x);
  const approximate = opts.approximate ?? 'none';
  if (approximate === 'tanh') {
    const inner = mul(add(xf, mul(mul(xf, mul(xf, xf)), 0.044715)), Math.sqrt(2 / Math.PI));
    return mul(mul(xf, 0.5), add(tanh(inner), 1));
  }
  if (approximate !== 'none') {
    throw new ArgumentError('gelu', `approximate must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`);
  }
  const b = getBackend();
  const fwd = b.fused?.geluForward;
  if (fwd && b.fused?.geluBackward && willRecord([xf])) {
    // The derivative, from the same erf, is saved for the gradient, which is then a product.
    const [y, grad] = fwd(xf._on(b), xf.size);
    return record('gelu', [xf], make(y, xf.shape.slice(), 'float32'), {}, [make(grad, xf.shape.slice(), 'float32')]);
  }
  return primitive('gelu', xf);
}

/**
 * The gradient of exact {@link gelu}, `dy * (Φ(x) + x φ(x))`, from the derivative `grad` the forward
 * pass saved: one product on backends with `fused.geluBackward`, else `dy * geluGrad(x)`; the same
 * bits either way. Internal (the gradient rule in @bp/autograd); not itself differentiable.
 */
export function geluBackward(dy: Tensor, x: Tensor, grad: Tensor): Tensor {
  const b = getBackend();
  const kernel = b.fused?.geluBackward;
  if (!kernel || dy.dtype !== 'float32') return mul(dy, geluGrad(x));
  return make(kernel(dy._on(b), grad._on(b), x.size), x.shape.slice(), 'float32');
}

/**
 * The derivative of exact {@link gelu} at `x`: `Φ(x) + x φ(x)` (float32, one pass; PyTorch's
 * `gelu_backward` is `dy` times it). NaN at ±Infinity and NaN, as PyTorch's. Differentiable:
 * its own derivative is `φ(x) (2 - x^2)`.
 */
export function geluGrad(x: Tensor): Tensor {
  return primitive('geluGrad', f32('geluGrad', x));
}

/** SiLU (swish), `x * sigmoid(x)`. */
export function silu(x: Tensor): Tensor {
  const xf = f32('silu', x);
  return mul(xf, sigmoid(xf));
}

/**
 * ELU: `x` for x > 0, `alpha (e^x - 1)` elsewhere (default alpha 1). Its gradient at 0 is
 * `alpha`, as PyTorch's.
 */
export function elu(x: Tensor, alpha = 1): Tensor {
  const xf = f32('elu', x);
  const a = finite('elu', 'alpha', alpha);
  // NaN takes the identity branch (the value stays NaN, the gradient is 1), as in PyTorch.
  const neg = le(xf, 0);
  return where(neg, mul(expm1(where(neg, xf, 0)), a), xf);
}

/**
 * CELU: `max(0, x) + min(0, alpha (e^(x/alpha) - 1))` (default alpha 1; alpha must not be 0).
 * Its gradient at 0 is 1, as PyTorch's.
 */
export function celu(x: Tensor, alpha = 1): Tensor {
  const xf = f32('celu', x);
  const a = finite('celu', 'alpha', alpha);
  if (a === 0) throw new ArgumentError('celu', 'alpha must not be 0');
  const neg = le(xf, 0);
  return where(neg, mul(expm1(div(where(neg, xf, 0), a)), a), xf);
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** SELU: `scale * elu(x, alpha)` with PyTorch's constants (alpha ≈ 1.6733, scale ≈ 1.0507). */
export function selu(x: Tensor): Tensor {
  checkTensor('selu', x);
  return mul(elu(x, SELU_ALPHA), SELU_SCALE);
}

/** Options of {@link softplus}. */
export interface SoftplusOptions {
  /** Sharpness (default 1). */
  beta?: number;
  /** Above `beta * x > threshold` the result is `x` itself (default 20). */
  threshold?: number;
}

/**
 * Softplus, `log(1 + e^(beta x)) / beta`, and `x` where `beta x > threshold` (PyTorch's
 * defaults: beta 1, threshold 20). Its gradient is `sigmoid(beta x)`, and 1 above the threshold.
 */
export function softplus(x: Tensor, opts: SoftplusOptions = {}): Tensor {
  const xf = f32('softplus', x);
  const beta = finite('softplus', 'beta', opts.beta ?? 1);
  const threshold = finite('softplus', 'threshold', opts.threshold ?? 20);
  if (beta === 0) throw new ArgumentError('softplus', 'beta must not be 0');
  const bx = mul(xf, beta);
  const linear = gt(bx, threshold);
  return where(linear, xf, div(log1p(exp(safe(linear, bx, 0))), beta));
}

/** Mish, `x * tanh(softplus(x))`. */
export function mish(x: Tensor): Tensor {
  const xf = f32('mish', x);
  return mul(xf, tanh(softplus(xf)));
}

/**
 * HardTanh: `x` clamped to `[min, max]` (default [-1, 1]). As PyTorch, the gradient is 1 strictly
 * inside and 0 at and beyond the bounds; NaN stays NaN with a zero gradient (as `clamp`, and
 * PyTorch's vectorised kernel; its scalar loop passes the gradient).
 */
export function hardtanh(x: Tensor, min = -1, max = 1): Tensor {
  const xf = f32('hardtanh', x);
  const lo = finite('hardtanh', 'min', min);
  const hi = finite('hardtanh', 'max', max);
  if (lo > hi) throw new ArgumentError('hardtanh', `min (${lo}) is greater than max (${hi})`);
  // Outside (lo, hi) the bound itself, or NaN at NaN, from the detached x: no gradient there.
  const inside = mul(gt(xf, lo), lt(xf, hi));
  return where(inside, xf, minimum(maximum(xf.detach(), lo), hi));
}

/** ReLU6, `min(max(x, 0), 6)`: {@link hardtanh} on [0, 6] (gradient 0 at 0, at 6 and at NaN). */
export function relu6(x: Tensor): Tensor {
  checkTensor('relu6', x);
  return hardtanh(x, 0, 6);
}

/**
 * Hardswish, `x * relu6(x + 3) / 6`. As PyTorch, the gradient is `x/3 + 1/2` on [-3, 3]
 * (so -1/2 at -3 and 3/2 at 3), 0 below and 1 above; hardswish(-Infinity) is NaN
 * (`-Infinity * 0`), as in PyTorch.
 */
export function hardswish(x: Tensor): Tensor {
  const xf = f32('hardswish', x);
  // The middle piece on x inside [-3, 3] only (0 elsewhere), so an infinite x gives no 0 * Infinity
  // in its gradient: there, and at NaN, the gradient is 1 (the last piece's), as in PyTorch.
  const xm = where(mul(ge(xf, -3), le(xf, 3)), xf, 0);
  const mid = div(mul(xm, add(xm, 3)), 6);
  // Below -3, x * 0 as PyTorch computes it: -0, and NaN at -Infinity (its gradient 0 all the same).
  return where(lt(xf, -3), mul(xf, 0), where(le(xf, 3), mid, xf));
}

/** Hardsigmoid, `relu6(x + 3) / 6`; as PyTorch, its gradient is 1/6 strictly inside (-3, 3), 0 elsewhere. */
export function hardsigmoid(x: Tensor): Tensor {
  const xf = f32('hardsigmoid', x);
  const inside = mul(gt(xf, -3), lt(xf, 3));
  // Outside (-3, 3): 0 at or below -3, 1 at or above 3, and NaN for NaN with a zero gradient (as PyTorch).
  return where(inside, add(div(xf, 6), 0.5), where(le(xf, -3), 0, where(ge(xf, 3), 1, mul(xf, 0))));
}

/** `log(sigmoid(x))`, computed as `min(x, 0) - log1p(e^-|x|)`: finite for any finite x. */
export function logsigmoid(x: Tensor): Tensor {
  const xf = f32('logsigmoid', x);
  return sub(minimum(xf, 0), log1p(exp(neg(abs(xf)))));
}

/** Softsign, `x / (1 + |x|)`. */
export function softsign(x: Tensor): Tensor {
  const xf = f32('softsign', x);
  return div(xf, add(abs(xf), 1));
}

/** The activations that are also `Tensor` methods (`x.gelu()`). */
export const activationMethods = {
  gelu,
  silu,
  elu,
  celu,
  selu,
  softplus,
  mish,
  hardtanh,
  relu6,
  hardswish,
  hardsigmoid,
  logsigmoid,
  softsign,
};
