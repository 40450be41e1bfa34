/**
 * Every elementwise primitive of one input, defined once: `f` is its value on one
 * number (float64 arithmetic, rounded to float32 on store), which the CPU backend
 * runs and every test compares with. `keepsInt` ops keep int32 inputs int32 (the rest
 * compute in float32). `gpu`, when given, is the same function as the body of a
 * gpu.js kernel over `v`; it may read the arguments `inf` and `nan` (Infinity and NaN,
 * since shader compilers may fold `inf - inf` to 0). GPU backends use their own careful
 * forms where they have one, this body next, and `f` on the host last.
 *
 * Adding an entry here is all a new primitive needs from the backends; its front-end
 * function and gradient rule go in ops/elementwise.ts and @bp/autograd.
 */
export interface UnaryDef {
  readonly f: (x: number) => number;
  readonly keepsInt?: boolean;
  readonly gpu?: string;
}

const f32 = Math.fround;

/**
 * The error function in float64, far below float32's rounding: its Maclaurin series for
 * |x| < 2.5 (alternating terms stay below 20, so about 1e-15 is lost), and 1 - erfc(|x|)
 * from erfc's continued fraction (60 terms, evaluated from the tail) beyond. Slow (up to
 * 60 terms a value): {@link erfF32} evaluates fits made from it.
 */
function erfSeries(x: number): number {
  if (Number.isNaN(x)) return x;
  const a = Math.abs(x);
  if (a < 2.5) {
    const z = a * a;
    let term = a;
    let total = a;
    for (let n = 1; n < 60; n++) {
      term *= -z / n;
      const add = term / (2 * n + 1);
      total += add;
      if (Math.abs(add) < 1e-17 * Math.abs(total)) break;
    }
    const r = total * 1.1283791670955126; // 2 / sqrt(pi)
    return x < 0 ? -r : r;
  }
  // erfc(a) = exp(-a^2) / sqrt(pi) / (a + (1/2) / (a + 1 / (a + (3/2) / (a + 2 / (a + ...)))))
  let f = a;
  for (let n = 60; n >= 1; n--) f = a + n / 2 / f;
  const r = 1 - Math.exp(-a * a) / (1.7724538509055159 * f);
  return x < 0 ? -r : r;
}

/**
 * The first `keep` Chebyshev coefficients of `g` on `[lo, hi]`, from its values at `n`
 * Chebyshev nodes.
 */
function chebyshevFit(g: (x: number) => number, lo: number, hi: number, n: number, keep: number): Float64Array {
  const values = new Float64Array(n);
  for (let j = 0; j < n; j++) values[j] = g(((hi - lo) / 2) * Math.cos((Math.PI * (j + 0.5)) / n) + (hi + lo) / 2);
  const c = new Float64Array(keep);
  for (let k = 0; k < keep; k++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += values[j] * Math.cos((Math.PI * k * (j + 0.5)) / n);
    c[k] = ((k === 0 ? 1 : 2) / n) * s;
  }
  return c;
}

/** The coefficients of `sum_k c[k] T_k(t)` in powers of `t` (T_k: Chebyshev polynomials), `size` of them. */
function powersOf(c: Float64Array, size: number): Float64Array {
  const out = new Float64Array(size);
  let prev = new Float64Array(size); // T_{k-1}
  let cur = new Float64Array(size); // T_k
  cur[0] = 1;
  for (let k = 0; k < c.length; k++) {
    for (let j = 0; j < size; j++) out[j] += c[k] * cur[j];
    // T_1 = t, T_{k+1} = 2 t T_k - T_{k-1}
    const next = new Float64Array(size);
    for (let j = 0; j < size; j++) next[j] = (j === 0 ? 0 : k === 0 ? cur[j - 1] : 2 * cur[j - 1]) - prev[j];
    prev = cur;
    cur = next;
  }
  return out;
}

/**
 * `p(t)` for the 16 coefficients of `p` at `a[o..o+15]` (lowest power first), in Estrin's
 * order: pairs, then pairs of pairs, so the multiply-adds form four short chains instead of
 * one of 15 steps.
 */
