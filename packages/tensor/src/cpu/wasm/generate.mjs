// Assembles kernels.wat with wabt (a devDependency) and writes kernels-wasm.ts: the module bytes as
// base64 (so that the package runs from source with no build step and no wasm toolchain), the
// TypeScript interface of the module's exports and the field order of the thread kernels' argument
// structs, all read from the same WAT text so they cannot drift apart.
// Usage (in packages/tensor): node src/cpu/wasm/generate.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import createWabt from 'wabt';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));

/**
 * The elementwise family: one f32x4 loop each over byte addresses, `n` floats rounded up to
 * whole vectors. `A` and `B` stand for the vectors loaded from the inputs, `S` for the splatted
 * scalar, `Z` for zeros.
 */
const ELEMENTWISE = {
  // Two arrays: (a, b, o, n).
  binary: {
    add: '(f32x4.add A B)',
    sub: '(f32x4.sub A B)',
    mul: '(f32x4.mul A B)',
    div: '(f32x4.div A B)',
    // The gradient of relu: 0 where x (B) <= 0, else dy (A): dy also where x is NaN, as in PyTorch.
    relu_grad: '(v128.andnot A (f32x4.le B Z))',
  },
  // An array and a float32 scalar: (a, s, o, n).
  scalar: {
    add_scalar: '(f32x4.add A S)',
    sub_scalar: '(f32x4.sub A S)',
    mul_scalar: '(f32x4.mul A S)',
    div_scalar: '(f32x4.div A S)',
    rsub_scalar: '(f32x4.sub S A)',
    rdiv_scalar: '(f32x4.div S A)',
  },
  // One array: (a, o, n).
  unary: {
    neg: '(f32x4.neg A)',
    abs: '(f32x4.abs A)',
    sqrt: '(f32x4.sqrt A)',
    square: '(f32x4.mul A A)',
    // x <= 0 ? 0 : x: 0 for -0, NaN stays NaN (as in PyTorch), as the JavaScript loop gives.
    relu: '(v128.andnot A (f32x4.le A Z))',
    step: '(v128.and (f32x4.gt A Z) (v128.const f32x4 1 1 1 1))',
  },
};

const SHAPES = {
  binary: {
    params: [
      ['a', 'i32'],
      ['b', 'i32'],
      ['o', 'i32'],
      ['n', 'i32'],
    ],
    arrays: ['a', 'b'],
  },
  scalar: {
    params: [
      ['a', 'i32'],
      ['s', 'f32'],
      ['o', 'i32'],
      ['n', 'i32'],
    ],
    arrays: ['a'],
  },
  unary: {
    params: [
      ['a', 'i32'],
      ['o', 'i32'],
      ['n', 'i32'],
    ],
    arrays: ['a'],
  },
};

/**
 * The elementwise kernels that keep float32 arithmetic off subnormal inputs, by the same operation
 * on doubles: a pair of vectors with a subnormal input lane goes through it, two lanes at a time,
 * each result demoted to float32. On many Intel processors a float32 multiply, division or square
 * root with a subnormal operand or result costs a microcode assist (a multiply by a scalar: 0.2 ->
 * 8.2 ns a value measured on an Intel Xeon with AVX-512; an add or a subtract costs nothing more),
 * and the state these ops meet such values in is sticky: an optimizer's running average decayed by
 * a factor each step (SGD's momentum, RMSprop's square average) reaches the subnormals once its
 * gradient stays zero (a dead unit), and the last few round back to themselves when scaled
 * (0.9 k 2^-149 rounds to k 2^-149 for k <= 4), so every later step would pay. Same bits: an
 * operation on float32 values rounded in double precision and then to float32 gives the correctly
 * rounded float32 result (as the TypeScript loop computes it), and these values are never
 * subnormal as doubles. 0.45 ns a value there; otherwise the test costs about 0.03. Products and
 * quotients of two arrays are left alone: testing both inputs cost 0.08 ns a value (0.2 -> 0.28),
 * and running averages are scaled by numbers, not arrays.
 */
const EXACT = {
  mul_scalar: '(f64x2.mul A S)',
  div_scalar: '(f64x2.div A S)',
  rdiv_scalar: '(f64x2.div S A)',
  sqrt: '(f64x2.sqrt A)',
  square: '(f64x2.mul A A)',
};

/** The WAT of one elementwise kernel. */
function elementwise(name, shape, expr) {
  const { params, arrays } = SHAPES[shape];
  const exact = EXACT[name];
  const header = `  (func (export "${name}") ${params.map(([p, t]) => `(param $${p} ${t})`).join(' ')}`;
  if (exact === undefined) {
    const body = expr
      .replaceAll('A', '(v128.load (local.get $a))')
      .replaceAll('B', '(v128.load (local.get $b))')
      .replaceAll('S', '(f32x4.splat (local.get $s))')
      .replaceAll('Z', '(v128.const f32x4 0 0 0 0)');
    const step = [...arrays, 'o'].map((p) => `      (local.set $${p} (i32.add (local.get $${p}) (i32.const 16)))\n`).join('');
    return `${header}
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (loop $l
      (v128.store (local.get $o) ${body})
${step}      (local.set $n (i32.sub (local.get $n) (i32.const 4)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0)))))
`;
  }
  // Two vectors a turn (the heap's slots are whole pairs), loaded once: stored from the float32
  // operation unless a lane of an input is subnormal, else from the double one, a half (two lanes)
  // at a time.
  const input = { a: 'x', b: 'y' };
  const vec = (q, o) => `$${input[q]}${o}`;
  const op = (o) =>
    expr
      .replaceAll('A', `(local.get ${vec('a', o)})`)
      .replaceAll('B', `(local.get ${vec('b', o)})`)
      .replaceAll('S', '(local.get $S)');
  const half = (o, h) => {
    const lanes = (q) => halfF64(`(local.get ${vec(q, o)})`, h);
    return `(f32x4.demote_f64x2_zero ${exact.replaceAll('A', lanes('a')).replaceAll('B', lanes('b')).replaceAll('S', '(local.get $D)')})`;
  };
  const both = (f) => [0, 16].map((o) => `        (v128.store offset=${o} (local.get $o) ${f(o)})\n`).join('');
  const step = [...arrays, 'o'].map((p) => `      (local.set $${p} (i32.add (local.get $${p}) (i32.const 32)))\n`).join('');
  const vars = arrays.flatMap((q) => [0, 16].map((o) => vec(q, o)));
  return `${header}
    ${vars.map((v) => `(local ${v} v128)`).join(' ')} (local $TWO v128) (local $SUB v128) (local $S v128) (local $D v128)
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (local.set $TWO ${i32(2)})
    (local.set $SUB ${i32(2 * 0x7fffff)})
${shape === 'scalar' ? '    (local.set $S (f32x4.splat (local.get $s)))\n    (local.set $D (f64x2.splat (f64.promote_f32 (local.get $s))))\n' : ''}    (loop $l
${arrays.flatMap((q) => [0, 16].map((o) => `      (local.set ${vec(q, o)} (v128.load offset=${o} (local.get $${q})))\n`)).join('')}      (if ${anyTiny(
    vars.map((v) => `(local.get ${v})`),
    'SUB',
  )} (then
${both((o) => `(i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 ${half(o, 0)} ${half(o, 1)})`)}      ) (else
${both(op)}      ))
${step}      (local.set $n (i32.sub (local.get $n) (i32.const 8)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0)))))
`;
}

/**
 * Exact GELU and its derivative in float32, four lanes at a time: the same float32 steps in the same
 * order as `erfF32`, `expF32`, `gelu` and `geluGrad` in backend/unary-ops.ts (so both give the same
 * bits; a test checks it), reading the coefficients from that file's GELU_TABLE at byte address `tab`.
 * Each lane picks its piece of erf with a byte swizzle of the table's rows, so the four lanes need
 * no branch and load no more than one polynomial would.
 */
const f32 = Math.fround;
const num = (v) => (Object.is(v, -0) ? '-0' : Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v));
const splat = (v) => `(v128.const f32x4 ${num(v)} ${num(v)} ${num(v)} ${num(v)})`;
/** `v` in every i32 lane. */
const i32 = (v) => `(v128.const i32x4 ${v} ${v} ${v} ${v})`;
/** Row `j` of the coefficient table at byte address `$tab` (four floats a row). */
const row = (j) => `(v128.load offset=${16 * j} (local.get $tab))`;
const SQRT1_2_F = f32(Math.SQRT1_2);
const INV_SQRT_2PI_F = f32(0.3989422804014327);
/** unary-ops.ts ERF32_ONE, EXP32_FLOOR, LOG2E_F, LN2_HI_F and LN2_LO_F. */
const ERF32_ONE = f32(3.92);
const EXP32_FLOOR = f32(-87.33654);
const LOG2E_F = f32(Math.LOG2E);
const LN2_HI_F = 0.693145751953125;
const LN2_LO_F = f32(Math.LN2 - LN2_HI_F);
/** Terms of each piece of erf: unary-ops.ts ERF32_TERMS. */
const ERF32_TERMS = 10;

