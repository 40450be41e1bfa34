import { describe, expect, it } from 'vitest';
import {
  cpuBackend,
  gelu,
  getBackend,
  layerNorm,
  linear,
  manualSeed,
  maxPool2d,
  randn,
  scaledDotProductAttention,
  setBackend,
  tensor,
  type Backend,
  type ConvOptions,
  type Tensor,
} from '@bp/tensor';
import {
  attentionHeads,
  conv2dReluMaxPool2d,
  probabilityNll,
  reluMaxPool2d,
  selfAttentionHeads,
  setOpObserver,
  setSelfAttentionPacking,
} from '@bp/tensor/internal';
import './index.js';

/**
 * `run()` on the CPU backend without its fused kernels `drop` (the ops they serve then run as
 * composites of primitives), then back on the backend in use.
 */
async function onComposite<T>(drop: (keyof NonNullable<Backend['fused']>)[], run: () => T): Promise<T> {
  const cpu = cpuBackend() as Backend;
  const fused = { ...cpu.fused };
  for (const k of drop) delete fused[k];
  const before = getBackend();
  await setBackend({ ...cpu, name: `cpu-without-${drop.join('-')}`, fused });
  try {
    return run();
  } finally {
    await setBackend(before);
  }
}

/** The names of the ops `f` records, in order. */
function ops(f: () => unknown): string[] {
  const seen: string[] = [];
  const prev = setOpObserver((op) => void seen.push(op));
  try {
    f();
  } finally {
    setOpObserver(prev);
  }
  return seen;
}

/** Values and gradient of sum(maxPool2d(x) * weights) on the active backend. */
function run(values: number[], shape: number[], k: number, opts: { stride?: number; padding?: number }) {
  const x = tensor(values, { shape, requiresGrad: true });
  const y = maxPool2d(x, k, opts);
  const w = tensor(
    Array.from({ length: y.size }, (_, i) => i + 1),
    { shape: y.shape },
  );
  y.mul(w).sum().backward();
  return { y: Array.from(y.dataSync()), dx: Array.from(x.grad!.dataSync()) };
}

describe('fused maxPool2d', () => {
  // Ties, NaN and negative values, with overlapping and padded windows.
  const values = [3, 3, 1, -2, 0, 3, 5, 5, -1, NaN, 2, 2, 4, 4, 4, -7, 1, 1, 1, 1, -3, 2, 8, 8, 6, 6, 0, 9, 9, 2, -5, -5];
  const cases: [number, { stride?: number; padding?: number }][] = [
    [2, {}],
    [2, { stride: 1 }],
    [3, { stride: 2, padding: 1 }],
  ];
  for (const [k, opts] of cases) {
    it(`kernel ${k} ${JSON.stringify(opts)}: values and gradients equal the composite's`, async () => {
      const fused = run(values, [1, 2, 4, 4], k, opts);
      expect(fused).toEqual(await onComposite(['maxPool2d'], () => run(values, [1, 2, 4, 4], k, opts)));
    });
  }
});

/** Values and gradients of sum(linear(x, w, b) * weights) on the active backend, from seeded inputs. */
function runLinear(shape: number[], outF: number, bias: boolean, relu: boolean) {
  manualSeed(7);
  const inF = shape[shape.length - 1];
  const x = randn(shape, { requiresGrad: true });
  const w = randn([outF, inF], { requiresGrad: true });
  const b = bias ? randn([outF], { requiresGrad: true }) : null;
  const y = linear(x, w, b, { activation: relu ? 'relu' : null });
  const weights = randn(y.shape);
  y.mul(weights).sum().backward();
  return {
    y: Array.from(y.dataSync()),
    dx: Array.from(x.grad!.dataSync()),
    dw: Array.from(w.grad!.dataSync()),
    db: b ? Array.from(b.grad!.dataSync()) : null,
  };
}

