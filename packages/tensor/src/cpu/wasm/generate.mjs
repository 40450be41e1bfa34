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
    // The gradient of relu: dy (A) where x (B) > 0, else 0.
    relu_grad: '(v128.and A (f32x4.gt B Z))',
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
    // pmax(0, x) = 0 < x ? x : 0: also 0 for NaN and -0, as the JavaScript loop gives.
    relu: '(f32x4.pmax Z A)',
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

/** The WAT of one elementwise kernel. */
function elementwise(name, shape, expr) {
  const { params, arrays } = SHAPES[shape];
  const body = expr
    .replaceAll('A', '(v128.load (local.get $a))')
    .replaceAll('B', '(v128.load (local.get $b))')
    .replaceAll('S', '(f32x4.splat (local.get $s))')
    .replaceAll('Z', '(v128.const f32x4 0 0 0 0)');
  const step = [...arrays, 'o'].map((p) => `      (local.set $${p} (i32.add (local.get $${p}) (i32.const 16)))\n`).join('');
  return `  (func (export "${name}") ${params.map(([p, t]) => `(param $${p} ${t})`).join(' ')}
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (loop $l
      (v128.store (local.get $o) ${body})
${step}      (local.set $n (i32.sub (local.get $n) (i32.const 4)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0)))))
`;
}

/**
 * Exact GELU and its derivative on f64x2 pairs, the same float64 steps in the same order as
 * `gelu` / `geluGrad` in backend/unary-ops.ts (so both give the same float32 bits; a test
 * checks it): erf from the polynomial pieces of the table at `tab` (unary-ops.ts
 * ERF_EXP_TABLE: per piece mid, scale and 16 powers, each lane reading its own piece's row),
 * e^y as there. Four floats per turn, two f64x2 halves; (a, o, n, tab).
 */
const PIECE_BYTES = 18 * 8;
const EXP_AT_BYTES = 4 * PIECE_BYTES;
const f64 = (v) => `(v128.const f64x2 ${v} ${v})`;
const num = (v) => (Object.is(v, -0) ? '-0' : String(v));
const f32r = (e) => `(f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero ${e}))`;
const mul = (a, b) => `(f64x2.mul ${a} ${b})`;
const add = (a, b) => `(f64x2.add ${a} ${b})`;
const sub = (a, b) => `(f64x2.sub ${a} ${b})`;
const get = (l) => `(local.get $${l})`;
const set = (l, e) => `      (local.set $${l} ${e})\n`;

/**
 * Estrin's order of unary-ops.ts poly16 over `coef(j)` at `t` (locals `t2`, `t4` of suffix `h`).
 * With `terms` 12 the top four coefficients are left out: poly16 with them zero gives the same
 * bits (its last group is +0, and q2 + 0 * t4 is q2).
 */
function estrin(coef, t, h, terms = 16) {
  const q = (i) =>
    add(add(coef(4 * i), mul(coef(4 * i + 1), get(t))), mul(add(coef(4 * i + 2), mul(coef(4 * i + 3), get(t))), get(`t2${h}`)));
  const t4 = get(`t4${h}`);
  const high = terms === 12 ? q(2) : add(q(2), mul(q(3), t4));
  return (
    set(`t2${h}`, mul(get(t), get(t))) +
    set(`t4${h}`, mul(get(`t2${h}`), get(`t2${h}`))) +
    set(`p${h}`, add(add(q(0), mul(q(1), t4)), mul(high, mul(t4, t4))))
  );
}

const SQRT1_2_F = Math.fround(Math.SQRT1_2);
const INV_SQRT_2PI_F = Math.fround(0.3989422804014327);

/**
 * `$gelu_erf(v, tab)`: erf of the f64x2 `v` (float32 values), rounded to float32, from the pieces
 * at `tab`.
 */
