import type { BinaryOp, UnaryOp } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { promote, type DType } from '../dtype.js';
import { UNARY_OPS, type UnaryDef } from '../backend/unary-ops.js';
import { record, type NoAttrs } from '../engine.js';
import { valueChecksOn } from '../debug-checks.js';
import { ArgumentError, DTypeError, fmtShape } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { checkInt32Scalar, checkTensor, make, toTensor, composite } from './util.js';

/** The recorded elementwise ops: every unary and binary primitive, `cast`, `identity` and `where`. None has attributes. */
export type ElementwiseAttrs = { [K in UnaryOp | BinaryOp | 'cast' | 'identity' | 'where']: NoAttrs };

/** Runs the primitive `op` (defined in backend/unary-ops.ts) on every element and records it. */
function unaryOp(op: UnaryOp, x: Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new ArgumentError(op, `expected a Tensor, got ${typeof x}`);
  x._live(op);
  const def: UnaryDef = UNARY_OPS[op];
  const dtype: DType = def.keepsInt ? x.dtype : 'float32';
  const src = x.dtype === dtype ? x : cast(x, dtype);
  const b = getBackend();
  const out = make(b.unary(op, src._on(b), x.size, dtype), x.shape.slice(), dtype);
  return record(op, [x], out);
}

function binaryOp(op: BinaryOp, a: TensorLike, b: TensorLike, outDtype?: DType): Tensor {
  const ta = toTensor(op, a, b instanceof Tensor ? b : undefined);
  const tb = toTensor(op, b, ta);
  const outShape = broadcastShapes(op, ta.shape, tb.shape);
  const inDtype = promote(ta.dtype, tb.dtype);
  const dtype = outDtype ?? inDtype;
  const ca = ta.dtype === inDtype ? ta : cast(ta, inDtype);
  const cb = tb.dtype === inDtype ? tb : cast(tb, inDtype);
  const be = getBackend();
  const s = be.binary(op, ca._on(be), ca.shape, inDtype, cb._on(be), cb.shape, inDtype, outShape, dtype);
  const out = record(op, [ta, tb], make(s, outShape, dtype));
  // A number operand's tensor (and a cast made here) is this call's own: released now unless the
  // graph keeps it for the gradient, not left for the garbage collector (which does not see a GPU's memory).
  if (!out.requiresGrad) {
    for (const t of [ta, tb, ca, cb]) if (t !== a && t !== b && !t.isDisposed) t.dispose();
  }
  return out;
}

/** Elementwise `a + b` with NumPy broadcasting. */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('add', a, b);
}
/** Elementwise `a - b` with NumPy broadcasting. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('sub', a, b);
}
/** Elementwise `a * b` with NumPy broadcasting. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('mul', a, b);
}
/** Elementwise true division `a / b` (float32 even for int32 inputs). */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('div', a, b, 'float32');
}
/**
 * Elementwise `a ** b` with NumPy broadcasting, with C's (and PyTorch's) special values: `1 ** y`
 * is 1 for every `y` (NaN and infinities included) and `(-1) ** ±Infinity` is 1, where
 * JavaScript's `Math.pow` gives NaN; a negative base to a non-integer power is NaN.
 */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  // As PyTorch: an int32 tensor to a negative integer (a number) would truncate to 0 or 1.
  if (a instanceof Tensor && a.dtype === 'int32' && typeof b === 'number' && Number.isInteger(b) && b < 0) {
    throw new ArgumentError(
      'pow',
      `integers to negative integer powers are not allowed: int32 ${fmtShape(a.shape)} ** ${b} (cast to float32 first)`,
    );
  }
  return binaryOp('pow', a, b);
}
/** Elementwise larger value (NaN wins); on ties each side gets half the gradient, as PyTorch. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('maximum', a, b);
}
/** Elementwise smaller value (NaN wins); on ties each side gets half the gradient, as PyTorch. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('minimum', a, b);
}
/** `1` where `a == b`, else `0`, as int32. */
export function eq(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('eq', a, b, 'int32');
}
/** `1` where `a != b`, else `0`, as int32. */
export function ne(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('ne', a, b, 'int32');
}
/** `1` where `a > b`, else `0`, as int32. */
export function gt(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('gt', a, b, 'int32');
}
/** `1` where `a < b`, else `0`, as int32. */
export function lt(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('lt', a, b, 'int32');
}
/** `1` where `a >= b`, else `0`, as int32. */
export function ge(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('ge', a, b, 'int32');
}
/** `1` where `a <= b`, else `0`, as int32. */
export function le(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('le', a, b, 'int32');
}