const loc = (n) => `(local.get $${n})`;
const assign = (n, e) => `      (local.set $${n} ${e})\n`;
/** Float64 lanes `x` rounded to float32 and back (as Math.fround rounds a double): the exact paths' rounding after each operation. */
const roundF32 = (x) => `(f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero ${x}))`;
/** Lanes 2h and 2h + 1 of the f32x4 expression `v` (evaluated once or twice) as doubles. */
const halfF64 = (v, h) => `(f64x2.promote_low_f32x4 ${h === 0 ? v : `(i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${v} ${v})`})`;

/** Statements setting `$e` to erf of the float32 lanes of `$v` (locals `ab`, `i`, `s`, `u`, `q`). */
function erf4() {
  // Row r of the table, each lane reading its piece's float: the byte indices 4m .. 4m + 3 in `$i`.
  const row = (r) => `(i8x16.swizzle (v128.load offset=${16 * r} (local.get $tab)) ${loc('i')})`;
  const a = loc('ab');
  // m = 3 + (a < 1) + (a < 2) + (a < 3), each comparison -1 where it holds (NaN: 3).
  const m = `(i32x4.add (i32x4.add (i32x4.add (v128.const i32x4 3 3 3 3) ${loc('s')}) (f32x4.lt ${a} ${splat(2)})) (f32x4.lt ${a} ${splat(3)}))`;
  // v's sign bit alone: v xor |v|.
  const sign = `(v128.xor ${loc('v')} ${a})`;
  let out = assign('ab', `(f32x4.abs ${loc('v')})`);
  out += assign('s', `(f32x4.lt ${a} ${splat(1)})`);
  out += assign(
    'i',
    `(i32x4.add (i32x4.mul ${m} (v128.const i32x4 0x04040404 0x04040404 0x04040404 0x04040404)) (v128.const i32x4 0x03020100 0x03020100 0x03020100 0x03020100))`,
  );
  // The argument: v^2 on the first piece, |v| - shift on the others.
  out += assign('u', `(v128.bitselect (f32x4.mul ${loc('v')} ${loc('v')}) (f32x4.sub ${a} ${row(0)}) ${loc('s')})`);
  out += assign('q', row(ERF32_TERMS + 1));
  for (let j = ERF32_TERMS; j >= 3; j--) out += assign('q', `(f32x4.add (f32x4.mul ${loc('q')} ${loc('u')}) ${row(j)})`);
  out += assign('q', `(f32x4.add ${row(1)} (f32x4.add ${row(2)} (f32x4.mul ${loc('u')} ${loc('q')})))`);
  // v + v q on the first piece, q with v's sign on the others, then ±1 from ERF32_ONE.
  out += assign(
    'e',
    `(v128.bitselect (f32x4.add ${loc('v')} (f32x4.mul ${loc('v')} ${loc('q')})) (v128.or ${loc('q')} ${sign}) ${loc('s')})`,
  );
  out += assign('e', `(v128.bitselect (v128.or ${splat(1)} ${sign}) ${loc('e')} (f32x4.ge ${a} ${splat(ERF32_ONE)}))`);
  return out;
}

/** Statements setting `$e` to e^y of the float32 lanes of `$y` <= 0 (locals `k`, `r`, `q`): unary-ops.ts expF32. */
function exp4() {
  const y = loc('y');
  const k = loc('k');
  const r = loc('r');
  // k = round(y log2 e), halves to even (as unary-ops.ts adds and subtracts ROUND_F).
  let out = assign('k', `(f32x4.nearest (f32x4.mul ${y} ${splat(LOG2E_F)}))`);
  out += assign('r', `(f32x4.sub (f32x4.sub ${y} (f32x4.mul ${k} ${splat(LN2_HI_F)})) (f32x4.mul ${k} ${splat(LN2_LO_F)}))`);
  out += assign('q', row(16));
  for (let j = 15; j >= 12; j--) out += assign('q', `(f32x4.add (f32x4.mul ${loc('q')} ${r}) ${row(j)})`);
  const e = `(f32x4.add ${splat(1)} (f32x4.add ${r} (f32x4.mul (f32x4.mul ${r} ${r}) ${loc('q')})))`;
  // 2^k from its exponent bits (k >= -126 wherever the result is kept).
  const pow2 = `(i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s ${k}) (v128.const i32x4 127 127 127 127)) (i32.const 23))`;
  out += assign('e', `(v128.andnot (f32x4.mul ${e} ${pow2}) (f32x4.lt ${y} ${splat(EXP32_FLOOR)}))`);
  return out;
}

const ERF_LOCALS = ['v', 'ab', 'i', 's', 'u', 'q', 'e'];

/**
 * The statements of `a` and `b` taken in turn, so that their chains of dependent steps overlap:
 * `a` holds `k` statements (a line each) for every one of `b` (k copies of a body already
 * interleaved, the default one), and each group of k is followed by b's next.
 */
function interleave(a, b, k = 1) {
  const lines = (t) => t.split('\n').filter((l) => l.trim() !== '');
  const first = lines(a);
  return (
    lines(b)
      .flatMap((l, i) => [...first.slice(i * k, (i + 1) * k), l])
      .join('\n') + '\n'
  );
}

/**
 * A loop over `n` floats `4 * ways` at a time (the heap slots are whole multiples of that many
 * floats, so the last turn's extra lanes stay inside them): `body` (statements over the vectors at
 * the pointers in `step`) for `ways` vectors a turn, its statements interleaved so that their
 * chains of dependent steps overlap, then each pointer advanced. Copy `w` of the body has its
 * `locals` renamed with the suffix `_w` and its loads and stores `16 w` bytes on.
 */
function loop8(body, step, locals, ways = 2) {
  const copies = [body];
  for (let w = 1; w < ways; w++) {
    let copy = body;
    for (const l of locals) copy = copy.replaceAll(`$${l})`, `$${l}_${w})`).replaceAll(`$${l} `, `$${l}_${w} `);
    for (const p of step) {
      copy = copy.replaceAll(`(v128.load (local.get $${p}))`, `(v128.load offset=${16 * w} (local.get $${p}))`);
      copy = copy.replaceAll(`(v128.store (local.get $${p})`, `(v128.store offset=${16 * w} (local.get $${p})`);
    }
    copies.push(copy);
  }
  const all = copies.slice(1).reduce((acc, c, i) => interleave(acc, c, i + 1), body);
  return `    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (loop $l
${all}${step.map((p) => assign(p, `(i32.add (local.get $${p}) (i32.const ${16 * ways}))`)).join('')}      (local.set $n (i32.sub (local.get $n) (i32.const ${4 * ways})))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0)))))
`;
}

/** The declarations of `names` as v128 locals, each also with the suffixes `_1` .. `_(ways - 1)` of {@link loop8}'s other vectors. */
const v128Locals = (names, ways = 2) =>
  names.flatMap((n) => [`(local $${n} v128)`, ...Array.from({ length: ways - 1 }, (_, w) => `(local $${n}_${w + 1} v128)`)]).join(' ');

/**
 * The GELU kernels: `gelu(a, o, n, tab)`, GELU into `o`; and `gelu_save(a, o, g, n, tab)`, GELU into
 * `o` and its derivative `f32(Φ + f32(x * f32(INV_SQRT_2PI * e^f32(f32(x * x) * -0.5))))` into `g`,
 * Φ = 0.5 * f32(1 + erf) (exact in float32) from the same erf, so the backward pass is a product
 * `dy * g`: the bits of `gelu` and `geluGrad`.
 */