function erfFunction() {
  const v = get('v');
  const a = get('a');
  // Lane j of the piece row: each lane loads from its own row's address.
  const gather = (off) => `(v128.load64_lane offset=${off} 1 ${get('r1')} (v128.load64_lane offset=${off} 0 ${get('r0')} ${f64(0)}))`;
  const row = (lane) =>
    `(i32.add ${get('tab')} (i32.mul (i32.wrap_i64 (i64x2.extract_lane ${lane} ${get('m')})) (i32.const ${PIECE_BYTES})))`;
  const below0 = `(f64x2.lt ${v} ${f64(0)})`;
  // Both lanes on the first piece (most activations): its 12 coefficients, loaded once for both.
  let fast = set('t', mul(sub(mul(v, v), f64(0.5)), f64(2)));
  fast += estrin((j) => `(v128.load64_splat offset=${16 + 8 * j} ${get('tab')})`, 't', '', 12);
  fast += `      (return ${f32r(mul(v, get('p')))})\n`;
  // The piece: 0 below 1 (and for NaN), 1, 2, 3 from 1, 2, 3 (and 4.5 up, replaced below).
  let slow = set('m', `(i64x2.neg (i64x2.add (i64x2.add (f64x2.ge ${a} ${f64(1)}) (f64x2.ge ${a} ${f64(2)})) (f64x2.ge ${a} ${f64(3)})))`);
  slow += set('r0', row(0));
  slow += set('r1', row(1));
  // The argument: x^2 on the first piece, |x| on the others; t = (arg - mid) * scale.
  slow += set('t', mul(sub(`(v128.bitselect ${a} ${mul(v, v)} (f64x2.ge ${a} ${f64(1)}))`, gather(0)), gather(8)));
  slow += estrin((j) => gather(16 + 8 * j), 't', '');
  const p = get('p');
  // x * p on the first piece, ±p on the others, ±1 from 4.5 (erfc(4.5) is below half a float32 step).
  const mid = `(v128.bitselect (f64x2.neg ${p}) ${p} ${below0})`;
  const erf = `(v128.bitselect ${mul(v, p)} ${mid} (f64x2.lt ${a} ${f64(1)}))`;
  const one = `(v128.bitselect ${f64(-1)} ${f64(1)} ${below0})`;
  return `  (func $gelu_erf (param $v v128) (param $tab i32) (result v128)
    (local $a v128) (local $m v128) (local $t v128) (local $t2 v128) (local $t4 v128) (local $p v128) (local $r0 i32) (local $r1 i32)
${set('a', `(f64x2.abs ${v})`)}    (if (i64x2.all_true (f64x2.lt ${a} ${f64(1)}))
      (then
${fast}))
${slow}    ${f32r(`(v128.bitselect ${one} ${erf} (f64x2.ge ${a} ${f64(4.5)}))`)})
`;
}

/** `$gelu_exp(y, tab)`: e^y for the f64x2 `y` <= 0, as unary-ops.ts expNonPositive. */
function expFunction() {
  // k = round(y / ln 2), r = y - k ln 2, e^r from its series, times 2^k; 0 below -110 (and for -Infinity).
  const ROUND = 6755399441055744;
  const y = get('y');
  const k = get('k');
  const pow2 = `(i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero ${k})) (v128.const i64x2 1023 1023)) (i32.const 52))`;
  return `  (func $gelu_exp (param $y v128) (param $tab i32) (result v128)
    (local $k v128) (local $t v128) (local $t2 v128) (local $t4 v128) (local $p v128)
${set('k', sub(add(mul(y, f64(num(Math.LOG2E))), f64(ROUND)), f64(ROUND)))}${set(
    't',
    sub(sub(y, mul(k, f64('6.93147180369123816490e-1'))), mul(k, f64('1.90821492927058770002e-10'))),
  )}${estrin((j) => `(v128.load64_splat offset=${EXP_AT_BYTES + 8 * j} ${get('tab')})`, 't', '')}    (v128.andnot ${mul(get('p'), pow2)} (f64x2.lt ${y} ${f64(-110)})))
`;
}

/** `$gelu_half(x, tab)`: exact GELU of the f64x2 `x` (float32 values): f32(x * 0.5) * f32(1 + erf) + 0 (+ 0 turns -0 into 0). */
function halfFunction() {
  const x = get('x');
  const e = `(call $gelu_erf ${f32r(mul(x, f64(num(SQRT1_2_F))))} ${get('tab')})`;
  return `  (func $gelu_half (param $x v128) (param $tab i32) (result v128)
    ${add(mul(f32r(mul(x, f64(0.5))), f32r(add(f64(1), e))), f64(0))})
`;
}

/**
 * `$gelu_pdf_term(x, tab)`: `f32(x * pdf(x))`, the second term of the GELU derivative, pdf rounded as
 * unary-ops.ts geluPdf.
 */
function pdfTermFunction() {
  const x = get('x');
  const ex = `(call $gelu_exp ${f32r(mul(f32r(mul(x, x)), f64(-0.5)))} ${get('tab')})`;
  return `  (func $gelu_pdf_term (param $x v128) (param $tab i32) (result v128)
    ${f32r(mul(x, f32r(mul(f64(num(INV_SQRT_2PI_F)), f32r(ex)))))})
`;
}

/**
 * `gelu_save(a, o, cdf, n, tab)`: GELU of `a` into `o` and Φ (`0.5 * f32(1 + erf)`, exact in float32)
 * into `cdf`, which `gelu_backward(dy, a, cdf, o, n, tab)` turns into `dy * f32(Φ + f32(x φ(x)))`
 * without evaluating erf again: the bits of `gelu` and of `dy * geluGrad(x)`.
 */