/** `-x` (keeps int32). */
export function neg(x: Tensor): Tensor {
  return unaryOp('neg', x);
}
/**
 * `e ** x`. On the CPU backend computed in float32 steps (four lanes at a time on the SIMD
 * kernels, the same bits without them): within 1.1 ulps of the exact value, subnormal results
 * kept, Infinity from about 88.73.
 */
export function exp(x: Tensor): Tensor {
  return unaryOp('exp', x);
}
/**
 * Natural logarithm (`-Infinity` at 0, NaN below). On the CPU backend in float32 steps (four lanes
 * at a time on the SIMD kernels, the same bits without them): within an ulp of the exact value,
 * subnormal inputs included.
 */
export function log(x: Tensor): Tensor {
  return unaryOp('log', x);
}
/** Square root. */
export function sqrt(x: Tensor): Tensor {
  return unaryOp('sqrt', x);
}
/** `x * x` (keeps int32). */
export function square(x: Tensor): Tensor {
  return unaryOp('square', x);
}
/** Absolute value (keeps int32). */
export function abs(x: Tensor): Tensor {
  return unaryOp('abs', x);
}
/** `max(x, 0)` (keeps int32). */
export function relu(x: Tensor): Tensor {
  return unaryOp('relu', x);
}
/**
 * Logistic sigmoid `1 / (1 + e^-x)`, stable for large |x| (computed as `e^x / (1 + e^x)` below 0).
 * On the CPU backend in float32 steps: within 2.5 ulps of the exact value.
 */
export function sigmoid(x: Tensor): Tensor {
  return unaryOp('sigmoid', x);
}
/**
 * Hyperbolic tangent. On the CPU backend in float32 steps: an odd polynomial below 0.625 in
 * magnitude (small values keep their relative accuracy), `1 - 2 / (e^2|x| + 1)` from there;
 * within 1.5 ulps of the exact value.
 */
export function tanh(x: Tensor): Tensor {
  return unaryOp('tanh', x);
}
/** `-1`, `0` or `1` by the sign of x (no gradient). */
export function sign(x: Tensor): Tensor {
  return unaryOp('sign', x);
}
/** `1` where x > 0, else `0` (the derivative of relu; no gradient). */
export function step(x: Tensor): Tensor {
  return unaryOp('step', x);
}
/** Sine (radians). */
export function sin(x: Tensor): Tensor {
  return unaryOp('sin', x);
}
/** Cosine (radians). */
export function cos(x: Tensor): Tensor {
  return unaryOp('cos', x);
}
/** Largest integer not above x (keeps int32; zero gradient). */
export function floor(x: Tensor): Tensor {
  return x instanceof Tensor && x.dtype === 'int32' ? x : unaryOp('floor', x);
}
/** Smallest integer not below x (keeps int32; zero gradient). */
export function ceil(x: Tensor): Tensor {
  return x instanceof Tensor && x.dtype === 'int32' ? x : unaryOp('ceil', x);
}
/** Nearest integer, halves to even as PyTorch's `round` (keeps int32; zero gradient). */
export function round(x: Tensor): Tensor {
  return x instanceof Tensor && x.dtype === 'int32' ? x : unaryOp('round', x);
}
/**
 * `log(1 + x)`, accurate near 0. On the CPU backend in float32 steps (the logarithm of the rounded
 * `1 + x` plus what the rounding lost), on the SIMD kernels for large tensors: within 2 ulps.
 */
export function log1p(x: Tensor): Tensor {
  return unaryOp('log1p', x);
}
/**
 * `exp(x) - 1`, accurate near 0. On the CPU backend in float32 steps (`(2^k - 1) + 2^k (e^r - 1)`
 * for `x = k ln 2 + r`), on the SIMD kernels for large tensors: within 2 ulps.
 */