describe('fused linear', () => {
  // Small (TypeScript product) and large enough for the WebAssembly kernel, batched input, with and without bias and ReLU.
  const cases: [number[], number, boolean, boolean][] = [
    [[3, 5], 4, true, false],
    [[2, 3, 6], 5, true, true],
    [[4, 3], 6, false, true],
    [[64, 96], 80, true, true],
    [[64, 96], 80, false, false],
    // The kernel's epilogue: bias alone, ReLU alone, a ragged width (padded C columns), and a short
    // input (the product computed transposed, the epilogue after it).
    [[64, 96], 77, true, false],
    [[64, 96], 77, false, true],
    [[4, 300], 200, true, true],
  ];
  for (const [shape, outF, bias, relu] of cases) {
    it(`[${shape.join(',')}] -> ${outF}, bias ${bias}, relu ${relu}: values and gradients equal the composite's`, async () => {
      expect(getBackend().fused?.linear).toBeDefined();
      const fused = runLinear(shape, outF, bias, relu);
      const composite = await onComposite(['linear'], () => runLinear(shape, outF, bias, relu));
      if (shape.length === 2) expect(fused).toEqual(composite);
      else {
        // A batched input is one product over all rows here, and a batch of products summed in
        // the composite's weight gradient: the same sums in another order, equal to rounding.
        expect(fused.y).toEqual(composite.y);
        expect(fused.dx).toEqual(composite.dx);
        fused.dw.forEach((v, i) => expect(v).toBeCloseTo(composite.dw[i], 5));
        expect(fused.db).toEqual(composite.db);
      }
    });
  }
});

/** Values and gradients of sum(layerNorm(x) * weights) on the active backend, from seeded inputs. */
function runLayerNorm(shape: number[], axes: number, affine: [boolean, boolean], needs: [boolean, boolean, boolean]) {
  manualSeed(11);
  const norm = shape.slice(shape.length - axes);
  const x = randn(shape, { requiresGrad: needs[0] }).mul(3).add(1).detach();
  x.requiresGrad = needs[0];
  const w = affine[0] ? randn(norm, { requiresGrad: needs[1] }) : null;
  const b = affine[1] ? randn(norm, { requiresGrad: needs[2] }) : null;
  const y = layerNorm(x, norm, w, b, 1e-5);
  const r = randn(y.shape);
  y.mul(r).sum().backward();
  const grad = (t: { grad: { dataSync(): ArrayLike<number> } | null } | null) => (t?.grad ? Array.from(t.grad.dataSync()) : null);
  return { y: Array.from(y.dataSync()), dx: grad(x), dw: grad(w), db: grad(b) };
}

describe('fused layerNorm', () => {
  const cases: [number[], number, [boolean, boolean], [boolean, boolean, boolean]][] = [
    [[4, 6, 8], 1, [true, true], [true, true, true]],
    [[3, 5], 1, [false, false], [true, false, false]],
    [[2, 3, 4], 2, [true, false], [false, true, false]],
    [[5, 7], 1, [false, true], [true, false, true]],
  ];
  for (const [shape, axes, affine, needs] of cases) {
    it(`[${shape}] over ${axes} axes, weight ${affine[0]}, bias ${affine[1]}: values and gradients as the composite's`, async () => {
      const fused = runLayerNorm(shape, axes, affine, needs);
      const composite = await onComposite(['layerNorm', 'layerNormBackward'], () => runLayerNorm(shape, axes, affine, needs));
      for (const key of ['y', 'dx', 'dw', 'db'] as const) {
        const got = fused[key];
        const want = composite[key];
        expect(got === null, `${key} present`).toBe(want === null);
        if (got === null || want === null) continue;
        for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(2e-5 * (1 + Math.abs(want[i])));
      }
    });
  }
});

describe('fused gelu', () => {
  for (const shape of [
    [7, 5],
    [64, 300],
  ]) {
    it(`[${shape}]: values and gradients are the composite's, bit for bit`, async () => {
      const run = () => {
        manualSeed(5);
        const x = randn(shape).mul(3).detach();
        x.requiresGrad = true;
        const y = gelu(x);
        y.mul(randn(shape)).sum().backward();
        return { y: Array.from(y.dataSync()), dx: Array.from(x.grad!.dataSync()) };
      };
      const fused = run();
      expect(fused).toEqual(await onComposite(['geluForward', 'geluBackward'], run));
    });
  }
});