function geluKernels() {
  const ONLY_LOCALS = ['x', 'u1', ...ERF_LOCALS];
  // exp4's k and r besides erf4's q and e (free again once 1 + erf is in u1) and the exponent y.
  const SAVE_LOCALS = [...ONLY_LOCALS, 'y', 'k', 'r'];
  const x = loc('x');
  const start = assign('x', '(v128.load (local.get $a))') + assign('v', `(f32x4.mul ${x} ${splat(SQRT1_2_F)})`) + erf4();
  const u = `(f32x4.add ${splat(1)} ${loc('e')})`;
  // f32(x * 0.5) * f32(1 + erf) + 0 (+ 0 turns -0 into 0).
  const y = `(f32x4.add (f32x4.mul (f32x4.mul ${x} ${splat(0.5)}) ${loc('u1')}) ${splat(0)})`;
  const only = `  (func $gelu (export "gelu") (param $a i32) (param $o i32) (param $n i32) (param $tab i32)
    ${v128Locals(ONLY_LOCALS)}
${loop8(start + assign('u1', u) + `      (v128.store (local.get $o) ${y})\n`, ['a', 'o'], ONLY_LOCALS)}`;
  // f32(Φ + f32(x * f32(INV_SQRT_2PI * e))), Φ = 0.5 * u1.
  const grad = `(f32x4.add (f32x4.mul ${splat(0.5)} ${loc('u1')}) (f32x4.mul ${x} (f32x4.mul ${splat(INV_SQRT_2PI_F)} ${loc('e')})))`;
  const save = `  (func $gelu_save (export "gelu_save") (param $a i32) (param $o i32) (param $g i32) (param $n i32) (param $tab i32)
    ${v128Locals(SAVE_LOCALS)}
${loop8(
  start +
    assign('u1', u) +
    `      (v128.store (local.get $o) ${y})\n` +
    assign('y', `(f32x4.mul (f32x4.mul ${x} ${x}) ${splat(-0.5)})`) +
    exp4() +
    `      (v128.store (local.get $g) ${grad})\n`,
  ['a', 'o', 'g'],
  SAVE_LOCALS,
)}`;
  return only + save;
}

/** unary-ops.ts EXP32_LO, EXP32_HI, TANH32_SMALL and TANH32_TERMS; ROUND_F and its float32 bits. */
const EXP32_LO = -104;
const EXP32_HI = 89;
const TANH32_SMALL = 0.625;
const TANH32_TERMS = 7;
/** unary-ops.ts LOG32_TERMS and LOG32_ROW (UNARY_TABLE's rows of the logarithm), and float32's smallest normal value. */
const LOG32_TERMS = 4;
const LOG32_ROW = 5 + TANH32_TERMS;
const MIN_NORMAL_F32 = 2 ** -126;
const ROUND_F = 12582912;
const ROUND_F_BITS = 0x4b400000;
const SIGN_BITS = i32('0x80000000');

/**
 * Statements setting `$e` to e^y of the float32 lanes of `$y` (any value; locals `c`, `k`, `r`,
 * `q`): unary-ops.ts expF32Full, step for step, with the coefficients of UNARY_TABLE at `tab`. y is
 * clamped to [-104, 89] with pmax/pmin (NaN, their first operand, stays); k = round(y log2 e) is
 * the float `c log2 e + 1.5 * 2^23` less that constant, and the same sum's bits less the constant's
 * bits as an integer; 2^k is applied as 2^(k >> 1) then 2^(k - (k >> 1)), each a normal float32 for k
 * in [-150, 128], so the first product is exact and the second rounds once (to a subnormal, or to
 * Infinity, where e^y is one).
 */
function expFull4(minusOne = false) {
  const k = loc('k');
  const pow2 = (i) => `(i32x4.shl (i32x4.add ${i} ${i32(127)}) (i32.const 23))`;
  let out = assign('c', `(f32x4.pmin (f32x4.pmax ${loc('y')} ${splat(EXP32_LO)}) ${splat(EXP32_HI)})`);
  // k + 1.5 * 2^23, exact: its bits are ROUND_F_BITS + k.
  out += assign('k', `(f32x4.add (f32x4.mul ${loc('c')} ${splat(LOG2E_F)}) ${splat(ROUND_F)})`);
  // k as a float in q (free until the polynomial), then r = c - k ln 2 in two parts.
  out += assign('q', `(f32x4.sub ${k} ${splat(ROUND_F)})`);
  out += assign(
    'r',
    `(f32x4.sub (f32x4.sub ${loc('c')} (f32x4.mul ${loc('q')} ${splat(LN2_HI_F)})) (f32x4.mul ${loc('q')} ${splat(LN2_LO_F)}))`,
  );
  out += assign('k', `(i32x4.sub ${k} ${i32(ROUND_F_BITS)})`);
  out += assign('q', row(4));
  for (let j = 3; j >= 0; j--) out += assign('q', `(f32x4.add (f32x4.mul ${loc('q')} ${loc('r')}) ${row(j)})`);
  // p = e^r - 1 in r (free once read), then e = 1 + p.
  out += assign('r', `(f32x4.add ${loc('r')} (f32x4.mul (f32x4.mul ${loc('r')} ${loc('r')}) ${loc('q')}))`);
  out += assign('e', `(f32x4.add ${splat(1)} ${loc('r')})`);
  // k >> 1 in c (free again), then the two powers.
  out += assign('c', `(i32x4.shr_s ${k} (i32.const 1))`);
  out += assign('e', `(f32x4.mul (f32x4.mul ${loc('e')} ${pow2(loc('c'))}) ${pow2(`(i32x4.sub ${k} ${loc('c')})`)})`);
  if (!minusOne) return out;
  // e^y - 1 (unary-ops.ts expm1F32): (2^k - 1) + 2^k p with k clamped to [-126, 24] (2^k in q), e
  // itself from k = 25 on, y itself below 2^-24 in magnitude.
  out += assign('q', pow2(`(i32x4.max_s (i32x4.min_s ${k} ${i32(24)}) ${i32(-126)})`));
  out += assign(
    'e',
    `(v128.bitselect ${loc('e')} (f32x4.add (f32x4.sub ${loc('q')} ${splat(1)}) (f32x4.mul ${loc('q')} ${loc('r')})) (i32x4.gt_s ${k} ${i32(24)}))`,
  );
  out += assign('e', `(v128.bitselect ${loc('y')} ${loc('e')} (f32x4.lt (f32x4.abs ${loc('y')}) ${splat(2 ** -24)}))`);
  return out;
}

/**
 * Statements setting `$p` to the natural logarithm of the float32 lanes of local `src` (unary-ops.ts
 * logF32, step for step; locals `ab`, `k`, `f`, `s`, `z`, `h`, coefficients of UNARY_TABLE at `tab`):
 * src (times 2^23 when below 2^-126) as 2^k m, m in [sqrt(1/2), sqrt(2)), from its bits; f = m - 1,
 * s = f / (2 + f), z = s^2, r = z p(z); k ln 2 - ((f^2/2 - (s (f^2/2 + r) + k ln2_lo)) - f). Lanes that
 * are not finite and above 0 take -Infinity (±0), NaN (below 0) or src (Infinity, NaN).
 */
function log4(src) {
  const x = loc(src);
  let out =
    assign('ab', `(f32x4.lt ${x} ${splat(MIN_NORMAL_F32)})`) +
    assign('k', `(i32x4.add (v128.bitselect (f32x4.mul ${x} ${splat(2 ** 23)}) ${x} ${loc('ab')}) ${i32(0x4afb0d)})`) +
    assign('f', `(f32x4.sub (i32x4.add (v128.and ${loc('k')} ${i32(0x7fffff)}) ${i32(0x3f3504f3)}) ${splat(1)})`) +
    assign(
      'k',
      `(f32x4.convert_i32x4_s (i32x4.sub (i32x4.shr_s ${loc('k')} (i32.const 23)) (v128.bitselect ${i32(150)} ${i32(127)} ${loc('ab')})))`,
    ) +
    assign('s', `(f32x4.div ${loc('f')} (f32x4.add ${splat(2)} ${loc('f')}))`) +
    assign('z', `(f32x4.mul ${loc('s')} ${loc('s')})`) +
    assign('p', row(LOG32_ROW + LOG32_TERMS - 1));
  for (let j = LOG32_ROW + LOG32_TERMS - 2; j >= LOG32_ROW; j--)
    out += assign('p', `(f32x4.add (f32x4.mul ${loc('p')} ${loc('z')}) ${row(j)})`);
  out +=
    assign('p', `(f32x4.mul ${loc('z')} ${loc('p')})`) +
    assign('h', `(f32x4.mul (f32x4.mul ${splat(0.5)} ${loc('f')}) ${loc('f')})`) +
    assign(
      'p',
      `(f32x4.sub (f32x4.mul ${loc('k')} ${splat(LN2_HI_F)}) (f32x4.sub (f32x4.sub ${loc('h')} (f32x4.add (f32x4.mul ${loc('s')} (f32x4.add ${loc('h')} ${loc('p')})) (f32x4.mul ${loc('k')} ${splat(LN2_LO_F)}))) ${loc('f')}))`,
    ) +
    assign(
      'p',
      `(v128.bitselect ${loc('p')} (v128.bitselect ${splat(-Infinity)} (v128.bitselect ${splat(NaN)} ${x} (f32x4.lt ${x} ${splat(0)})) (f32x4.eq ${x} ${splat(0)})) (v128.and (f32x4.gt ${x} ${splat(0)}) (f32x4.lt ${x} ${splat(Infinity)})))`,
    );
  return out;
}