function poly16(a: Float64Array, o: number, t: number): number {
  const t2 = t * t;
  const t4 = t2 * t2;
  const q0 = a[o] + a[o + 1] * t + (a[o + 2] + a[o + 3] * t) * t2;
  const q1 = a[o + 4] + a[o + 5] * t + (a[o + 6] + a[o + 7] * t) * t2;
  const q2 = a[o + 8] + a[o + 9] * t + (a[o + 10] + a[o + 11] * t) * t2;
  const q3 = a[o + 12] + a[o + 13] * t + (a[o + 14] + a[o + 15] * t) * t2;
  return q0 + q1 * t4 + (q2 + q3 * t4) * (t4 * t4);
}

// e^r = sum r^j / j!, j < 14 (the rest are below 1e-17 for |r| <= ln(2) / 2), then zeros: the
// powers of the exponential {@link expNonPositive} uses.
const EXP_POWERS = Float64Array.from({ length: 16 }, (_, j) => (j < 14 ? 1 / factorial(j) : 0));

function factorial(j: number): number {
  let f = 1;
  for (let i = 2; i <= j; i++) f *= i;
  return f;
}

/** The coefficients in powers of `u = x - shift` of the Chebyshev fit of `g` on `[lo, hi]` with `terms` terms. */
function fitIn(g: (x: number) => number, lo: number, hi: number, terms: number, shift: number): Float64Array {
  // The fit is a polynomial in t = s (x - mid) = s u + d; expand it in u (Horner on polynomials).
  const p = powersOf(chebyshevFit(g, lo, hi, 32, terms), terms);
  const s = 2 / (hi - lo);
  const d = s * (shift - (lo + hi) / 2);
  let q = new Float64Array(terms);
  for (let j = terms - 1; j >= 0; j--) {
    const next = new Float64Array(terms);
    for (let i = 0; i < terms; i++) next[i] += q[i] * d + (i > 0 ? q[i - 1] * s : 0);
    next[0] += p[j];
    q = next;
  }
  return q;
}

/** Terms of each piece of GELU's float32 erf (degree 9). */
const ERF32_TERMS = 10;
/** From this |x| on, GELU's float32 erf is ±1: erfc(3.92) is below half a float32 step under 1. */
const ERF32_ONE = f32(3.92);
/** The float32 exponential GELU's gradient uses is 0 below this (e^y would leave float32's normal range). */
const EXP32_FLOOR = f32(-87.33654);

/**
 * @internal The float32 tables of GELU, for the CPU's TypeScript loop and its WebAssembly kernels
 * alike: rows of four floats, one per piece of erf on |x| in [0, 1), [1, 2), [2, 3) and [3, 3.92).
 * Row 0 holds each piece's shift (the piece on [0, 1) is a polynomial in x^2, the others in
 * |x| - shift, both exact in float32); row 1 the constant term rounded to float32 and row 2 what that
 * rounding left out; rows 3 to 11 the coefficients of powers 1 to 9. Rows 12 to 16 hold the
 * coefficients of `(e^r - 1 - r) / r^2` (powers 0 to 4) for the exponential, in every lane. The
 * piece on [0, 1) fits `erf(x) / x - 1` (so erf is `x + x p(x^2)`, which keeps small arguments'
 * relative accuracy); the others fit erf. Fitted from the float64 series when the module loads.
 */
export const GELU_TABLE = ((): Float32Array => {
  const pieces = [
    fitIn((z) => (z === 0 ? 2 / Math.sqrt(Math.PI) : erfSeries(Math.sqrt(z)) / Math.sqrt(z)) - 1, 0, 1, ERF32_TERMS, 0),
    fitIn(erfSeries, 1, 2, ERF32_TERMS, 1.5),
    fitIn(erfSeries, 2, 3, ERF32_TERMS, 2.5),
    fitIn(erfSeries, 3, 3.92, ERF32_TERMS, 3.5),
  ];
  const shifts = [0, 1.5, 2.5, 3.5];
  const l = Math.log(2) / 2;
  const exp = fitIn((r) => (r === 0 ? 0.5 : (Math.expm1(r) - r) / (r * r)), -l, l, 5, 0);
  const t = new Float32Array(17 * 4);
  for (let m = 0; m < 4; m++) {
    const c = pieces[m];
    t[m] = shifts[m];
    t[4 + m] = c[0];
    t[8 + m] = c[0] - t[4 + m];
    for (let j = 1; j < ERF32_TERMS; j++) t[4 * (j + 2) + m] = c[j];
    for (let j = 0; j < 5; j++) t[4 * (12 + j) + m] = exp[j];
  }
  return t;
})();