export function expm1(x: Tensor): Tensor {
  return unaryOp('expm1', x);
}
/** `1 / x` (always float32). */
export function reciprocal(x: Tensor): Tensor {
  return unaryOp('reciprocal', x);
}
/** Tangent (radians); its gradient is `1 + tan(x)^2`. */
export function tan(x: Tensor): Tensor {
  return unaryOp('tan', x);
}
/** Arcsine, in `[-pi/2, pi/2]`; NaN outside `[-1, 1]`. */
export function asin(x: Tensor): Tensor {
  return unaryOp('asin', x);
}
/** Arccosine, in `[0, pi]`; NaN outside `[-1, 1]`. */
export function acos(x: Tensor): Tensor {
  return unaryOp('acos', x);
}
/** Arctangent, in `(-pi/2, pi/2)`. */
export function atan(x: Tensor): Tensor {
  return unaryOp('atan', x);
}
/** Hyperbolic sine (finite up to |x| of about 89.4 in float32, as PyTorch). */
export function sinh(x: Tensor): Tensor {
  return unaryOp('sinh', x);
}
/** Hyperbolic cosine. */
export function cosh(x: Tensor): Tensor {
  return unaryOp('cosh', x);
}
/** Inverse hyperbolic sine. */
export function asinh(x: Tensor): Tensor {
  return unaryOp('asinh', x);
}
/** Inverse hyperbolic cosine; NaN below 1. */
export function acosh(x: Tensor): Tensor {
  return unaryOp('acosh', x);
}
/** Inverse hyperbolic tangent; `±Infinity` at ±1, NaN beyond. */
export function atanh(x: Tensor): Tensor {
  return unaryOp('atanh', x);
}
/** The error function `2/sqrt(pi) ∫₀ˣ e^(-t²) dt`, within 1.4 float32 ulps (as the CPU computes it). */
export function erf(x: Tensor): Tensor {
  return unaryOp('erf', x);
}
/** Rounds toward zero (keeps int32; zero gradient). */
export function trunc(x: Tensor): Tensor {
  return x instanceof Tensor && x.dtype === 'int32' ? x : unaryOp('trunc', x);
}
/** `1 / sqrt(x)` (`Infinity` at 0, NaN below). */
export function rsqrt(x: Tensor): Tensor {
  return unaryOp('rsqrt', x);
}
/** Base-2 logarithm. */
export function log2(x: Tensor): Tensor {
  return unaryOp('log2', x);
}
/** Base-10 logarithm (`-Infinity` at 0, NaN below), as PyTorch's `log10`. */
export function log10(x: Tensor): Tensor {
  return unaryOp('log10', x);
}
/** `2 ** x`. */
export function exp2(x: Tensor): Tensor {
  return unaryOp('exp2', x);
}

/** 1 where the sign bit of `b` is set (negative, -0 or -Infinity), else 0, as int32; NaN counts as positive. */
function signBit(b: Tensor): Tensor {
  return maximum(lt(b, 0), mul(eq(b, 0), lt(div(1, b), 0)));
}

/**
 * `|a|` with the sign of `b`, broadcast (float32). A -0 in `b` gives a negative result, as
 * PyTorch (a NaN in `b` counts as positive: its sign bit cannot be read). The gradient of `a` is
 * `sign(a) * sign(b)` (0 at a = 0, as PyTorch); that of `b` is 0, and the op is recorded when
 * either input requires a gradient (so `b` alone gets zeros, as PyTorch).
 */
export function copysign(a: TensorLike, b: TensorLike): Tensor {
  const ta = toTensor('copysign', a, b instanceof Tensor ? b : undefined);
  const tb = toTensor('copysign', b, ta);
  broadcastShapes('copysign', ta.shape, tb.shape);
  const af = ta.dtype === 'float32' ? ta : cast(ta, 'float32');
  const mag = abs(af);
  const out = where(signBit(tb), neg(mag), mag);
  // The sign is read by comparisons, which record nothing: `b` joins the graph through a zero term
  // (step(b) is 0 or 1, so the term is 0, and subtracting it keeps a -0 result).
  return tb.requiresGrad ? sub(out, mul(step(tb), 0)) : out;
}

/**
 * `log(exp(a) + exp(b))`, broadcast, computed as `max + log1p(exp(-|a - b|))` so that it
 * never overflows (logaddexp(1e4, 1e4) = 1e4 + ln 2); equal infinities give that infinity.
 * Gradients `exp(a - out)` and `exp(b - out)`: half each where a = b.
 */
export function logaddexp(a: TensorLike, b: TensorLike): Tensor {
  const ta = toTensor('logaddexp', a, b instanceof Tensor ? b : undefined);
  const tb = toTensor('logaddexp', b, ta);
  broadcastShapes('logaddexp', ta.shape, tb.shape);
  const m = maximum(ta, tb);
  // a - b is NaN for equal infinities; there the result is the infinity itself.
  const d = where(eq(ta, tb), 0, sub(ta, tb));
  return add(m, log1p(exp(neg(abs(d)))));
}

/**
 * Linear interpolation `start + weight * (end - start)`, all three broadcast; `weight` a
 * number or a tensor. As PyTorch, weights of 0.5 and above use `end - (end - start) * (1 - weight)`
 * so that weight 1 gives `end` exactly. Gradients: `1 - weight`, `weight`, `end - start`.
 */