describe('fused probabilityNll', () => {
  // Rows: a softmax output, an unnormalised row, a zero at the label (clipped low), a one-hot
  // row (clipped high), a label out of range (NaN, no gradient), a row summing to 3.
  const probs = [
    [0.7, 0.2, 0.1],
    [0.5, 0.25, 0.125],
    [0, 0.5, 0.5],
    [1, 0, 0],
    [0.3, 0.3, 0.4],
    [1, 1.5, 0.5],
  ];
  const labels = [0, 2, 0, 0, 3, 1];
  const run = (eps: number) => {
    const p = tensor(probs, { requiresGrad: true });
    const y = probabilityNll(p, tensor(labels, { dtype: 'int32' }), { eps });
    y.mul(tensor([1, -2, 0.5, 3, 1, 0.25]))
      .sum()
      .backward();
    return { y: Array.from(y.dataSync()), dp: Array.from(p.grad!.dataSync()) };
  };
  for (const eps of [1e-7, 0.05]) {
    it(`eps ${eps}: values and gradients as the composite's; NaN rows and clipped rows as the composite`, async () => {
      const fused = run(eps);
      const composite = await onComposite(['probabilityNll', 'probabilityNllBackward'], () => run(eps));
      expect(Number.isNaN(fused.y[4])).toBe(true);
      for (const key of ['y', 'dp'] as const) {
        const want = composite[key];
        want.forEach((w, i) => {
          if (Number.isNaN(w)) expect(fused[key][i], `${key}[${i}]`).toBeNaN();
          else expect(Math.abs(fused[key][i] - w), `${key}[${i}]: ${fused[key][i]} vs ${w}`).toBeLessThan(1e-6 * (1 + Math.abs(w)));
        });
      }
      // The clipped rows pass no gradient: the zero at the label (below eps) and the one-hot row (above 1 - eps).
      expect(fused.dp.slice(6, 12).every((v) => v === 0)).toBe(true);
      // Hand-derived on the first row: -log(0.7); g = -1 / 0.7, sum 1: dp = g (onehot - 0.7).
      expect(fused.y[0]).toBeCloseTo(-Math.log(0.7), 6);
      expect(fused.dp[0]).toBeCloseTo((-1 / 0.7) * 0.3, 5);
      expect(fused.dp[1]).toBeCloseTo(1, 5);
    });
  }
});

describe('fused softmax and logSoftmax gradients', () => {
  for (const [shape, axis] of [
    [[6, 5], -1],
    [[2, 3, 40], -1],
    [[4, 7], 0],
  ] as [number[], number][]) {
    it(`[${shape}] along ${axis}: the composite's gradients within float32 rounding`, async () => {
      const run = (op: 'softmax' | 'logSoftmax') => {
        manualSeed(9);
        const x = randn(shape).mul(4).detach();
        x.requiresGrad = true;
        const y = op === 'softmax' ? x.softmax(axis) : x.logSoftmax(axis);
        y.mul(randn(shape)).sum().backward();
        return Array.from(x.grad!.dataSync());
      };
      const fused = [run('softmax'), run('logSoftmax')];
      const composite = await onComposite(['softmaxBackward', 'logSoftmaxBackward'], () => [run('softmax'), run('logSoftmax')]);
      composite.forEach((want, k) =>
        want.forEach((w, i) =>
          expect(Math.abs(fused[k][i] - w), `${k ? 'logSoftmax' : 'softmax'}[${i}]`).toBeLessThan(2e-6 * (1 + Math.abs(w))),
        ),
      );
    });
  }
});