/**
 * The error function of a float32 `v` (the `erf` op, and GELU's), in float32 arithmetic that the
 * WebAssembly kernels evaluate four lanes at a time step for step (so both give the same bits): the
 * piece of {@link GELU_TABLE} for |v|, its polynomial by Horner's rule, each step rounded to
 * float32, the constant term added last in two parts. Within 1.4 float32 ulps of erf (0.75 from
 * |v| = 1 on), closer than the float32 erf of PyTorch's vectorised CPU kernels; ±1 from 3.92, NaN
 * for NaN.
 * @internal
 */
export function erfF32(v: number): number {
  const a = Math.abs(v);
  if (a >= ERF32_ONE) return v < 0 ? -1 : 1;
  const m = a < 1 ? 0 : a < 2 ? 1 : a < 3 ? 2 : 3; // NaN takes piece 3, and stays NaN
  const t = GELU_TABLE;
  const u = m === 0 ? f32(v * v) : f32(a - t[m]);
  let q = t[4 * (ERF32_TERMS + 1) + m];
  for (let j = ERF32_TERMS; j >= 3; j--) q = f32(f32(q * u) + t[4 * j + m]);
  const e = f32(t[4 + m] + f32(t[8 + m] + f32(u * q)));
  return m === 0 ? f32(v + f32(v * e)) : v < 0 ? -e : e;
}

/**
 * `e^y` for a float32 `y <= 0` in float32 arithmetic, as the WebAssembly GELU gradient evaluates it:
 * y = k ln 2 + r (ln 2 in two parts, k ln 2's first part exact), `1 + (r + r^2 p(r))` with p from
 * {@link GELU_TABLE}, times 2^k. Within an ulp of e^y; 0 below {@link EXP32_FLOOR}, NaN for NaN.
 * @internal
 */
export function expF32(y: number): number {
  if (!(y >= EXP32_FLOOR)) return y < EXP32_FLOOR ? 0 : y;
  const k = f32(f32(f32(y * LOG2E_F) + ROUND_F) - ROUND_F);
  const r = f32(f32(y - f32(k * LN2_HI_F)) - f32(k * LN2_LO_F));
  const t = GELU_TABLE;
  let q = t[4 * 16];
  for (let j = 15; j >= 12; j--) q = f32(f32(q * r) + t[4 * j]);
  // 2^k from a table for k in [-126, 0] (every y <= 0 here): the same value as 2 ** k, without a call to pow.
  return f32(f32(1 + f32(r + f32(f32(r * r) * q))) * (k <= 0 ? POW2_NEG[-k] : 2 ** k));
}

// 1.5 * 2^23: adding and subtracting it rounds a float32 below 2^22 to an integer, halves to even.
const ROUND_F = 12582912;
const LOG2E_F = f32(Math.LOG2E);
// ln 2 in two float32 parts; the first has 16 significant bits, so k times it is exact for |k| < 256.
const LN2_HI_F = 0.693145751953125;
const LN2_LO_F = f32(Math.LN2 - LN2_HI_F);

// 1.5 * 2^52: adding and subtracting it rounds a float64 below 2^51 to an integer, halves to even.
const ROUND = 6755399441055744;
// ln 2 in two parts: k * LN2_HI is exact for |k| < 2^20.
const LN2_HI = 6.9314718036912381649e-1;
const LN2_LO = 1.90821492927058770002e-10;
// 2^-k for k = 0..160.
const POW2_NEG = Float64Array.from({ length: 161 }, (_, k) => 2 ** -k);

/**
 * `e^y` for `y <= 0` in float64, within a few float64 ulps (so its float32 rounding is that of
 * `Math.exp` but for values within 1e-15 of a rounding boundary): y = k ln 2 + r with |r| <=
 * ln(2) / 2, then e^r from its Taylor series and the power of two. 0 below -110 (float32's
 * smallest value is e^-103.3), NaN for NaN. Softmax and cross-entropy on the CPU use it for
 * `x - max(x)` (faster than `Math.exp` in V8).
 * @internal
 */