export function lerp(start: Tensor, end: TensorLike, weight: TensorLike): Tensor {
  checkTensor('lerp', start, 'start');
  const te = toTensor('lerp', end, start);
  const tw = toTensor('lerp', weight, start);
  broadcastShapes('lerp', broadcastShapes('lerp', start.shape, te.shape), tw.shape);
  const diff = sub(te, start);
  const low = lt(tw, 0.5);
  // Each formula sees the difference only where it is the one taken: elsewhere its gradient of 0
  // would meet an infinite difference (0 * Infinity = NaN in the weight's gradient).
  const dLow = where(low, diff, 0);
  const dHigh = where(low, 0, diff);
  return where(low, add(start, mul(tw, dLow)), sub(te, mul(dHigh, sub(1, tw))));
}

/** 1 where `x` is NaN, else 0, as int32 (like the comparisons; no gradient). */
export function isnan(x: Tensor): Tensor {
  checkTensor('isnan', x);
  return ne(x, x);
}

/** 1 where `x` is `±Infinity`, else 0, as int32. */
export function isinf(x: Tensor): Tensor {
  checkTensor('isinf', x);
  return eq(abs(x), Infinity);
}

/** 1 where `x` is neither NaN nor infinite, else 0, as int32. */
export function isfinite(x: Tensor): Tensor {
  checkTensor('isfinite', x);
  return eq(sub(x, x), 0);
}

/** `x` where positive, else `slope * x`. */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  checkTensor('leakyRelu', x);
  if (!Number.isFinite(slope)) throw new ArgumentError('leakyRelu', `slope must be a finite number, got ${slope}`);
  return where(gt(x, 0), x, mul(x, slope));
}

/**
 * Converts to `dtype` (float to int32 truncates toward zero; int32 to float is exact below 2^24).
 * A float with no int32 value (NaN, ±Infinity, beyond -2^31 .. 2^31 - 1) throws a `DTypeError`
 * naming it where value checks run ({@link setDebugChecks}: by default on the CPU backend); where
 * they do not, its int32 is unspecified (PyTorch's too).
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkTensor('cast', x);
  if (dtype !== 'float32' && dtype !== 'int32') throw new DTypeError('cast', `unknown dtype '${String(dtype)}'; use 'float32' or 'int32'`);
  if (x.dtype === dtype) return x;
  const b = getBackend();
  if (dtype === 'int32' && valueChecksOn(b)) {
    const values = x.dataSync();
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      // Truncated toward zero, -2147483648.9 still fits; NaN fails both comparisons.
      if (!(v > -2147483649 && v < 2147483648)) {
        throw new DTypeError('cast', `value ${v} at index ${i} of ${fmtShape(x.shape)} has no int32 value (-2147483648 .. 2147483647)`);
      }
    }
  }
  const out = make(b.cast(x._on(b), x.size, x.dtype, dtype), x.shape.slice(), dtype);
  return record('cast', [x], out);
}

/** A copy of `x` in new storage (gradients flow through it). */
export function clone(x: Tensor): Tensor {
  const b = getBackend();
  const out = make(b.cast(x._on(b), x.size, x.dtype, x.dtype), x.shape.slice(), x.dtype);
  return record('identity', [x], out);
}

/** Picks `a` where `cond` is non-zero and `b` elsewhere, broadcasting all three. */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const tc = toTensor('where', cond);
  const ta = toTensor('where', a, b instanceof Tensor ? b : undefined);
  const tb = toTensor('where', b, ta);
  const outShape = broadcastShapes('where', broadcastShapes('where', tc.shape, ta.shape), tb.shape);
  const dtype = promote(ta.dtype, tb.dtype);
  const ca = ta.dtype === dtype ? ta : cast(ta, dtype);
  const cb = tb.dtype === dtype ? tb : cast(tb, dtype);
  const be = getBackend();
  const s = be.where(tc._on(be), tc.shape, ca._on(be), ca.shape, cb._on(be), cb.shape, outShape, dtype);
  return record('where', [tc, ta, tb], make(s, outShape, dtype));
}

/**
 * The method form of {@link where}, in PyTorch's order: `x.where(condition, other)` keeps `x`
 * where `condition` is non-zero and takes `other` elsewhere (`where(condition, x, other)`).
 */
function whereMethod(x: Tensor, condition: TensorLike, other: TensorLike): Tensor {
  return where(condition, x, other);
}