describe('fused ReLU + max pooling', () => {
  // Negative windows (the maximum 0, no gradient), ties at 0 and among positives, NaN (read as 0 by
  // the ReLU), -0, Infinity; overlapping, padded and ceil-mode windows; planes large enough for the
  // WebAssembly kernel and its threads.
  const cases: [number[], number, { stride?: number; padding?: number; ceilMode?: boolean }][] = [
    [[2, 2, 4, 4], 2, {}],
    [[1, 2, 5, 5], 2, { ceilMode: true }],
    [[1, 1, 5, 5], 3, { stride: 2, padding: 1 }],
    [[2, 1, 4, 4], 2, { stride: 1 }],
    [[8, 16, 28, 28], 2, {}],
  ];
  for (const [shape, k, opts] of cases) {
    it(`[${shape}] kernel ${k} ${JSON.stringify(opts)}: maxPool2d(relu(x))'s values and gradient, bit for bit`, async () => {
      const run = () => {
        manualSeed(3);
        const size = shape.reduce((a, b) => a * b, 1);
        const v = randn([size]).dataSync().slice();
        v.set([-1, -2, -3, -4, 0, -0, 0, 5, NaN, 2, 2, -1, Infinity, 1, -0, 0], 0);
        const x = tensor(v, { shape, requiresGrad: true });
        const y = reluMaxPool2d(x, k, opts);
        y.mul(randn(y.shape)).sum().backward();
        return { y: Array.from(y.dataSync()), dx: Array.from(x.grad!.dataSync()) };
      };
      const fused = run();
      expect(fused).toEqual(await onComposite(['maxPool2dRelu'], run));
    });
  }
});

describe('fused convolution + ReLU + max pooling', () => {
  type Case = {
    shape: [number, number, number, number];
    outC: number;
    k: number | [number, number];
    conv: ConvOptions;
    bias: boolean;
    grads: [boolean, boolean, boolean];
  };
  // Odd convolution outputs (the last row and column dropped), strides, padding, 'same' with
  // dilation, no bias, inputs without a gradient (a network's images), a bias whose weight is frozen;
  // and a batch large enough for the kernel's threads (slices of a batch: wasm-conv.test.ts).
  const cases: Case[] = [
    { shape: [2, 3, 8, 8], outC: 5, k: 3, conv: { padding: 1 }, bias: true, grads: [true, true, true] },
    { shape: [3, 2, 9, 7], outC: 4, k: 3, conv: {}, bias: false, grads: [true, true, false] },
    { shape: [2, 1, 11, 10], outC: 3, k: [3, 2], conv: { stride: 2, padding: [1, 0] }, bias: true, grads: [false, true, true] },
    { shape: [2, 2, 8, 8], outC: 3, k: 3, conv: { padding: 'same', dilation: 2 }, bias: true, grads: [true, false, true] },
    { shape: [64, 1, 28, 28], outC: 16, k: 3, conv: { padding: 1 }, bias: true, grads: [false, true, true] },
  ];
  for (const c of cases) {
    it(`[${c.shape}] -> ${c.outC} channels, kernel ${c.k} ${JSON.stringify(c.conv)}${c.bias ? '' : ', no bias'}, gradients ${c.grads}: bit for bit the ops one after the other`, async () => {
      const run = () => {
        manualSeed(11);
        const [n, inC] = c.shape;
        const [kh, kw] = typeof c.k === 'number' ? [c.k, c.k] : c.k;
        const x = randn(c.shape, { requiresGrad: c.grads[0] });
        const w = randn([c.outC, inC, kh, kw], { requiresGrad: c.grads[1] });
        const b = c.bias ? randn([c.outC], { requiresGrad: c.grads[2] }) : null;
        let y: Tensor = x;
        const seen = ops(() => (y = conv2dReluMaxPool2d(x, w, b, c.conv, 2)));
        y.mul(randn(y.shape)).sum().backward();
        const grad = (t: Tensor | null) => (t?.grad ? Array.from(t.grad.dataSync()) : null);
        return {
          fused: seen.includes('conv2dReluPool'),
          shape: y.shape,
          y: Array.from(y.dataSync()),
          dx: grad(x),
          dw: grad(w),
          db: grad(b),
          n,
        };
      };
      const fused = run();
      const composite = await onComposite(['conv2dReluPool', 'conv2dReluPoolBackward'], run);
      expect(fused.fused).toBe(true);
      expect(composite.fused).toBe(false);
      expect({ ...fused, fused: null }).toEqual({ ...composite, fused: null });
      expect(fused.y.some((v) => v > 0) && fused.y.some((v) => v === 0)).toBe(true);
    });
  }

  it('falls back to the ops one after the other for pooling it does not fuse', () => {
    const x = randn([1, 1, 6, 6]);
    const w = randn([2, 1, 3, 3]);
    expect(ops(() => conv2dReluMaxPool2d(x, w, null, {}, 2))).toContain('conv2dReluPool');
    expect(ops(() => conv2dReluMaxPool2d(x, w, null, {}, 3))).not.toContain('conv2dReluPool');
    expect(ops(() => conv2dReluMaxPool2d(x, w, null, {}, 2, { stride: 1 }))).not.toContain('conv2dReluPool');
    expect(ops(() => conv2dReluMaxPool2d(x, w, null, {}, 2, { ceilMode: true }))).not.toContain('conv2dReluPool');
    // A 1x1 convolution output: the pooling's own error.
    expect(() => conv2dReluMaxPool2d(x, randn([2, 1, 6, 6]), null, {}, 2)).toThrow(/maxPool2d/);
  });
});