export function expNonPositive(y: number): number {
  if (!(y >= -110)) return y < -110 ? 0 : y;
  const k = y * Math.LOG2E + ROUND - ROUND;
  const r = y - k * LN2_HI - k * LN2_LO;
  return poly16(EXP_POWERS, 0, r) * POW2_NEG[-k];
}

const SQRT1_2_F = f32(Math.SQRT1_2);
// 1 / sqrt(2 pi), the normal density's constant, as PyTorch's float32 kernels hold it.
const INV_SQRT_2PI_F = f32(0.3989422804014327);

/**
 * Exact GELU, `x Φ(x) = x * 0.5 * (1 + erf(x / sqrt 2))`, rounded to float32 after each step
 * in PyTorch's order, with the float32 erf {@link erfF32} (so its values are PyTorch's within an
 * ulp or two, including the coarse values below about -4 where `1 + erf` keeps few bits). Zero
 * comes out as +0 (also for -0 and for x below about -5.9), as PyTorch's CPU kernel gives;
 * `gelu(-Infinity)` is NaN (`-Inf * 0`), also as PyTorch.
 */
export function gelu(x: number): number {
  return geluFromCdf(x, geluCdf(x));
}

/** {@link gelu} from its {@link geluCdf}: `f32(x * 0.5) * f32(1 + erf) + 0`, `2 Φ` being `f32(1 + erf)` exactly. */
export function geluFromCdf(x: number, cdf: number): number {
  return f32(x * 0.5) * (2 * cdf) + 0;
}

/**
 * The derivative of exact GELU, `Φ(x) + x φ(x) = 0.5 (1 + erf(x / sqrt 2)) + x e^(-x^2/2) / sqrt(2 pi)`,
 * rounded to float32 after each step in PyTorch's order (its `gelu_backward` without the `dy`
 * factor), e^y from {@link expF32}. NaN at ±Infinity (`±Inf * 0`) and for NaN, as PyTorch.
 */
export function geluGrad(x: number): number {
  return geluGradFromCdf(x, geluCdf(x));
}

/** {@link geluGrad} from its {@link geluCdf}: `Φ + f32(x φ(x))`, with no second erf. */
export function geluGradFromCdf(x: number, cdf: number): number {
  return cdf + f32(x * geluPdf(x));
}

/** `Φ(x) = 0.5 * f32(1 + erf(x / sqrt 2))`, as {@link gelu} and {@link geluGrad} round it (exact in float32). */
export function geluCdf(x: number): number {
  return 0.5 * f32(1 + erfF32(f32(x * SQRT1_2_F)));
}

/** `φ(x)`, the normal density, rounded to float32 as {@link geluGrad} rounds it. */
export function geluPdf(x: number): number {
  return f32(INV_SQRT_2PI_F * expF32(f32(f32(x * x) * -0.5)));
}

/** e^y is +Infinity in float32 from about 88.72; clamping here keeps 2^k's exponent fields in range. */
const EXP32_HI = 89;
/** e^y rounds to 0 in float32 below about -103.97 (half the smallest subnormal, 2^-150). */
const EXP32_LO = -104;
/** 2^k for k = -150 .. 128 at `POW2[k + 150]`. */
const POW2 = Float64Array.from({ length: 279 }, (_, i) => 2 ** (i - 150));
/** Below this |x|, {@link tanhF32} is an odd polynomial; from it on, `1 - 2 / (e^2|x| + 1)`, at least 0.55. */
export const TANH32_SMALL = 0.625;
/** Coefficients of tanh's polynomial in x^2 ({@link tanhF32}). */
const TANH32_TERMS = 7;
/** Coefficients of the logarithm's polynomial ({@link logF32}), from row {@link LOG32_ROW} of {@link UNARY_TABLE}. */
const LOG32_TERMS = 4;
const LOG32_ROW = 5 + TANH32_TERMS;
/** The smallest normal float32, 2^-126: the logarithm scales values below it by 2^23 first. */
const MIN_NORMAL_F32 = 2 ** -126;