/**
 * Limits values to `[min, max]`; each bound is a number, a tensor (broadcast with `x`), or
 * null/undefined for none. As PyTorch, the result is `minimum(maximum(x, min), max)`: where
 * `min > max` every value becomes `max` (not an error), and NaN stays NaN. A NaN bound gives NaN
 * wherever it applies when it is a tensor, or when both bounds are numbers; a lone number bound
 * that is NaN leaves `x` as it is (PyTorch's `clamp_min` / `clamp_max`). The gradient, as
 * PyTorch's: `x` gets it where `min <= x <= max` (so not where `x` is NaN); a tensor `min` where
 * `x < min < max`; a tensor `max` where `x > max` or `max < min` (and with `min == max` and `x`
 * below both, no one does).
 */
export function clamp(x: Tensor, min?: TensorLike | null, max?: TensorLike | null): Tensor {
  return composite([x, min, max], () => {
    checkTensor('clamp', x);
    for (const [name, v] of [
      ['min', min],
      ['max', max],
    ] as const) {
      if (v != null && typeof v !== 'number' && !(v instanceof Tensor)) {
        throw new ArgumentError('clamp', `${name} must be a number, a Tensor or null, got ${Array.isArray(v) ? 'an array' : typeof v}`);
      }
    }
    // An integer bound of an int32 tensor stays int32: refused where it does not fit (it would wrap), as PyTorch.
    if (x.dtype === 'int32') {
      if (typeof min === 'number' && Number.isInteger(min)) checkInt32Scalar('clamp', 'min', min);
      if (typeof max === 'number' && Number.isInteger(max)) checkInt32Scalar('clamp', 'max', max);
    }
    let shape = x.shape;
    for (const v of [min, max]) if (v instanceof Tensor) shape = broadcastShapes('clamp', shape, v.shape);
    if (min == null && max == null) return x;
    if (typeof min === 'number' && typeof max === 'number' && (Number.isNaN(min) || Number.isNaN(max))) return add(mul(x, 0), NaN);
    let r = clampBounds(x, min, max);
    // NaN compares false, so clampBounds passes over a NaN in a tensor bound: it wins here.
    for (const v of [min, max]) if (v instanceof Tensor && v.dtype === 'float32') r = where(isnan(v), v, r);
    return r;
  });
}

/** {@link clamp} by PyTorch's four cases, a NaN in a tensor bound aside. */
function clampBounds(x: Tensor, min: TensorLike | null | undefined, max: TensorLike | null | undefined): Tensor {
  // NaN compares false everywhere: it stays NaN, taken from `xd`, which passes no gradient (as PyTorch's).
  const xd = x.detach();
  if (max == null) return where(ge(x, min!), x, where(lt(x, min!), min!, xd));
  if (min == null) return where(le(x, max), x, where(gt(x, max), max, xd));
  // Two number bounds in order (the usual case): x on [min, max] keeps x and its gradient, above
  // max takes max, and the rest is max(xd, min): min below it, NaN at NaN, no gradient. The same
  // values and gradient as the general rule below, in five ops instead of twelve.
  if (typeof min === 'number' && typeof max === 'number' && min <= max) {
    return where(ge(x, min), where(gt(x, max), max, x), maximum(xd, min));
  }
  // Each cell takes x, min, max, or max's value without a gradient: the four cases of PyTorch's rule.
  const inside = mul(ge(x, min), le(x, max));
  const toMin = mul(lt(x, min), lt(min, max));
  const toMax = maximum(gt(x, max), lt(max, min));
  const tail = max instanceof Tensor ? max.detach() : max;
  return where(inside, x, where(ne(x, x), xd, where(toMin, min, where(toMax, max, tail))));
}

/** @internal The elementwise ops that are also `Tensor` methods (`a.add(b)`, `x.sin()`). */
export const elementwiseMethods = {
  add,
  sub,
  mul,
  div,
  pow,
  maximum,
  minimum,
  eq,
  ne,
  gt,
  lt,
  ge,
  le,
  neg,
  exp,
  log,
  sqrt,
  square,
  abs,
  relu,
  leakyRelu,
  sigmoid,
  tanh,
  sign,
  step,
  sin,
  cos,
  floor,
  ceil,
  round,
  log1p,
  expm1,
  reciprocal,
  cast,
  where: whereMethod,
  clamp,
  tan,
  asin,
  acos,
  atan,
  sinh,
  cosh,
  asinh,
  acosh,
  atanh,
  erf,
  trunc,
  rsqrt,
  log2,
  log10,
  exp2,
  copysign,
  logaddexp,
  lerp,
  isnan,
  isinf,
  isfinite,
};