const EXP_LOCALS = ['y', 'c', 'k', 'r', 'q', 'e'];

/**
 * `exp(a, o, n, tab)`, `sigmoid`, `tanh`, `log`, `expm1` and `log1p` (the same parameters):
 * unary-ops.ts expF32Full, sigmoidF32, tanhF32, logF32, expm1F32 and log1pF32 over `n` floats, four
 * lanes at a time step for step (the same bits), with UNARY_TABLE at byte address `tab`. Measured in
 * V8 (Node 20, AMD EPYC with AVX-512) they take 1 to 3 ns a value on one thread, where `Math.exp`
 * takes about 20, `Math.log` 27 and `Math.tanh` 40.
 */
function expFamilyKernels(ways = 2) {
  const head = (
    name,
    locals,
    w = ways,
  ) => `  (func $${name} (export "${name}") (param $a i32) (param $o i32) (param $n i32) (param $tab i32)
    ${v128Locals(locals, w)}
`;
  const load = assign('x', '(v128.load (local.get $a))');
  const loadY = assign('y', '(v128.load (local.get $a))');
  const store = (v) => `      (v128.store (local.get $o) ${v})\n`;
  const exp = head('exp', EXP_LOCALS) + loop8(loadY + expFull4() + store(loc('e')), ['a', 'o'], EXP_LOCALS, ways);
  // e = e^-|x|; (x >= 0 ? 1 : e) / (1 + e) (NaN: e / (1 + e), NaN).
  const SIG_LOCALS = ['x', ...EXP_LOCALS];
  const sigmoid =
    head('sigmoid', SIG_LOCALS) +
    loop8(
      load +
        assign('y', `(f32x4.neg (f32x4.abs ${loc('x')}))`) +
        expFull4() +
        store(
          `(f32x4.div (v128.bitselect ${splat(1)} ${loc('e')} (f32x4.ge ${loc('x')} ${splat(0)})) (f32x4.add ${splat(1)} ${loc('e')}))`,
        ),
      ['a', 'o'],
      SIG_LOCALS,
      ways,
    );
  // a = |x|; below TANH32_SMALL a + a (z p(z)), z = a^2; else 1 - 2 / (e^(a + a) + 1); x's sign bit on either.
  const TANH_LOCALS = ['x', 'ab', 'z', 'p', ...EXP_LOCALS];
  let small = assign('z', `(f32x4.mul ${loc('ab')} ${loc('ab')})`) + assign('p', row(4 + TANH32_TERMS));
  for (let j = 3 + TANH32_TERMS; j >= 5; j--) small += assign('p', `(f32x4.add (f32x4.mul ${loc('p')} ${loc('z')}) ${row(j)})`);
  small += assign('p', `(f32x4.add ${loc('ab')} (f32x4.mul ${loc('ab')} (f32x4.mul ${loc('z')} ${loc('p')})))`);
  const large = `(f32x4.sub ${splat(1)} (f32x4.div ${splat(2)} (f32x4.add ${loc('e')} ${splat(1)})))`;
  const tanh =
    head('tanh', TANH_LOCALS) +
    loop8(
      load +
        assign('ab', `(f32x4.abs ${loc('x')})`) +
        small +
        assign('y', `(f32x4.add ${loc('ab')} ${loc('ab')})`) +
        expFull4() +
        store(
          `(v128.or (v128.bitselect ${loc('p')} ${large} (f32x4.lt ${loc('ab')} ${splat(TANH32_SMALL)})) (v128.and ${loc('x')} ${SIGN_BITS}))`,
        ),
      ['a', 'o'],
      TANH_LOCALS,
      ways,
    );
  const LOG_LOCALS = ['x', 'ab', 'k', 'f', 's', 'z', 'p', 'h'];
  const log = head('log', LOG_LOCALS) + loop8(load + log4('x') + store(loc('p')), ['a', 'o'], LOG_LOCALS, ways);
  // expm1 (expFull4's e^y - 1) and log1p, rarer, take one vector a turn (about a third slower, half the bytes).
  const expm1 = head('expm1', EXP_LOCALS, 1) + loop8(loadY + expFull4(true) + store(loc('e')), ['a', 'o'], EXP_LOCALS, 1);
  // log1p: u = 1 + x, log u plus (x - (u - 1)) / u where 0 < u < 2^24, x itself below 2^-24 in magnitude.
  const LOG1P_LOCALS = ['u', ...LOG_LOCALS];
  const log1p =
    head('log1p', LOG1P_LOCALS, 1) +
    loop8(
      load +
        assign('u', `(f32x4.add ${splat(1)} ${loc('x')})`) +
        log4('u') +
        assign(
          'p',
          `(v128.bitselect (f32x4.add ${loc('p')} (f32x4.div (f32x4.sub ${loc('x')} (f32x4.sub ${loc('u')} ${splat(1)})) ${loc('u')})) ${loc('p')} (v128.and (f32x4.gt ${loc('u')} ${splat(0)}) (f32x4.lt ${loc('u')} ${splat(2 ** 24)})))`,
        ) +
        store(`(v128.bitselect ${loc('x')} ${loc('p')} (f32x4.lt (f32x4.abs ${loc('x')}) ${splat(2 ** -24)}))`),
      ['a', 'o'],
      LOG1P_LOCALS,
      1,
    );
  return exp + sigmoid + tanh + log + expm1 + log1p;
}

/**
 * The magnitudes (as float32 bit patterns) below which the Adam kernel takes an exact
 * double-precision path for a pair of vectors: 2^-110 for v, or a parameter under weight decay
 * ({@link adamExact}), and otherwise 2^-80 for m ({@link adamMExact}). Below them a float32 step
 * could produce or read a subnormal value (v b2, p wd; m's step, m / (sqrt(v) + eps) times a
 * learning rate, is the smallest value the update forms), and on many Intel processors each such
 * operation costs a microcode assist of a hundred cycles or more. Moments stick there: a parameter
 * whose gradient stays zero (a dead ReLU unit, an embedding row never looked up) has m decay by
 * beta1 each step into the subnormal range, where 0.9 * m rounds back to m for its last few values
 * and it stays forever. Above them, and for a gradient not itself near zero, the float32 steps
 * stay normal for beta1 and beta2 above 2^-4, weight decay above 2^-16 and a step size above 2^-40
 * (with v below 2^20); outside those only the speed changes, never the result. A v of 1e-28 with m
 * and g at 1e-14 took the full exact path at 6.1-6.7 ns a value under one limit of 2^-80 for both
 * moments, the float32 loop at 1.5 under these (Intel Xeon, AVX-512).
 */
const ADAM_TINY = (47 << 23) - 1;
const ADAM_TINY_V = (17 << 23) - 1;

/**
 * Whether any lane of the vectors `xs` has a nonzero magnitude below the bit pattern L + 1, where
 * local `$limit` holds 2L in each lane: each 2|x| - 2 (the sign shifted out; zero wraps to the
 * largest) as an unsigned number, their minimum compared once.
 */
const anyTiny = (xs, limit) =>
  `(v128.any_true (i32x4.lt_u ${xs
    .map((x) => `(i32x4.sub (i32x4.shl ${x} (i32.const 1)) (local.get $TWO))`)
    .reduce((a, b) => `(i32x4.min_u ${a} ${b})`)} (local.get $${limit})))`;

/** Statements moving the exact paths' pointers `$p`, `$g`, `$m` and `$v` on by the i32 expression `by` (bytes). */
const advanceAdam = (by) => ['p', 'g', 'm', 'v'].map((q) => assign(q, `(i32.add (local.get $${q}) ${by})`)).join('');

/**
 * adam_exact(p, g, m, v, i, k, ...): `k` vectors (four values each) of the Adam step from byte `i`, each float32 operation
 * done in double precision and rounded to float32 (demoted) after it, as the TypeScript loop does
 * with Math.fround: the same bits as the float32 kernel (an operation on two float32 values is
 * exact in double precision, or rounds once there such that rounding again to float32 gives the
 * correctly rounded result), but without float32 arithmetic on subnormal values, which converting
 * to and from double does not need. Two values a turn (f64x2), loaded as 64 bits and stored so
 * (two chains interleaved measured 6.0 against 6.4 ns a value here: not worth twice the code).
 */