/**
 * @internal The float32 coefficients of the exponential, sigmoid, tanh and the logarithm
 * ({@link expF32Full}, {@link sigmoidF32}, {@link tanhF32}, {@link logF32}), each in every lane of a row of four, for the CPU's
 * TypeScript loops and its WebAssembly kernels alike: rows 0 to 4 hold `(e^r - 1 - r) / r^2`'s
 * powers 0 to 4 on |r| <= ln(2) / 2 (the values of GELU_TABLE's rows 12 to 16), rows 5 to 11
 * `(tanh(x) - x) / x^3` in powers 0 to 6 of x^2 on |x| < {@link TANH32_SMALL}, rows 12 to 15 the
 * logarithm's `R(z) / z` in powers 0 to 3 of z on [0, 0.0295] (`log(1 + f) = 2s + s R(s^2)`, `s = f /
 * (2 + f)`, from the series of 2 atanh). Chebyshev fits, made when the module loads.
 */
export const UNARY_TABLE = ((): Float32Array => {
  const s = TANH32_SMALL * TANH32_SMALL;
  const tanh = fitIn((z) => (z === 0 ? -1 / 3 : (Math.tanh(Math.sqrt(z)) - Math.sqrt(z)) / (z * Math.sqrt(z))), 0, s, TANH32_TERMS, 0);
  // s = f / (2 + f) for f = m - 1, m in [sqrt(1/2), sqrt(2)): |s| <= 3 - 2 sqrt(2).
  const sMax = 3 - 2 * Math.SQRT2;
  const atanhSeries = (z: number): number => {
    let total = 0;
    for (let k = 30; k >= 1; k--) total = total * z + 2 / (2 * k + 1);
    return total;
  };
  const log = fitIn(atanhSeries, 0, sMax * sMax, LOG32_TERMS, 0);
  const t = new Float32Array((LOG32_ROW + LOG32_TERMS) * 4);
  for (let j = 0; j < 5; j++) t.fill(GELU_TABLE[4 * (12 + j)], 4 * j, 4 * j + 4);
  for (let j = 0; j < TANH32_TERMS; j++) t.fill(tanh[j], 4 * (5 + j), 4 * (5 + j) + 4);
  for (let j = 0; j < LOG32_TERMS; j++) t.fill(log[j], 4 * (LOG32_ROW + j), 4 * (LOG32_ROW + j) + 4);
  return t;
})();

/** One float32 and its bits, for {@link logF32}'s reinterpretations. */
const F32_BITS = new Float32Array(1);
const I32_BITS = new Int32Array(F32_BITS.buffer);

/**
 * The natural logarithm of a float32 `x` in float32 arithmetic, as the WebAssembly `log` kernel
 * evaluates it four lanes at a time (the same bits): x (scaled by 2^23 first when subnormal) is
 * split as 2^k m with m in [sqrt(1/2), sqrt(2)) from its bits, f = m - 1 (exact), and
 * `log x = k ln 2 + log(1 + f)` with `log(1 + f) = f - (f^2/2 - s (f^2/2 + R(s^2)))`, `s = f / (2 +
 * f)`, R from {@link UNARY_TABLE}, ln 2 in two parts, so f, exact, leads and the rest corrects it.
 * Within an ulp of log x; -Infinity at ±0, NaN below 0 and for NaN, Infinity at Infinity.
 * @internal
 */
export function logF32(x: number): number {
  if (!(x > 0 && x < Infinity)) return x === 0 ? -Infinity : x < 0 ? NaN : x;
  let k = -127;
  F32_BITS[0] = x;
  if (x < MIN_NORMAL_F32) {
    F32_BITS[0] = x * 8388608;
    k -= 23;
  }
  // The bits of x plus those that take sqrt(2) to 2: the exponent field then counts from sqrt(1/2).
  const ix = (I32_BITS[0] + 0x4afb0d) | 0;
  k += ix >> 23;
  I32_BITS[0] = (ix & 0x7fffff) + 0x3f3504f3;
  const f = f32(F32_BITS[0] - 1);
  const s = f32(f / f32(2 + f));
  const z = f32(s * s);
  const t = UNARY_TABLE;
  let p = t[4 * (LOG32_ROW + LOG32_TERMS - 1)];
  for (let j = LOG32_ROW + LOG32_TERMS - 2; j >= LOG32_ROW; j--) p = f32(f32(p * z) + t[4 * j]);
  const r = f32(z * p);
  const hfsq = f32(f32(0.5 * f) * f);
  return f32(f32(k * LN2_HI_F) - f32(f32(hfsq - f32(f32(s * f32(hfsq + r)) + f32(k * LN2_LO_F))) - f));
}