/** Values and gradients of sum(attention * weights) on the active backend, from seeded inputs ([n, l, heads*d] layout). */
function runAttention(n: number, heads: number, l: number, s: number, d: number, dv: number, causal: boolean) {
  manualSeed(13);
  const q = randn([n, l, heads * d], { requiresGrad: true });
  const k = randn([n, s, heads * d], { requiresGrad: true });
  const v = randn([n, s, heads * dv], { requiresGrad: true });
  const y = attentionHeads(q, k, v, heads, causal);
  y.mul(randn(y.shape)).sum().backward();
  return [y, q.grad!, k.grad!, v.grad!].map((t) => Array.from(t.dataSync()));
}

describe('fused attention', () => {
  // [n, heads, l, s, d, dv, causal]: ragged widths and lengths (rows past a multiple of 4, columns
  // past a multiple of 8), more keys than one depth block of the product (256), more queries than
  // keys, one of each, and batches split into passes through the heap.
  const cases: [number, number, number, number, number, number, boolean][] = [
    [2, 2, 5, 7, 3, 5, false],
    [2, 2, 5, 7, 3, 5, true],
    [3, 4, 9, 9, 8, 8, true],
    [1, 1, 1, 1, 1, 1, false],
    [2, 1, 6, 300, 4, 3, false],
    [1, 2, 300, 5, 2, 9, true],
    [33, 4, 64, 64, 16, 16, true],
  ];
  for (const [n, heads, l, s, d, dv, causal] of cases) {
    it(`${n} x ${heads} heads, ${l} queries, ${s} keys, widths ${d} and ${dv}, causal ${causal}: values and gradients equal the composite's`, async () => {
      expect(getBackend().fused?.attention).toBeDefined();
      const fused = runAttention(n, heads, l, s, d, dv, causal);
      const composite = await onComposite(['attention', 'attentionBackward'], () => runAttention(n, heads, l, s, d, dv, causal));
      // The same steps; where the composite runs a small product or softmax in TypeScript the
      // float32 results may differ in the last bits.
      fused.forEach((a, i) => a.forEach((x, j) => expect(Math.abs(x - composite[i][j])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(x)))));
      if (s >= 16 && l >= 16) expect(fused).toEqual(composite);
    });
  }

  it('GPT-sized heads give the same bits as the composite on the same kernels', async () => {
    const fused = runAttention(32, 4, 16, 16, 16, 16, true);
    expect(fused).toEqual(await onComposite(['attention', 'attentionBackward'], () => runAttention(32, 4, 16, 16, 16, 16, true)));
  });

  it('scaledDotProductAttention takes the kernel without a mask or with isCausal, and the composite with a mask', () => {
    manualSeed(5);
    const [q, k, v] = [0, 1, 2].map(() => randn([2, 3, 4, 5], { requiresGrad: true }));
    expect(ops(() => scaledDotProductAttention(q, k, v, { isCausal: true }))).toContain('attention');
    expect(ops(() => scaledDotProductAttention(q, k, v, { scale: 0.5 }))).toContain('attention');
    const masked = ops(() => scaledDotProductAttention(q, k, v, { attnMask: tensor([[1, 1, 0, 1]], { dtype: 'int32' }) }));
    expect(masked).not.toContain('attention');
    expect(masked).toContain('softmax');
  });
});

/**
 * Values and gradients (x, weight, bias) of sum(selfAttentionHeads * weights) from seeded inputs,
 * with the packed kernel (`'auto'`) or the three projections (`'never'`).
 */