function adamExact() {
  const R = roundF32;
  const ld = (q) => `(f64x2.promote_low_f32x4 (v128.load64_zero (local.get $${q})))`;
  const st = (q, x) => `      (v128.store64_lane 0 (local.get $${q}) (f32x4.demote_f64x2_zero ${x}))\n`;
  const mul = (a, b) => R(`(f64x2.mul ${a} ${b})`);
  const add = (a, b) => R(`(f64x2.add ${a} ${b})`);
  const scalars = ['b1', 'b2', 'a1', 'a2', 'step', 'eps', 'wd', 'shrink'];
  const D = (x) => loc(x.toUpperCase());
  return `  (func $adam_exact
    (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $i i32) (param $k i32)
    (param $b1 f32) (param $b2 f32) (param $a1 f32) (param $a2 f32) (param $step f32) (param $eps f32) (param $first i32)
    (param $decay i32) (param $wd f32) (param $shrink f32)
    ${['pi', 'gi', 'gm', 'gv', 'mi', 'vi', ...scalars.map((x) => x.toUpperCase())].map((x) => `(local $${x} v128)`).join(' ')}
${scalars.map((x) => assign(x.toUpperCase(), `(f64x2.splat (f64.promote_f32 (local.get $${x})))`)).join('')}${advanceAdam('(local.get $i)')}    (local.set $k (i32.shl (local.get $k) (i32.const 1)))
    (loop $half
${assign('pi', ld('p'))}${assign('gi', ld('g'))}      (if (i32.eq (local.get $decay) (i32.const 1)) (then
${assign('gi', add(loc('gi'), mul(loc('pi'), D('wd'))))}      ))
      (if (i32.eq (local.get $decay) (i32.const 2)) (then
${assign('pi', mul(loc('pi'), D('shrink')))}      ))
${assign('gm', mul(loc('gi'), D('a1')))}${assign('gv', mul(mul(loc('gi'), loc('gi')), D('a2')))}${assign('mi', loc('gm'))}${assign('vi', loc('gv'))}      (if (i32.eqz (local.get $first)) (then
${assign('mi', add(mul(ld('m'), D('b1')), loc('gm')))}${assign('vi', add(mul(ld('v'), D('b2')), loc('gv')))}      ))
${st('m', loc('mi'))}${st('v', loc('vi'))}${st('p', `(f64x2.sub ${loc('pi')} ${mul(R(`(f64x2.div ${loc('mi')} ${add(R(`(f64x2.sqrt ${loc('vi')})`), D('eps'))})`), D('step'))})`)}${advanceAdam('(i32.const 8)')}      (local.set $k (i32.sub (local.get $k) (i32.const 1)))
      (br_if $half (local.get $k))))
`;
}

/**
 * adam_mexact(p, g, m, v, i, k, ...): {@link adamExact} for `k` vectors whose first moment alone is
 * tiny (the usual case: a parameter whose gradient stays zero has m decay by 0.9 a step, v by 0.999):
 * the float32 operations that cannot meet a subnormal value (the gradient's terms, v, its square
 * root, weight decay) run on f32x4 as in the kernel, and only m's update, the division and the
 * step on doubles, demoted after each. Measured on an Intel Xeon with AVX-512: 6.3 -> 3.4-3.5 ns a
 * value against the full exact path.
 */
function adamMExact() {
  const R = roundF32;
  const F = ['b2', 'a1', 'a2', 'eps', 'wd', 'shrink'];
  const D = ['b1', 'step'];
  const up = (x) => x.toUpperCase();
  const lanes = (x, h) => halfF64(loc(x), h);
  const half = (
    h,
  ) => `${assign('mi', R(`(f64x2.add ${R(`(f64x2.mul ${lanes('mo', h)} ${loc('B1')})`)} ${lanes('gm', h)})`))}      (v128.store64_lane offset=${8 * h} 0 (local.get $m) (f32x4.demote_f64x2_zero ${loc('mi')}))
      (v128.store64_lane offset=${8 * h} 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub ${lanes('pi', h)} ${R(`(f64x2.mul ${R(`(f64x2.div ${loc('mi')} ${lanes('den', h)})`)} ${loc('STEP')})`)})))
`;
  return `  (func $adam_mexact
    (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $i i32) (param $k i32)
    (param $b1 f32) (param $b2 f32) (param $a1 f32) (param $a2 f32) (param $step f32) (param $eps f32) (param $first i32)
    (param $decay i32) (param $wd f32) (param $shrink f32)
    ${['pi', 'gi', 'gm', 'vi', 'den', 'mo', 'mi', ...[...F, ...D].map(up)].map((x) => `(local $${x} v128)`).join(' ')}
${F.map((x) => assign(up(x), `(f32x4.splat (local.get $${x}))`)).join('')}${D.map((x) => assign(up(x), `(f64x2.splat (f64.promote_f32 (local.get $${x})))`)).join('')}${advanceAdam('(local.get $i)')}    (loop $vector
${assign('pi', '(v128.load (local.get $p))')}${assign('gi', '(v128.load (local.get $g))')}      (if (i32.eq (local.get $decay) (i32.const 1)) (then
${assign('gi', `(f32x4.add ${loc('gi')} (f32x4.mul ${loc('pi')} ${loc('WD')}))`)}      ))
      (if (i32.eq (local.get $decay) (i32.const 2)) (then
${assign('pi', `(f32x4.mul ${loc('pi')} ${loc('SHRINK')})`)}      ))
${assign('gm', `(f32x4.mul ${loc('gi')} ${loc('A1')})`)}${assign('vi', `(f32x4.add (f32x4.mul (v128.load (local.get $v)) ${loc('B2')}) (f32x4.mul (f32x4.mul ${loc('gi')} ${loc('gi')}) ${loc('A2')}))`)}      (v128.store (local.get $v) ${loc('vi')})
${assign('den', `(f32x4.add (f32x4.sqrt ${loc('vi')}) ${loc('EPS')})`)}${assign('mo', '(v128.load (local.get $m))')}${half(0)}${half(1)}${advanceAdam('(i32.const 16)')}      (local.set $k (i32.sub (local.get $k) (i32.const 1)))
      (br_if $vector (local.get $k))))
`;
}

/**
 * `adam(p, g, m, v, n, b1, b2, a1, a2, step, eps, first, decay, wd, shrink)`: one Adam step in place
 * over `n` floats (vectors of four; the last one may reach past `n` into the slot's padding), rounding
 * as the composite ops do: the gradient gains wd p first when decay is 1 (Adam's L2), p is scaled by
 * `shrink` first when it is 2 (AdamW); m = b1 m + a1 g, v = b2 v + a2 g g (m = a1 g, v = a2 g g when
 * first != 0, m and v then unread); p = p - (m / (sqrt(v) + eps)) step. One loop per case (decay and
 * first), chosen once rather than tested every turn, with the constants splatted before it; two
 * vectors a turn whose chains (a square root then a division each) overlap, then a last single one
 * through {@link adamExact}.
 * Measured on an AMD EPYC with AVX2 (Zen 3, Node 20): 1.41 ns a value with the tests inside one
 * loop, 0.96 like this; a square root and a division alone take 0.73. After the first step, a pair
 * of vectors with a tiny v (or, under weight decay, parameter) goes through {@link adamExact}
 * instead, and one with only a tiny m through {@link adamMExact} ({@link ADAM_TINY}): same bits,
 * no float32 arithmetic on subnormal values. Measured on an Intel Xeon with AVX-512 (Node 20, 100,352
 * values, m subnormal, v not): 25.7 ns a value before, 3.4 now; 1.44 ns a value with no tiny
 * value before, 1.6 with the test.
 */