/**
 * `e^y` of a float32 `y` in float32 arithmetic, as the WebAssembly `exp` kernel evaluates it four
 * lanes at a time (so both give the same bits; a test checks it): y clamped to [-104, 89] (NaN
 * stays), y = k ln 2 + r as {@link expF32} splits it, `1 + (r + r^2 p(r))` with p from
 * {@link UNARY_TABLE}, times 2^k rounded once (so results below float32's normal range are its
 * subnormals, as PyTorch gives them, and e^89 overflows to Infinity). Within 1.1 ulps of e^y;
 * e^-Infinity is 0, e^Infinity Infinity, NaN stays NaN.
 * @internal
 */
export function expF32Full(y: number): number {
  const p = expReduced(y);
  // The product in float64 is exact; its one rounding to float32 is the kernel's e * 2^k1 (exact) * 2^k2.
  return f32(f32(1 + p) * POW2[(reducedK | 0) + 150]);
}

/** The k of y = k ln 2 + r that {@link expReduced} last split y into (NaN for NaN). */
let reducedK = 0;

/**
 * `e^r - 1` for y clamped to [-104, 89] (NaN stays) and split as y = k ln 2 + r, in the float32 steps
 * of {@link expF32Full} and {@link expm1F32} (k as {@link expF32} rounds it, ln 2 in two parts, `r +
 * r^2 p(r)` with p from {@link UNARY_TABLE}); k is left in {@link reducedK}.
 */
function expReduced(y: number): number {
  let c = y < EXP32_LO ? EXP32_LO : y;
  c = EXP32_HI < c ? EXP32_HI : c;
  const k = f32(f32(f32(c * LOG2E_F) + ROUND_F) - ROUND_F);
  const r = f32(f32(c - f32(k * LN2_HI_F)) - f32(k * LN2_LO_F));
  const t = UNARY_TABLE;
  let q = t[16];
  for (let j = 3; j >= 0; j--) q = f32(f32(q * r) + t[4 * j]);
  reducedK = k;
  return f32(r + f32(f32(r * r) * q));
}

/**
 * The logistic sigmoid of a float32 `x` in float32 arithmetic, as the WebAssembly `sigmoid` kernel
 * evaluates it: `e = e^-|x|` by {@link expF32Full}, then `1 / (1 + e)` for x >= 0 and `e / (1 + e)`
 * below, which never overflows and keeps the relative accuracy of small values. Within 2.5 ulps.
 * @internal
 */
export function sigmoidF32(x: number): number {
  const e = expF32Full(-Math.abs(x));
  return f32((x >= 0 ? 1 : e) / f32(1 + e));
}

/**
 * tanh of a float32 `x` in float32 arithmetic, as the WebAssembly `tanh` kernel evaluates it: below
 * {@link TANH32_SMALL} in magnitude `x + x (x^2 p(x^2))` with p from {@link UNARY_TABLE} (so small
 * values keep their relative accuracy); from it on `1 - 2 / (e^2|x| + 1)`; either with x's sign bit
 * (tanh(-0) is -0), e^ by {@link expF32Full} (±1 from about 9, and for ±Infinity). Within 1.5 ulps.
 * @internal
 */
export function tanhF32(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < TANH32_SMALL) {
    const z = f32(a * a);
    const t = UNARY_TABLE;
    let p = t[4 * (4 + TANH32_TERMS)];
    for (let j = 3 + TANH32_TERMS; j >= 5; j--) p = f32(f32(p * z) + t[4 * j]);
    r = f32(a + f32(a * f32(z * p)));
  } else r = f32(1 - f32(2 / f32(expF32Full(f32(a + a)) + 1)));
  // x's sign bit on |tanh x| (so tanh(-0) is -0).
  return x < 0 || Object.is(x, -0) ? -r : r;
}

/** Below this magnitude `expm1(x)` and `log1p(x)` round to x itself in float32. */
const TINY_F32 = 2 ** -24;

/**
 * `e^y - 1` of a float32 `y` in float32 arithmetic, as the WebAssembly `expm1` kernel evaluates it:
 * y split as in {@link expF32Full} (`e^r - 1 = p = r + r^2 q(r)`), then `(2^k - 1) + 2^k p` with both
 * parts exact (k clamped to [-126, 24]; below, the result is -1 to the last bit), so small results
 * keep their relative accuracy; from k = 25 on, where the 1 no longer shows, e^y as {@link
 * expF32Full} gives it. y itself below 2^-24 in magnitude (so -0 stays -0). Within 2 ulps; -1 at
 * -Infinity, Infinity from about 88.73, NaN stays NaN.
 * @internal
 */
