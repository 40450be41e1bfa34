/**
 * Primitive-level checks of a backend against the CPU backend: every kernel
 * of the Backend interface on inputs chosen to reach its edge paths
 * (broadcast patterns, axis sets, transposed operands, padding, stride).
 * Shared by the Node tests and the Chromium page, so GL runs the same checks.
 */
import { cpuBackend, type Backend, type DType, type TypedArray, type Window2d } from '@bp/tensor';

/** How far a backend may stray from the CPU backend: `|got - want| <= atol + rtol * |want|`. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** One check; `run` throws on a mismatch. */
export interface ParityCase {
  group: string;
  name: string;
  run(b: Backend, tol: Tolerance): void;
}

const cpu = cpuBackend();

/** Deterministic values in [lo, hi) from a small LCG (no dependence on the global seed). */
export function values(n: number, seed: number, lo = -2, hi = 2): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  }
  return out;
}

function ints(n: number, seed: number, lo: number, hi: number): Int32Array {
  return Int32Array.from(values(n, seed, lo, hi), (v) => Math.floor(v));
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Compares typed arrays cell by cell; NaN matches NaN and infinities must match exactly. */
export function assertClose(what: string, got: TypedArray, want: TypedArray, tol: Tolerance): void {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length} != ${want.length}`);
  if (want instanceof Int32Array !== got instanceof Int32Array) throw new Error(`${what}: dtype of the result differs`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    const exact = !Number.isFinite(w) || want instanceof Int32Array;
    if (exact ? g !== w : !(Math.abs(g - w) <= tol.atol + tol.rtol * Math.abs(w))) {
      throw new Error(`${what}: at ${i} got ${g}, want ${w} (atol ${tol.atol}, rtol ${tol.rtol})`);
    }
  }
}

/**
 * Comparisons waiting for an asynchronous read: on a backend that cannot read synchronously
 * (`syncRead: false`, WebGPU) `same` queues its read here and {@link runParityCase} awaits them.
 */
const pending: Promise<void>[] = [];

/**
 * Runs `op` on both backends (inputs uploaded to `b`) and compares the results: at once where
 * `b` reads synchronously, else through `readAsync`, settled by {@link runParityCase}.
 */
function same(
  b: Backend,
  tol: Tolerance,
  what: string,
  inputs: { v: TypedArray; dtype: DType }[],
  op: (be: Backend, xs: unknown[]) => unknown,
  outSize: number,
  outDtype: DType,
): void {
  const want = cpu.read(
    op(
      cpu as Backend,
      inputs.map((x) => x.v),
    ) as TypedArray,
    outSize,
    outDtype,
  );
  const stored = inputs.map((x) => b.upload(x.v, x.dtype));
  const out = op(b, stored);
  const free = () => {
    for (const s of [...stored, out]) b.dispose?.(s);
  };
  if (b.syncRead === false) {
    if (!b.readAsync) throw new Error(`${what}: backend '${b.name}' reads neither synchronously nor asynchronously`);
    pending.push(
      b
        .readAsync(out, outSize, outDtype)
        .then((got) => assertClose(what, got, want, tol))
        .finally(free),
    );
    return;
  }
  const got = b.read(out, outSize, outDtype);
  assertClose(what, got, want, tol);
  free();
}

const f = (v: TypedArray) => ({ v, dtype: 'float32' as DType });
const i32 = (v: TypedArray) => ({ v, dtype: 'int32' as DType });

const cases: ParityCase[] = [];
const add = (group: string, name: string, run: (b: Backend, tol: Tolerance) => void) => cases.push({ group, name, run });

add('storage', 'upload and read float32 and int32 (exact below 2^24)', (b, tol) => {
  const fv = values(1000, 1, -1e6, 1e6);
  same(b, { atol: 0, rtol: 0 }, 'float32', [f(fv)], (_be, xs) => xs[0], 1000, 'float32');
  const iv = Int32Array.from([0, 1, -1, 123456, -(2 ** 24) + 1, 2 ** 24 - 1, 7]);
  same(b, tol, 'int32', [i32(iv)], (_be, xs) => xs[0], iv.length, 'int32');
});

add('storage', 'fill', (b, tol) => {
  for (const [n, v] of [
    [1, 0],
    [5, 2.5],
    [1000, -3],
    [3, -Infinity],
    [4, Infinity],
  ] as const) {
    same(b, tol, `fill ${n} ${v}`, [], (be) => be.fill(n, v, 'float32'), n, 'float32');
  }
  same(b, tol, 'fill int32', [], (be) => be.fill(6, 7, 'int32'), 6, 'int32');
});

add('elementwise', 'cast and clone', (b, tol) => {
  const v = Float32Array.from([-2.7, -0.5, 0, 0.5, 2.7, 1e6 + 0.5, -3]);
  same(b, tol, 'float32->int32', [f(v)], (be, xs) => be.cast(xs[0], v.length, 'float32', 'int32'), v.length, 'int32');
  const iv = Int32Array.from([-5, 0, 5, 1 << 20]);
  same(b, tol, 'int32->float32', [i32(iv)], (be, xs) => be.cast(xs[0], 4, 'int32', 'float32'), 4, 'float32');
  same(b, tol, 'clone', [f(v)], (be, xs) => be.cast(xs[0], v.length, 'float32', 'float32'), v.length, 'float32');
});

const unaryDomains: Record<string, [number, number]> = {
  log: [1e-3, 100],
  sqrt: [0, 100],
  reciprocal: [0.1, 10],
  log1p: [-0.5, 3],
  expm1: [-3, 3],
  exp: [-20, 20],
  sigmoid: [-60, 60],
  tanh: [-20, 20],
  sin: [-60, 60],
  cos: [-60, 60],
};
for (const op of [
  'neg',
  'exp',
  'log',
  'sqrt',
  'abs',
  'relu',
  'sigmoid',
  'tanh',
  'sign',
  'step',
  'square',
  'reciprocal',
  'floor',
  'ceil',
  'round',
  'log1p',
  'expm1',
  'sin',
  'cos',
] as const) {
  add('unary', op, (b, tol) => {
    const [lo, hi] = unaryDomains[op] ?? [-5, 5];
    const v = values(257, op.length * 31 + 7, lo, hi);
    // exact halves, zeros and small magnitudes reach the branch points of round, sign and the series forms
    v.set([0, 0.5, -0.5, 2.5, -2.5, 1e-4, -1e-4, 0.3, -0.3].filter((x) => x >= lo && x <= hi));
    same(b, tol, op, [f(v)], (be, xs) => be.unary(op, xs[0], v.length, 'float32'), v.length, 'float32');
  });
}
add('unary', 'infinities and NaN where IEEE arithmetic gives them', (b, tol) => {
  const v = Float32Array.from([0, -1, -0.5, Infinity, 100, -100, 1e-30]);
  for (const op of ['log', 'sqrt', 'exp', 'log1p', 'expm1', 'reciprocal', 'sigmoid', 'tanh'] as const) {
    same(b, tol, op, [f(v)], (be, xs) => be.unary(op, xs[0], v.length, 'float32'), v.length, 'float32');
  }
});
add('unary', 'int32 neg/abs/square/relu/sign', (b, tol) => {
  const v = ints(50, 3, -1000, 1000);
  for (const op of ['neg', 'abs', 'square', 'relu', 'sign'] as const) {
    same(b, tol, op, [i32(v)], (be, xs) => be.unary(op, xs[0], v.length, 'int32'), v.length, 'int32');
  }
});

const binaryShapes: [number[], number[], number[]][] = [
  [
    [3, 4],
    [3, 4],
    [3, 4],
  ],
  [[3, 4], [], [3, 4]],
  [[], [5], [5]],
  [[3, 4], [4], [3, 4]],
  [
    [3, 1],
    [3, 4],
    [3, 4],
  ],
  [
    [2, 1, 4],
    [3, 1],
    [2, 3, 4],
  ],
  [
    [2, 3, 1, 5],
    [1, 3, 4, 1],
    [2, 3, 4, 5],
  ],
  [[1], [1], [1]],
];
for (const op of ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'gt', 'lt', 'ge', 'le'] as const) {
  add('binary', op, (b, tol) => {
    const cmp = ['eq', 'ne', 'gt', 'lt', 'ge', 'le'].includes(op);
    const outDtype: DType = cmp ? 'int32' : 'float32';
    binaryShapes.forEach(([as, bs, os], k) => {
      let av = values(size(as), 11 + k, -3, 3);
      let bv = values(size(bs), 23 + k, -3, 3);
      if (op === 'pow') {
        av = values(size(as), 11 + k, 0.1, 3);
        bv = values(size(bs), 23 + k, -2, 2);
      }
      if (op === 'div') bv = bv.map((x) => (Math.abs(x) < 0.1 ? 0.5 : x));
      if (cmp) bv = bv.map((x, i) => (i % 3 === 0 ? av[i % av.length] : Math.round(x)));
      if (cmp) av = av.map((x) => Math.round(x));
      same(
        b,
        tol,
        `${op} ${JSON.stringify(as)} ${JSON.stringify(bs)}`,
        [f(av), f(bv)],
        (be, xs) => be.binary(op, xs[0], as, 'float32', xs[1], bs, 'float32', os, outDtype),
        size(os),
        outDtype,
      );
    });
  });
}
add('binary', 'pow with negative bases and integer exponents', (b, tol) => {
  const av = Float32Array.from([-2, -2, -3, -1.5, 0, 0, 2, -2, 3, 1.5, -8, 0, 10, 1.1]);
  const bv = Float32Array.from([2, 3, -1, 2, 2, 0, 0.5, 0, 8, 20, 1 / 3, -1, -3, 200.5]);
  const n = av.length;
  same(
    b,
    tol,
    'pow',
    [f(av), f(bv)],
    (be, xs) => be.binary('pow', xs[0], [n], 'float32', xs[1], [n], 'float32', [n], 'float32'),
    n,
    'float32',
  );
});
add('binary', 'int32 arithmetic', (b, tol) => {
  const av = ints(12, 5, -100, 100);
  const bv = ints(4, 6, 1, 5);
  for (const op of ['add', 'sub', 'mul', 'maximum', 'minimum', 'pow'] as const) {
    // pow stays below 2^24, the exact range of int32 values stored as float32
    const a = op === 'pow' ? av.map((x) => Math.trunc(x / 5)) : av;
    same(
      b,
      tol,
      op,
      [i32(a), i32(bv)],
      (be, xs) => be.binary(op, xs[0], [3, 4], 'int32', xs[1], [4], 'int32', [3, 4], 'int32'),
      12,
      'int32',
    );
  }
});

add('elementwise', 'where with broadcasting', (b, tol) => {
  const c = Int32Array.from([1, 0, 0, 1]);
  const av = values(12, 7);
  const bv = values(3, 8);
  same(
    b,
    tol,
    'where',
    [i32(c), f(av), f(bv)],
    (be, xs) => be.where(xs[0], [4], xs[1], [3, 4], xs[2], [3, 1], [3, 4], 'float32'),
    12,
    'float32',
  );
  same(
    b,
    tol,
    'where same',
    [f(values(6, 9)), f(values(6, 10)), f(values(6, 11))],
    (be, xs) => be.where(xs[0], [6], xs[1], [6], xs[2], [6], [6], 'float32'),
    6,
    'float32',
  );
});

const reduceAxes: [number[], number[]][] = [
  [[3, 4, 5], [0]],
  [[3, 4, 5], [1]],
  [[3, 4, 5], [2]],
  [
    [3, 4, 5],
    [0, 1],
  ],
  [
    [3, 4, 5],
    [1, 2],
  ],
  [
    [3, 4, 5],
    [0, 2],
  ],
  [
    [3, 4, 5],
    [0, 1, 2],
  ],
  [[7], [0]],
  [[2, 1, 3], [1]],
];
for (const op of ['sum', 'max', 'min', 'prod', 'argmax', 'argmin'] as const) {
  add('reduce', op, (b, tol) => {
    const arg = op === 'argmax' || op === 'argmin';
    for (const [shape, axes] of reduceAxes) {
      if (arg && axes.length !== 1) continue;
      const v = values(size(shape), shape.length * 13 + axes.length, op === 'prod' ? 0.5 : -5, op === 'prod' ? 1.5 : 5);
      const outSize = size(shape.filter((_, k) => !axes.includes(k)));
      same(
        b,
        tol,
        `${op} ${JSON.stringify(shape)} axes ${JSON.stringify(axes)}`,
        [f(v)],
        (be, xs) => be.reduce(op, xs[0], shape, axes, 'float32'),
        outSize,
        arg ? 'int32' : 'float32',
      );
    }
  });
}
add('reduce', 'long sums (70000 values, and down columns)', (b, tol) => {
  const v = values(70000, 42, 0, 1);
  same(b, tol, 'sum all', [f(v)], (be, xs) => be.reduce('sum', xs[0], [70000], [0], 'float32'), 1, 'float32');
  same(b, tol, 'sum cols', [f(v)], (be, xs) => be.reduce('sum', xs[0], [7000, 10], [0], 'float32'), 10, 'float32');
  // Block sums first: two passes for 300000 terms (-> 4688 -> 74), one down columns.
  const w = values(300000, 7, -1, 2);
  same(b, tol, 'sum of 300000', [f(w)], (be, xs) => be.reduce('sum', xs[0], [300000], [0], 'float32'), 1, 'float32');
  same(b, tol, 'sum 3 cols', [f(w)], (be, xs) => be.reduce('sum', xs[0], [100000, 3], [0], 'float32'), 3, 'float32');
});
add('reduce', 'int32 sum and max', (b, tol) => {
  const v = ints(24, 77, -50, 50);
  same(b, tol, 'sum', [i32(v)], (be, xs) => be.reduce('sum', xs[0], [4, 6], [1], 'int32'), 4, 'int32');
  same(b, tol, 'max', [i32(v)], (be, xs) => be.reduce('max', xs[0], [4, 6], [0], 'int32'), 6, 'int32');
});

const matmulCases: [number, number, number, number, number][] = [
  // batchA, batchB, m, k, n
  [1, 1, 1, 1, 1],
  [1, 1, 5, 7, 3],
  [1, 1, 16, 33, 9],
  [3, 3, 4, 6, 5],
  [3, 1, 4, 5, 2],
  [1, 4, 2, 9, 3],
  [1, 1, 32, 784, 10],
];
for (const transA of [false, true]) {
  for (const transB of [false, true]) {
    add('matmul', `transA=${transA} transB=${transB}`, (b, tol) => {
      for (const [ba, bb, m, k, n] of matmulCases) {
        const av = values(ba * m * k, m + k, -1, 1);
        const bv = values(bb * k * n, k + n + 1, -1, 1);
        same(
          b,
          tol,
          `matmul ${ba}x${m}x${k} @ ${bb}x${k}x${n}`,
          [f(av), f(bv)],
          (be, xs) => be.matmul(xs[0], xs[1], ba, bb, m, k, n, transA, transB),
          Math.max(ba, bb) * m * n,
          'float32',
        );
      }
    });
  }
}
add('matmul', 'k = 0 gives zeros', (b, tol) => {
  same(
    b,
    tol,
    'k=0',
    [f(new Float32Array(0)), f(new Float32Array(0))],
    (be, xs) => be.matmul(xs[0], xs[1], 1, 1, 2, 0, 3, false, false),
    6,
    'float32',
  );
});

add('movement', 'transpose', (b, tol) => {
  const perms: [number[], number[]][] = [
    [
      [3, 4],
      [1, 0],
    ],
    [
      [2, 3, 4],
      [2, 0, 1],
    ],
    [
      [2, 3, 4],
      [0, 2, 1],
    ],
    [
      [2, 1, 3, 4],
      [0, 1, 3, 2],
    ],
    [
      [2, 3, 4, 5],
      [3, 1, 0, 2],
    ],
    [[5], [0]],
  ];
  for (const [shape, perm] of perms) {
    const v = values(size(shape), shape.length + perm[0]);
    same(
      b,
      tol,
      `transpose ${JSON.stringify(shape)} ${JSON.stringify(perm)}`,
      [f(v)],
      (be, xs) => be.transpose(xs[0], shape, perm, 'float32'),
      size(shape),
      'float32',
    );
  }
});
add('movement', 'slice', (b, tol) => {
  const shape = [4, 5, 6];
  const v = values(120, 5);
  for (const [begin, sz] of [
    [
      [0, 0, 0],
      [4, 5, 6],
    ],
    [
      [1, 2, 3],
      [2, 3, 3],
    ],
    [
      [3, 0, 5],
      [1, 5, 1],
    ],
    [
      [0, 4, 0],
      [4, 1, 6],
    ],
  ]) {
    same(b, tol, `slice ${begin} ${sz}`, [f(v)], (be, xs) => be.slice(xs[0], shape, begin, sz, 'float32'), size(sz), 'float32');
  }
});
add('movement', 'pad', (b, tol) => {
  const shape = [2, 3, 4];
  const v = values(24, 6);
  const padsList: [number, number][][] = [
    [
      [0, 0],
      [1, 1],
      [2, 0],
    ],
    [
      [1, 0],
      [0, 0],
      [0, 3],
    ],
    [
      [0, 0],
      [0, 0],
      [0, 0],
    ],
  ];
  for (const pads of padsList) {
    for (const value of [0, 1.5, -Infinity]) {
      const outSize = size(shape.map((d, k) => d + pads[k][0] + pads[k][1]));
      same(
        b,
        tol,
        `pad ${JSON.stringify(pads)} ${value}`,
        [f(v)],
        (be, xs) => be.pad(xs[0], shape, pads, value, 'float32'),
        outSize,
        'float32',
      );
    }
  }
});
add('movement', 'concat (2, 3 and 9 inputs, with an empty one)', (b, tol) => {
  for (const [n, axis] of [
    [2, 0],
    [3, 1],
    [9, 1],
    [9, 2],
  ] as const) {
    const shapes = Array.from({ length: n }, (_, t) =>
      axis === 0 ? [t + 1, 3] : axis === 1 ? [2, (t % 3) + 1, 2] : [2, 2, t % 2 === 0 ? t + 1 : 0],
    );
    const vs = shapes.map((s, t) => f(values(size(s), 100 + t)));
    const outShape = shapes[0].slice();
    outShape[axis] = shapes.reduce((a, s) => a + s[axis], 0);
    same(b, tol, `concat ${n} axis ${axis}`, vs, (be, xs) => be.concat(xs, shapes, axis, 'float32'), size(outShape), 'float32');
  }
});
add('movement', 'gather', (b, tol) => {
  const shape = [4, 5, 3];
  const v = values(60, 12);
  for (const axis of [0, 1, 2]) {
    const idx = Int32Array.from([shape[axis] - 1, 0, 1, 0, shape[axis] - 1]);
    const outShape = shape.slice();
    outShape[axis] = idx.length;
    same(
      b,
      tol,
      `gather axis ${axis}`,
      [f(v), i32(idx)],
      (be, xs) => be.gather(xs[0], shape, xs[1], idx.length, axis, 'float32'),
      size(outShape),
      'float32',
    );
  }
});
add('movement', 'scatterAdd with repeated indices', (b, tol) => {
  const outShape = [3, 4, 2];
  const idx = Int32Array.from([3, 0, 3, 1, 3]);
  for (const axis of [1]) {
    const srcShape = outShape.slice();
    srcShape[axis] = idx.length;
    const v = values(size(srcShape), 13);
    same(
      b,
      tol,
      'scatterAdd',
      [f(v), i32(idx)],
      (be, xs) => be.scatterAdd(xs[0], xs[1], idx.length, outShape, axis),
      size(outShape),
      'float32',
    );
  }
  const idx0 = Int32Array.from([1, 1, 0]);
  same(b, tol, 'scatterAdd axis 0', [f(values(6, 14)), i32(idx0)], (be, xs) => be.scatterAdd(xs[0], xs[1], 3, [2, 2], 0), 4, 'float32');
});

function win(n: number, c: number, h: number, w: number, k: number, stride: number, pad: number): Window2d {
  const outH = Math.floor((h + 2 * pad - k) / stride) + 1;
  const outW = Math.floor((w + 2 * pad - k) / stride) + 1;
  return { n, c, h, w, kh: k, kw: k, strideH: stride, strideW: stride, padH: pad, padW: pad, outH, outW };
}
const windows = [win(1, 1, 4, 4, 2, 2, 0), win(2, 3, 5, 6, 3, 1, 1), win(1, 2, 7, 7, 3, 2, 1), win(2, 1, 6, 5, 2, 3, 2)];
add('window', 'im2col', (b, tol) => {
  for (const w of windows) {
    const v = values(w.n * w.c * w.h * w.w, w.h + w.c);
    for (const padValue of [0, -Infinity]) {
      same(
        b,
        tol,
        `im2col ${JSON.stringify(w)} pad ${padValue}`,
        [f(v)],
        (be, xs) => be.im2col(xs[0], w, padValue),
        w.n * w.c * w.kh * w.kw * w.outH * w.outW,
        'float32',
      );
    }
  }
});
add('window', 'col2im', (b, tol) => {
  for (const w of windows) {
    const n = w.n * w.c * w.kh * w.kw * w.outH * w.outW;
    same(b, tol, `col2im ${JSON.stringify(w)}`, [f(values(n, w.w))], (be, xs) => be.col2im(xs[0], w), w.n * w.c * w.h * w.w, 'float32');
  }
});

for (const op of ['softmax', 'logSoftmax'] as const) {
  add('fused', op, (b, tol) => {
    for (const [rows, cols, scale] of [
      [4, 10, 3],
      [1, 1, 1],
      [3, 200, 10],
      [2, 3, 1e4],
    ] as const) {
      const v = values(rows * cols, rows + cols, -scale, scale);
      same(b, tol, `${op} ${rows}x${cols} scale ${scale}`, [f(v)], (be, xs) => be.fused![op]!(xs[0], rows, cols), rows * cols, 'float32');
    }
  });
}

/** Every primitive check, in a stable order. */
export const parityCases: readonly ParityCase[] = cases;

/**
 * Runs one check on `b` and waits for its comparisons: those of a backend that reads only
 * asynchronously settle after `run` returns. Throws the first mismatch (after every read settled,
 * so the case's storages are freed either way).
 */
export async function runParityCase(c: ParityCase, b: Backend, tol: Tolerance): Promise<void> {
  pending.length = 0;
  let error: unknown = null;
  try {
    c.run(b, tol);
  } catch (e) {
    error = e;
  }
  const settled = await Promise.allSettled(pending.splice(0));
  if (error === null) error = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason ?? null;
  if (error !== null) throw error;
}