function adamKernel() {
  const at = (p) => `(i32.add (local.get $${p}) (local.get $i))`;
  const ld = (p, o) => `(v128.load offset=${o} ${at(p)})`;
  // The vectors at byte offset `o` into locals (suffix `s`): the parameter, gradient and, after the first step, moments.
  const load = (first, o, s) =>
    assign(`pi${s}`, ld('p', o)) +
    assign(`gi${s}`, ld('g', o)) +
    (first ? '' : assign(`mo${s}`, ld('m', o)) + assign(`vo${s}`, ld('v', o)));
  const one = (decay, first, o, s) => {
    let out = '';
    if (decay === 1) out += assign(`gi${s}`, `(f32x4.add ${loc(`gi${s}`)} (f32x4.mul ${loc(`pi${s}`)} ${loc('WD')}))`);
    if (decay === 2) out += assign(`pi${s}`, `(f32x4.mul ${loc(`pi${s}`)} ${loc('SH')})`);
    const gm = `(f32x4.mul ${loc(`gi${s}`)} ${loc('A1')})`;
    const gv = `(f32x4.mul (f32x4.mul ${loc(`gi${s}`)} ${loc(`gi${s}`)}) ${loc('A2')})`;
    out += assign(`mi${s}`, first ? gm : `(f32x4.add (f32x4.mul ${loc(`mo${s}`)} ${loc('B1')}) ${gm})`);
    out += assign(`vi${s}`, first ? gv : `(f32x4.add (f32x4.mul ${loc(`vo${s}`)} ${loc('B2')}) ${gv})`);
    out += `      (v128.store offset=${o} ${at('m')} ${loc(`mi${s}`)})\n`;
    out += `      (v128.store offset=${o} ${at('v')} ${loc(`vi${s}`)})\n`;
    out += `      (v128.store offset=${o} ${at('p')} (f32x4.sub ${loc(`pi${s}`)} (f32x4.mul (f32x4.div ${loc(`mi${s}`)} (f32x4.add (f32x4.sqrt ${loc(`vi${s}`)}) ${loc('E')})) ${loc('S')})))\n`;
    return out;
  };
  // Whether any of the pair's `names` (or, with weight decay, its parameter) is below the limit in
  // local `limit` (ADAM_TINY). Not on the first step, which comes once; nor the gradient, whose tiny
  // values make the moments tiny from the next step on.
  const tiny = (names, decay, limit) =>
    anyTiny(
      ['', '_1'].flatMap((s) => [...names.map((n) => loc(n + s)), ...(decay === 0 ? [] : [loc(`pi${s}`)])]),
      limit,
    );
  const exact = (k, kernel = 'adam_exact') =>
    `        (call $${kernel} (local.get $p) (local.get $g) (local.get $m) (local.get $v) (local.get $i) (i32.const ${k})
          (local.get $b1) (local.get $b2) (local.get $a1) (local.get $a2) (local.get $step) (local.get $eps) (local.get $first)
          (local.get $decay) (local.get $wd) (local.get $shrink))\n`;
  const both = (decay, first) => interleave(one(decay, first, 0, ''), one(decay, first, 16, '_1'));
  const loops = (decay, first) => `      (block $pairs (loop $pair
        (br_if $pairs (i32.gt_s (i32.add (local.get $i) (i32.const 32)) (local.get $bytes)))
${interleave(load(first, 0, ''), load(first, 16, '_1'))}${
    first
      ? both(decay, first)
      : `        (if ${tiny(['vo'], decay, 'TINY_V')} (then
${exact(2)}        ) (else (if ${tiny(['mo'], 0, 'TINY')} (then
${exact(2, 'adam_mexact')}        ) (else
${both(decay, first)}        ))))
`
  }
        (local.set $i (i32.add (local.get $i) (i32.const 32)))
        (br $pair)))
      (if (i32.lt_s (local.get $i) (local.get $bytes)) (then
${exact(1)}      ))
      (return)
`;
  const splats = [
    ['B1', 'b1'],
    ['B2', 'b2'],
    ['A1', 'a1'],
    ['A2', 'a2'],
    ['E', 'eps'],
    ['S', 'step'],
    ['WD', 'wd'],
    ['SH', 'shrink'],
  ];
  let cases = '';
  for (const decay of [0, 1, 2])
    for (const first of [false, true])
      cases += `    (if (i32.and (i32.eq (local.get $decay) (i32.const ${decay})) (i32.eq (i32.ne (local.get $first) (i32.const 0)) (i32.const ${first ? 1 : 0}))) (then
${loops(decay, first)}    ))
`;
  return `  (func $adam (export "adam")
    (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $b1 f32) (param $b2 f32) (param $a1 f32) (param $a2 f32) (param $step f32) (param $eps f32) (param $first i32)
    (param $decay i32) (param $wd f32) (param $shrink f32)
    (local $i i32) (local $bytes i32) ${v128Locals(['pi', 'gi', 'mo', 'vo', 'mi', 'vi'])}
    ${splats.map(([l]) => `(local $${l} v128)`).join(' ')} (local $TWO v128) (local $TINY v128) (local $TINY_V v128)
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (local.set $TWO ${i32(2)})
    (local.set $TINY ${i32(2 * ADAM_TINY)})
    (local.set $TINY_V ${i32(2 * ADAM_TINY_V)})
    (local.set $bytes (i32.shl (i32.and (i32.add (local.get $n) (i32.const 3)) (i32.const -4)) (i32.const 2)))
${splats.map(([l, x]) => assign(l, `(f32x4.splat (local.get $${x}))`).replace(/^ {6}/, '    ')).join('')}${cases})
`;
}

// The row kernels of the softmax family walk each row of `[rows, cols]` a vector at a time: `$p`
// is the byte offset in the row, `$bytes` the row's length in bytes. A row's last vector may reach
// into the next row: its lanes past the row are masked where they would count, and what it stores
// there is written over when the next row is (the heap slot, a whole number of vectors, holds the
// last row's).

/** The address of the current vector of the row at pointer `base`. */
const rowAt = (base) => `(i32.add (local.get $${base}) (local.get $p))`;
const lane = (v, l) => `(f32x4.extract_lane ${l} ${v})`;
/** Lanes whose value index (p / 4 + lane) lies inside the row: -1, else 0. */
const IN_ROW = `(i32x4.lt_s (i32x4.add (i32x4.splat (i32.shr_u (local.get $p) (i32.const 2))) (v128.const i32x4 0 1 2 3)) (i32x4.splat (local.get $cols)))`;
const NEG_INF = splat(-Infinity).replaceAll('-Infinity', '-inf');
/** The current vector of the row at `a`, lanes past the row -Infinity. */
const ROW_X = `(v128.bitselect (v128.load ${rowAt('a')}) ${NEG_INF} ${IN_ROW})`;
/** `body` for each vector of the row. */
const rowVectors = (body) => `      (local.set $p (i32.const 0))
      (loop $v
${body}        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br_if $v (i32.lt_u (local.get $p) (local.get $bytes))))
`;
/** The four lanes of `$acc` added as (0 + 1) + (2 + 3). */
const ACC_SUM = `(f32.add (f32.add ${lane(loc('acc'), 0)} ${lane(loc('acc'), 1)}) (f32.add ${lane(loc('acc'), 2)} ${lane(loc('acc'), 3)}))`;
/** The locals of a row kernel that evaluates {@link exp4}. */
const ROW_LOCALS = `(local $p i32) (local $bytes i32) (local $mx f32) (local $mv v128) (local $acc v128) (local $s v128)
    (local $y v128) (local $k v128) (local $r v128) (local $q v128) (local $e v128)`;

/**
 * A row kernel `name(params)`: `body` for each of `$rows` rows of `$cols` values (nothing for none),
 * then each pointer in `step` moved on by a row (`$bytes`) and each in `pairs` by two floats.
 */
function rowKernel(name, params, body, step, pairs = []) {
  const on = (p, by) => `      (local.set $${p} (i32.add (local.get $${p}) ${by}))\n`;
  return `  (func $${name} (export "${name}") ${params.map((p) => `(param $${p} i32)`).join(' ')}
    ${ROW_LOCALS}
    (if (i32.or (i32.le_s (local.get $rows) (i32.const 0)) (i32.le_s (local.get $cols) (i32.const 0))) (then (return)))
    (local.set $bytes (i32.shl (local.get $cols) (i32.const 2)))
    (loop $row
${body}${step.map((p) => on(p, '(local.get $bytes)')).join('')}${pairs.map((p) => on(p, '(i32.const 8)')).join('')}      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
      (br_if $row (local.get $rows))))
`;
}

/**
 * Statements setting `$mx` to the largest value of the row at `a` (0 if there is none) and `$acc`'s
 * lanes to the sums of e^(x - max) by {@link exp4} (value j in lane j % 4; lanes past the row add
 * e^-Infinity = 0), each e also stored at the row at `store` when given.
 */
function rowMaxExpSum(store) {
  const maxOf = (l) =>
    `      (local.set $mx (select ${lane(loc('mv'), l)} (local.get $mx) (f32.lt (local.get $mx) ${lane(loc('mv'), l)})))\n`;
  return `      (local.set $mv ${NEG_INF})
${rowVectors(`        (local.set $mv (f32x4.pmax (local.get $mv) ${ROW_X}))\n`)}      (local.set $mx ${lane(loc('mv'), 0)})
${maxOf(1)}${maxOf(2)}${maxOf(3)}      (if (f32.eq (local.get $mx) (f32.const -inf)) (then (local.set $mx (f32.const 0))))
      (local.set $acc (v128.const i32x4 0 0 0 0))
${rowVectors(
  assign('y', `(f32x4.sub ${ROW_X} (f32x4.splat (local.get $mx)))`) +
    exp4() +
    (store ? `        (v128.store ${rowAt(store)} (local.get $e))\n` : '') +
    assign('acc', `(f32x4.add (local.get $acc) (local.get $e))`),
)}`;
}