export function expm1F32(y: number): number {
  if (Math.abs(y) < TINY_F32) return y;
  const p = expReduced(y);
  const k = reducedK;
  if (k > 24) return f32(f32(1 + p) * POW2[(k | 0) + 150]);
  // NaN: k is NaN, and so is the result.
  const s = POW2[(k < -126 ? -126 : k | 0) + 150];
  return f32(f32(s - 1) + f32(s * p));
}

/**
 * `log(1 + x)` of a float32 `x` in float32 arithmetic, as the WebAssembly `log1p` kernel evaluates
 * it: u = 1 + x rounded, then {@link logF32} of u plus the part of 1 + x the rounding lost,
 * `(x - (u - 1)) / u`; x itself below 2^-24 in magnitude (so -0 stays -0). Within 2 ulps; -Infinity
 * at -1, NaN below it and for NaN, Infinity at Infinity.
 * @internal
 */
export function log1pF32(x: number): number {
  if (Math.abs(x) < TINY_F32) return x;
  const u = f32(1 + x);
  const l = logF32(u);
  // Past 2^24 (and at -1, Infinity or NaN) the correction is 0 or NaN: only u's logarithm counts.
  if (!(u > 0 && u < 16777216)) return l;
  return f32(l + f32(f32(x - f32(u - 1)) / u));
}

/** @internal The slow reference {@link erfF32} is fitted to, for tests. */
export const erfReference = erfSeries;

/**
 * The elementwise primitives of one input. `step` is 1 where x > 0 else 0 (the derivative of relu);
 * `geluGrad` is the derivative of `gelu` (exact GELU).
 */
export const UNARY_OPS = {
  neg: { f: (x) => -x, keepsInt: true },
  exp: { f: (x) => expF32Full(f32(x)) },
  log: { f: (x) => logF32(f32(x)) },
  sqrt: { f: Math.sqrt },
  abs: { f: Math.abs, keepsInt: true },
  // NaN stays NaN, as in PyTorch (relu is max(x, 0), which propagates NaN).
  relu: { f: (x) => (x <= 0 ? 0 : x), keepsInt: true },
  sigmoid: { f: (x) => sigmoidF32(f32(x)) },
  tanh: { f: (x) => tanhF32(f32(x)) },
  sign: { f: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0), keepsInt: true },
  step: { f: (x) => (x > 0 ? 1 : 0) },
  square: { f: (x) => x * x, keepsInt: true },
  reciprocal: { f: (x) => 1 / x },
  floor: { f: Math.floor },
  ceil: { f: Math.ceil },
  // Halves to even, as PyTorch and NumPy (Math.round takes halves up).
  round: {
    f: (x) => {
      const r = Math.round(x);
      return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
    },
  },
  log1p: { f: (x) => log1pF32(f32(x)) },
  expm1: { f: (x) => expm1F32(f32(x)) },
  sin: { f: Math.sin },
  cos: { f: Math.cos },
  tan: { f: Math.tan },
  asin: { f: Math.asin },
  acos: { f: Math.acos },
  atan: { f: Math.atan },
  sinh: { f: Math.sinh },
  cosh: { f: Math.cosh },
  asinh: { f: Math.asinh },
  acosh: { f: Math.acosh },
  atanh: { f: Math.atanh },
  erf: { f: (x) => erfF32(f32(x)) },
  gelu: { f: gelu },
  geluGrad: { f: geluGrad },
  trunc: { f: Math.trunc },
  rsqrt: { f: (x) => 1 / Math.sqrt(x) },
  log2: { f: Math.log2 },
  log10: {
    f: Math.log10,
    gpu: 'if (v < 0) {\n    return nan;\n  }\n  if (v == 0) {\n    return -inf;\n  }\n  if (v == inf) {\n    return inf;\n  }\n  return Math.log(v) * 0.4342944819032518;',
  },
  exp2: { f: (x) => 2 ** x },
} as const satisfies Record<string, UnaryDef>;

/** The name of an elementwise primitive of one input. */
export type UnaryOp = keyof typeof UNARY_OPS;