function runSelfAttention(n: number, heads: number, l: number, e: number, causal: boolean, bias: boolean, mode: 'auto' | 'never') {
  manualSeed(17);
  const x = randn([n, l, e], { requiresGrad: true });
  const w = randn([3 * e, e], { requiresGrad: true });
  const b = bias ? randn([3 * e], { requiresGrad: true }) : null;
  const up = randn([n, l, e]);
  setSelfAttentionPacking(mode);
  try {
    const seen = ops(() => selfAttentionHeads(x, w, b, heads, causal).mul(up).sum().backward());
    return { seen, values: [x.grad!, w.grad!, ...(b ? [b.grad!] : [])].map((t) => Array.from(t.dataSync())) };
  } finally {
    setSelfAttentionPacking('auto');
  }
}

describe('packed self-attention (one projection, q, k and v read in place)', () => {
  // [n, heads, l, e, causal, bias]: widths and lengths off the kernels' multiples of 4 and 8, more
  // queries than one depth block of the product (256), one of each, a batch split into heap passes.
  const cases: [number, number, number, number, boolean, boolean][] = [
    [2, 2, 5, 6, false, true],
    [2, 3, 5, 9, true, false],
    [1, 1, 1, 1, false, true],
    [1, 2, 300, 4, true, true],
    [33, 4, 64, 64, true, true],
    [32, 4, 16, 64, true, true],
  ];
  for (const [n, heads, l, e, causal, bias] of cases) {
    it(`${n} x ${l} rows of width ${e}, ${heads} heads, causal ${causal}, bias ${bias}: gradients equal the three projections'`, () => {
      expect(getBackend().fused?.attentionPacked).toBeDefined();
      const packed = runSelfAttention(n, heads, l, e, causal, bias, 'auto');
      const three = runSelfAttention(n, heads, l, e, causal, bias, 'never');
      expect(packed.seen).toContain('attentionPacked');
      expect(packed.seen.filter((o) => o === 'linear')).toHaveLength(1);
      expect(three.seen).not.toContain('attentionPacked');
      expect(three.seen.filter((o) => o === 'linear')).toHaveLength(3);
      // The same products and kernels, but dx sums its three parts in one product instead of
      // three added after: the last bits may differ there, by float32 rounding of the largest terms.
      packed.values.forEach((a, i) => {
        const scale = three.values[i].reduce((m, v) => Math.max(m, Math.abs(v)), 1);
        a.forEach((v, j) => expect(Math.abs(v - three.values[i][j])).toBeLessThanOrEqual(1e-5 * scale));
      });
    });
  }

  it('gives the bits of the three projections forward, and its weight and bias gradients, at GPT size', () => {
    manualSeed(3);
    const x = randn([32, 16, 64]);
    const w = randn([192, 64]);
    const b = randn([192]);
    const packed = Array.from(selfAttentionHeads(x, w, b, 4, true).dataSync());
    setSelfAttentionPacking('never');
    try {
      expect(packed).toEqual(Array.from(selfAttentionHeads(x, w, b, 4, true).dataSync()));
    } finally {
      setSelfAttentionPacking('auto');
    }
    const p = runSelfAttention(32, 4, 16, 64, true, true, 'auto').values;
    const t = runSelfAttention(32, 4, 16, 64, true, true, 'never').values;
    expect(p[1]).toEqual(t[1]);
    expect(p[2]).toEqual(t[2]);
  });

  it('refuses a weight that is not [3e, e] and heads that do not divide e', () => {
    const x = randn([1, 2, 4]);
    expect(() => selfAttentionHeads(x, randn([8, 4]), null, 2)).toThrow(
      /attention: expected x \[n, l, e\], weight \[3e, e\] and 2 heads dividing e, got \[1,2,4\] and \[8,4\]/,
    );
    expect(() => selfAttentionHeads(x, randn([12, 4]), null, 3)).toThrow(/3 heads dividing e/);
    expect(() => selfAttentionHeads(x, randn([12, 4]), null, 0)).toThrow(/0 heads dividing e/);
    expect(() => selfAttentionHeads(randn([1, 2, 3]), randn([9, 3]), null, 1.5)).toThrow(/1.5 heads dividing e/);
  });
});