/**
 * `softmax_rows(a, o, rows, cols, tab)`: softmax of each row of `[rows, cols]` at `a` into `o`, the
 * float32 steps of cpu-backend.ts softmaxF32: the row's largest value (0 if there is none), e^(x - max)
 * by {@link exp4} (its table at `tab`), summed four lanes at a time (value j in lane j % 4) and the
 * lanes then as (0 + 1) + (2 + 3), each value times 1 / sum.
 */
function softmaxKernel() {
  return rowKernel(
    'softmax_rows',
    ['a', 'o', 'rows', 'cols', 'tab'],
    rowMaxExpSum('o') +
      `      (local.set $mv (f32x4.splat (f32.div (f32.const 1) ${ACC_SUM})))
${rowVectors(`        (v128.store ${rowAt('o')} (f32x4.mul (v128.load ${rowAt('o')}) (local.get $mv)))\n`)}`,
    ['o', 'a'],
  );
}

/**
 * `row_logsumexp(a, rows, cols, tab, out)`: for each row of `[rows, cols]` at `a`, its largest value
 * (0 if there is none) and the sum of e^(x - max) by {@link exp4}, four lanes at a time added as
 * (0 + 1) + (2 + 3), as the float pair `out[2r], out[2r + 1]`: the float32 steps of cpu-backend.ts
 * rowExpSums (log-softmax takes the log in JavaScript, WebAssembly has none).
 */
function rowLogSumExpKernel() {
  return rowKernel(
    'row_logsumexp',
    ['a', 'rows', 'cols', 'tab', 'out'],
    rowMaxExpSum(null) +
      `      (f32.store (local.get $out) (local.get $mx))
      (f32.store offset=4 (local.get $out) ${ACC_SUM})
`,
    ['a'],
    ['out'],
  );
}

/**
 * The gradients of softmax and log-softmax along rows of `[rows, cols]` from their output `y`:
 * `softmax_bwd_rows(dy, yp, o, rows, cols, tab)`, `y * (dy - s)` with `s` the sum of `dy * y`; and
 * `log_softmax_bwd_rows(dy, yp, o, rows, cols, tab)`, `dy - e^y * s` with `s` the sum of `dy` and e^y
 * by {@link exp4} (y <= 0). Each sum in four lanes (value j in lane j % 4; lanes past the row add
 * nothing), the lanes then as (0 + 1) + (2 + 3): the float32 steps of cpu-backend.ts
 * softmaxRowsBackward.
 */
function softmaxBackwardKernels() {
  const dy = `(v128.load ${rowAt('dy')})`;
  const y = `(v128.load ${rowAt('yp')})`;
  const kernel = (name, term, out) =>
    rowKernel(
      name,
      ['dy', 'yp', 'o', 'rows', 'cols', 'tab'],
      `      (local.set $acc (v128.const i32x4 0 0 0 0))
${rowVectors(assign('acc', `(f32x4.add (local.get $acc) (v128.and ${term} ${IN_ROW}))`))}      (local.set $s (f32x4.splat ${ACC_SUM}))
${rowVectors(out)}`,
      ['dy', 'yp', 'o'],
    );
  return (
    kernel(
      'softmax_bwd_rows',
      `(f32x4.mul ${dy} ${y})`,
      `        (v128.store ${rowAt('o')} (f32x4.mul ${y} (f32x4.sub ${dy} (local.get $s))))\n`,
    ) +
    kernel(
      'log_softmax_bwd_rows',
      dy,
      assign('y', y) + exp4() + `        (v128.store ${rowAt('o')} (f32x4.sub ${dy} (f32x4.mul (local.get $e) (local.get $s))))\n`,
    )
  );
}

/**
 * The kernels that worker threads run. Each is written in kernels.wat as an internal function with
 * positional i32 parameters; its export takes the byte address of a struct of those parameters
 * (one i32 each, in order), so JavaScript passes one number however many the kernel needs.
 */
const TASKS = [
  'gemm_blocked',
  'gemm_batch',
  'gemm_claim',
  'pack_claim',
  'conv_fwd',
  'conv_bwd_w',
  'conv_bwd_x',
  'maxpool2x2',
  'unpool',
  'gelu_fwd',
  'exp_fwd',
  'sigmoid_fwd',
  'tanh_fwd',
  'log_fwd',
  'expm1_fwd',
  'log1p_fwd',
  'gelu_only',
  'linear_dw',
  'adam_part',
];

/** Tasks whose kernel is also exported with positional parameters, so the task has a name of its own. */
const TASK_KERNEL = {
  gelu_fwd: 'gelu_save',
  exp_fwd: 'exp',
  sigmoid_fwd: 'sigmoid',
  tanh_fwd: 'tanh',
  log_fwd: 'log',
  expm1_fwd: 'expm1',
  log1p_fwd: 'log1p',
  gelu_only: 'gelu',
};

/** The `$id` of the kernel task `name` calls. */
const taskKernel = (name) => TASK_KERNEL[name] ?? name;

/** The parameters of the kernel task `name` calls. */
function taskParams(byId, name) {
  const params = byId.get(taskKernel(name));
  if (!params || params.some(([, t]) => t !== 'i32')) throw new Error(`kernels.wat: $${taskKernel(name)} must take i32 parameters`);
  return params;
}