function geluSaveKernels() {
  const half = (h) =>
    `(f64x2.promote_low_f32x4 ${h === 0 ? '(local.get $in)' : '(i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $in) (local.get $in))'})`;
  const join = (a, b) =>
    `(i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero ${a}) (f32x4.demote_f64x2_zero ${b}))`;
  const onePlus = (h) =>
    set(`u${h}`, f32r(add(f64(1), `(call $gelu_erf ${f32r(mul(get(`x${h}`), f64(num(SQRT1_2_F))))} (local.get $tab))`)));
  const y = (h) => add(mul(f32r(mul(get(`x${h}`), f64(0.5))), get(`u${h}`)), f64(0));
  const step = (names) =>
    names
      .map(
        (p) => `      (local.set $${p} (i32.add (local.get $${p}) (i32.const 16)))
`,
      )
      .join('');
  const save = `  (func (export "gelu_save") (param $a i32) (param $o i32) (param $cdf i32) (param $n i32) (param $tab i32)
    (local $in v128) (local $x0 v128) (local $x1 v128) (local $u0 v128) (local $u1 v128)
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (loop $l
      (local.set $in (v128.load (local.get $a)))
${set('x0', half(0))}${set('x1', half(1))}${onePlus(0)}${onePlus(1)}      (v128.store (local.get $o) ${join(y(0), y(1))})
      (v128.store (local.get $cdf) ${join(mul(f64(0.5), get('u0')), mul(f64(0.5), get('u1')))})
${step(['a', 'o', 'cdf'])}      (local.set $n (i32.sub (local.get $n) (i32.const 4)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0)))))
`;
  const g = (h) => {
    const c = `(f64x2.promote_low_f32x4 ${h === 0 ? '(local.get $c)' : '(i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $c) (local.get $c))'})`;
    return add(c, `(call $gelu_pdf_term ${half(h)} (local.get $tab))`);
  };
  const backward = `  (func (export "gelu_backward") (param $dy i32) (param $a i32) (param $cdf i32) (param $o i32) (param $n i32) (param $tab i32)
    (local $in v128) (local $c v128)
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (loop $l
      (local.set $in (v128.load (local.get $a)))
      (local.set $c (v128.load (local.get $cdf)))
      (v128.store (local.get $o) (f32x4.mul (v128.load (local.get $dy)) ${join(g(0), g(1))}))
${step(['dy', 'a', 'cdf', 'o'])}      (local.set $n (i32.sub (local.get $n) (i32.const 4)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0)))))
`;
  return save + backward;
}

/** The exported `gelu(a, o, n, tab)`: four floats a turn, two f64x2 halves through `$gelu_half`. */
function geluKernel() {
  const half = '$gelu_half';
  return `  (func (export "gelu") (param $a i32) (param $o i32) (param $n i32) (param $tab i32)
    (local $in v128)
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (loop $l
      (local.set $in (v128.load (local.get $a)))
      (v128.store (local.get $o)
        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (call ${half} (f64x2.promote_low_f32x4 (local.get $in)) (local.get $tab)))
          (f32x4.demote_f64x2_zero (call ${half}
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $in) (local.get $in)))
            (local.get $tab)))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (local.set $n (i32.sub (local.get $n) (i32.const 4)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0)))))
`;
}

/**
 * The kernels that worker threads run. Each is written in kernels.wat as an internal function with
 * positional i32 parameters; its export takes the byte address of a struct of those parameters
 * (one i32 each, in order), so JavaScript passes one number however many the kernel needs.
 */
const TASKS = ['gemm_blocked', 'gemm_batch', 'gemm_claim', 'pack_claim', 'conv_fwd', 'conv_bwd_w', 'conv_bwd_x', 'maxpool2x2'];

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
    const params = byId.get(name);
    if (!params || params.some(([, t]) => t !== 'i32')) throw new Error(`kernels.wat: $${name} must take i32 parameters`);
    const loads = params.map((_, i) => `(i32.load offset=${i * 4} (local.get $args))`).join(' ');
    return `  (func (export "${name}") (param $args i32)\n    (call $${name} ${loads}))\n`;
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
  const gelu = erfFunction() + expFunction() + halfFunction() + geluKernel() + pdfTermFunction() + geluSaveKernels();
  const { byId } = signatures(source);
  return source.replace(/^ *;; @elementwise:.*\n/m, family + gelu).replace(/^ *;; @tasks:.*\n/m, tasks(byId));
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
  const { byId, exported } = signatures(source);
  const methods = exported.map(([name, params]) => `  ${name}(${params.map(([p]) => `${p}: number`).join(', ')}): void;`).join('\n');
  const fields = TASKS.map(
    (name) =>
      `  ${name}: [${byId
        .get(name)
        .map(([p]) => `'${p}'`)
        .join(', ')}],`,
  ).join('\n');
  return `// Generated by generate.mjs from kernels.wat: do not edit by hand.

/** The kernels of kernels.wat with a private memory, as base64. */
export const KERNELS_WASM = '${plain.toString('base64')}';

/**
 * The kernels with the matrix product's multiply-adds fused (relaxed SIMD \`f32x4.relaxed_madd\`),
 * for engines that have relaxed SIMD, with a private memory.
 */
export const KERNELS_WASM_FMA = '${plainFma.toString('base64')}';

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