/** The parameters `[name, type]` of every function in `wat` with the given `$id` or export name. */
function signatures(wat) {
  const byId = new Map();
  const exported = [];
  const re = /\(func(?:\s+\$(\w+))?(?:\s+\(export "(\w+)"\))?((?:\s*\(param \$\w+ \w+\))*)/g;
  for (const m of wat.matchAll(re)) {
    const params = [...m[3].matchAll(/\(param \$(\w+) (\w+)\)/g)].map((p) => [p[1], p[2]]);
    if (m[1]) byId.set(m[1], params);
    if (m[2]) exported.push([m[2], params]);
  }
  return { byId, exported };
}

/** The WAT of the struct-argument export of each task. */
function tasks(byId) {
  return TASKS.map((name) => {
    const params = taskParams(byId, name);
    const loads = params.map((_, i) => `(i32.load offset=${i * 4} (local.get $args))`).join(' ');
    return `  (func (export "${name}") (param $args i32)\n    (call $${taskKernel(name)} ${loads}))\n`;
  }).join('');
}

/**
 * The matrix kernel's multiply-adds as relaxed-SIMD fused multiply-adds (one rounding instead of
 * two, where the hardware has FMA): the variant used where the engine has relaxed SIMD.
 */
function fused(wat) {
  const re = /\(f32x4\.add \(local\.get (\$c\d\d)\) \(f32x4\.mul \(local\.get \$av\) \(local\.get (\$b\d)\)\)\)/g;
  const out = wat.replace(re, '(f32x4.relaxed_madd (local.get $av) (local.get $2) (local.get $1))');
  // Two 4x8 tile updates: A row-major and A in packed strips.
  if (out.match(/relaxed_madd/g)?.length !== 16) throw new Error('kernels.wat: the two 4x8 tile updates of $gemm were not found');
  return out;
}

/**
 * The SIMD peak probe: `chains` independent f32x4 accumulators `c += x * y`, each step a multiply
 * and an add (or one relaxed fused multiply-add), `steps` steps per loop turn, as the matrix
 * kernel's tile update does but with no loads; `run(turns)` returns a lane of the sum so the work
 * cannot be dropped. Enough chains to cover the latency of the add (or fused multiply-add) units,
 * few enough to stay in the 16 vector registers of x64, so it runs at the engine's arithmetic peak.
 * In the plain probe x and y do not change inside the loop, so the engine computes the products
 * x * y once (measured in V8: as fast as adds alone); it times the adds, a ceiling the plain kernel
 * can reach only where multiplies and adds issue on separate units. The fused multiply-add cannot
 * be split that way: that probe times the fused units themselves.
 */
export const PEAK = { chains: 10, steps: 4 };

function peakText(relaxed) {
  const { chains, steps } = PEAK;
  const c = [...Array(chains).keys()];
  const step = (i) =>
    relaxed
      ? `(local.set $c${i} (f32x4.relaxed_madd (local.get $x${i % 2}) (local.get $y) (local.get $c${i})))`
      : `(local.set $c${i} (f32x4.add (local.get $c${i}) (f32x4.mul (local.get $x${i % 2}) (local.get $y))))`;
  const body = Array.from({ length: steps }, () => c.map((i) => `      ${step(i)}\n`).join('')).join('');
  const sum = c.slice(1).reduce((acc, i) => `(f32x4.add ${acc} (local.get $c${i}))`, '(local.get $c0)');
  return `(module
  (func (export "run") (param $n i32) (result f32)
    (local $x0 v128) (local $x1 v128) (local $y v128) ${c.map((i) => `(local $c${i} v128)`).join(' ')}
    (local.set $x0 (v128.const f32x4 0.5 0.25 0.125 0.0625))
    (local.set $x1 (v128.const f32x4 0.75 0.375 0.1875 0.09375))
    ;; y from the argument, so the engine cannot fold the products into constants.
    (local.set $y (f32x4.splat (f32.convert_i32_s (i32.and (local.get $n) (i32.const 1)))))
${c.map((i) => `    (local.set $c${i} (v128.const f32x4 ${i} ${i} ${i} ${i}))\n`).join('')}    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return (f32.const 0))))
    (loop $l
${body}      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (f32x4.extract_lane 0 ${sum})))
`;
}

/** kernels.wat with the generated functions in place of its two markers. */
export function moduleText() {
  const source = readFileSync(here('kernels.wat'), 'utf8');
  const family = Object.entries(ELEMENTWISE)
    .flatMap(([shape, ops]) => Object.entries(ops).map(([name, expr]) => elementwise(name, shape, expr)))
    .join('');
  const kernels =
    adamExact() +
    adamMExact() +
    adamKernel() +
    geluKernels() +
    expFamilyKernels() +
    softmaxKernel() +
    rowLogSumExpKernel() +
    softmaxBackwardKernels();
  const withKernels = source.replace(/^ *;; @elementwise:.*\n/m, family + kernels);
  return withKernels.replace(/^ *;; @tasks:.*\n/m, tasks(signatures(withKernels).byId));
}

/** The TypeScript source of kernels-wasm.ts for the current kernels.wat. */
export async function generate() {
  const wabt = await createWabt();
  const source = moduleText();
  const assemble = (shared, relaxed = false) => {
    const text = relaxed ? fused(source) : source;
    const mod = wabt.parseWat('kernels.wat', text.replace('65536 __SHARED__)', shared ? '65536 shared)' : '65536)'), {
      simd: true,
      threads: true,
      relaxed_simd: true,
    });
    // wabt's validator rejects shared memories whatever the features; the private variant is the
    // same code, and engines validate the shared one when they compile it.
    if (!shared) mod.validate();
    const { buffer } = mod.toBinary({ log: false, write_debug_names: false });
    mod.destroy();
    return Buffer.from(buffer);
  };
  // The shared variants differ from the private ones in one byte, the memory import's limits flag:
  // only the private ones are shipped, and the loader sets that byte (SHARED_FLAG) to get the others.
  const plain = assemble(false);
  const plainFma = assemble(false, true);
  const flagAt = (a, b) => {
    const at = [...a.keys()].filter((i) => a[i] !== b[i]);
    if (a.length !== b.length || at.length !== 1) throw new Error('kernels.wat: the shared variant must differ in the memory flag alone');
    return at[0];
  };
  const shared = assemble(true);
  const at = flagAt(plain, shared);
  if (flagAt(plainFma, assemble(true, true)) !== at) throw new Error('kernels.wat: the fused variant has its memory flag elsewhere');
  // The fused variant as the bytes where it differs from the plain one, between their common
  // beginning and end (the memory flag lies in the common beginning).
  let fmaPrefix = 0;
  while (fmaPrefix < Math.min(plain.length, plainFma.length) && plain[fmaPrefix] === plainFma[fmaPrefix]) fmaPrefix++;
  let fmaSuffix = 0;
  while (
    fmaSuffix < Math.min(plain.length, plainFma.length) - fmaPrefix &&
    plain[plain.length - 1 - fmaSuffix] === plainFma[plainFma.length - 1 - fmaSuffix]
  )
    fmaSuffix++;
  if (fmaPrefix <= at) throw new Error('kernels.wat: the fused variant differs before the memory flag');
  const fmaPart = plainFma.subarray(fmaPrefix, plainFma.length - fmaSuffix);
  const { byId, exported } = signatures(source);
  const methods = exported.map(([name, params]) => `  ${name}(${params.map(([p]) => `${p}: number`).join(', ')}): void;`).join('\n');
  const fields = TASKS.map(
    (name) =>
      `  ${name}: [${taskParams(byId, name)
        .map(([p]) => `'${p}'`)
        .join(', ')}],`,
  ).join('\n');
  return `// Generated by generate.mjs from kernels.wat: do not edit by hand.

/** The kernels of kernels.wat with a private memory, as base64. */
export const KERNELS_WASM = '${plain.toString('base64')}';

/**
 * The kernels with the matrix product's multiply-adds fused (relaxed SIMD \`f32x4.relaxed_madd\`),
 * for engines that have relaxed SIMD, with a private memory: the first {@link KERNELS_FMA_PREFIX}
 * bytes of {@link KERNELS_WASM}, these bytes (as base64), then its last {@link KERNELS_FMA_SUFFIX}.
 * The two differ only in the matrix kernel (and the sizes before it), so the bundle carries that once.
 */
export const KERNELS_WASM_FMA_PART = '${fmaPart.toString('base64')}';

/** Bytes of {@link KERNELS_WASM} that begin the fused variant. */
export const KERNELS_FMA_PREFIX = ${fmaPrefix};

/** Bytes of {@link KERNELS_WASM} that end the fused variant. */
export const KERNELS_FMA_SUFFIX = ${fmaSuffix};

/**
 * Where the variants importing a shared memory (for worker threads) differ from the private ones:
 * the byte at {@link SHARED_FLAG_AT} (the memory import's limits flag) is {@link SHARED_FLAG}.
 */
export const SHARED_FLAG_AT = ${at};

/** The memory import's limits flag of the shared variants (shared, with a maximum). */
export const SHARED_FLAG = ${shared[at]};

/**
 * The exports of kernels.wat, with its parameter names. Addresses are byte offsets into the
 * module's memory; the thread kernels ({@link TASK_FIELDS}) take the address of their argument struct.
 */
export interface KernelExports {
${methods}
}

/**
 * The kernels worker threads can run, each with the fields of its argument struct in memory
 * order (one int32 each): the parameters of its positional function in kernels.wat.
 */
export const TASK_FIELDS = {
${fields}
} as const;
`;
}

/** The TypeScript source of peak-wasm.ts: the SIMD peak probe in its two forms. */
export async function generatePeak() {
  const wabt = await createWabt();
  const toBase64 = (text) => {
    const mod = wabt.parseWat('peak.wat', text, { simd: true, relaxed_simd: true });
    mod.validate();
    const { buffer } = mod.toBinary({ log: false, write_debug_names: false });
    mod.destroy();
    return Buffer.from(buffer).toString('base64');
  };
  return `// Generated by generate.mjs: do not edit by hand.

/**
 * The SIMD peak probe: \`run(turns)\` performs \`turns * ${peakFlopsPerTurn()}\` floating-point operations
 * in ${PEAK.chains} independent f32x4 accumulators of multiply (f32x4.mul) and add (f32x4.add), as base64.
 */
export const PEAK_WASM = '${toBase64(peakText(false))}';

/** The same probe with one relaxed-SIMD fused multiply-add (f32x4.relaxed_madd) per step. */
export const PEAK_WASM_FMA = '${toBase64(peakText(true))}';

/** Floating-point operations (a multiply and an add per lane per step) per turn of \`run\`. */
export const PEAK_FLOPS_PER_TURN = ${peakFlopsPerTurn()};
`;
}

function peakFlopsPerTurn() {
  return PEAK.chains * PEAK.steps * 4 * 2;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = await generate();
  const target = here('kernels-wasm.ts');
  if (process.argv.includes('--check')) {
    if (readFileSync(target, 'utf8') !== text) {
      console.error('kernels-wasm.ts is out of date: run node src/cpu/wasm/generate.mjs');
      process.exit(1);
    }
  } else {
    writeFileSync(target, text);
  }
  const peak = await generatePeak();
  const peakTarget = here('peak-wasm.ts');
  if (process.argv.includes('--check')) {
    if (readFileSync(peakTarget, 'utf8') !== peak) {
      console.error('peak-wasm.ts is out of date: run node src/cpu/wasm/generate.mjs');
      process.exit(1);
    }
  } else {
    writeFileSync(peakTarget, peak);
  }
}
