import { readFileSync } from 'node:fs';
import '@bp/autograd';
import { ArgumentError, DTypeError, IndexError, ShapeError, type Tensor, manualSeed, tensor, zeros } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { expectClose, indexed } from '../__fixtures__/refs.js';
import {
  BatchNorm2d,
  Embedding,
  GroupNorm,
  LayerNorm,
  Linear,
  ModuleDict,
  ModuleList,
  Module,
  MultiheadAttention,
  Dropout,
} from '../index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const refs: any = JSON.parse(readFileSync(new URL('../__fixtures__/transformer_refs.json', import.meta.url), 'utf8'));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function inputs(c: any): Tensor[] {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return c.inputs.map((i: any) =>
    i.dtype === 'int32'
      ? tensor(Int32Array.from(i.values), { shape: i.shape })
      : tensor(Float32Array.from(i.values), { shape: i.shape, requiresGrad: true }),
  );
}

/** Loads the reference parameters, runs `call`, backpropagates sum(out * upstream) and compares everything. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function check(m: Module, c: any, call: (xs: Tensor[]) => Tensor, rtol = 1e-4, atol = 1e-5): void {
  expect(Object.keys(m.stateDict())).toEqual(c.names);
  const sd: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(m.stateDict())) {
    const p = c.params[k];
    sd[k] = p ? tensor(Float32Array.from(p.values), { shape: p.shape }) : v;
  }
  m.loadStateDict(sd);
  const xs = inputs(c);
  const out = call(xs);
  expect(out.shape).toEqual(c.outShape);
  expectClose(out, c.out, rtol, atol);
  out
    .mul(tensor(Float32Array.from(c.upstream), { shape: c.outShape }))
    .sum()
    .backward();
  xs.forEach((x, i) => {
    if (c.inputGrads[i]) expectClose(x.grad!, c.inputGrads[i], rtol, atol);
  });
  const named = Object.fromEntries(m.namedParameters());
  for (const [k, g] of Object.entries(c.paramGrads)) expectClose(named[k].grad!, g as number[], rtol, atol);
}

describe('Embedding matches nn.Embedding', () => {
  it.each(indexed(refs.embedding))('case %i', (_, c) => {
    const m = new Embedding(5, 3, { paddingIdx: c.paddingIdx ?? null });
    check(m, c, ([ids]) => m.forward(ids));
  });
  it('zeroes the padding row at construction and keeps its gradient at zero', () => {
    manualSeed(1);
    const m = new Embedding(4, 2, { paddingIdx: -1 });
    expect(m.paddingIdx).toBe(3);
    expect(Array.from(m.weight.dataSync().slice(6))).toEqual([0, 0]);
    m.forward(tensor([[3, 3, 1]], { dtype: 'int32' }))
      .sum()
      .backward();
    expect(Array.from(m.weight.grad!.dataSync())).toEqual([0, 0, 1, 1, 0, 0, 0, 0]);
  });
  it('rejects bad ids', () => {
    const m = new Embedding(4, 2);
    expect(() => m.forward(tensor([0, 4], { dtype: 'int32' }))).toThrow(IndexError);
    expect(() => m.forward(tensor([0, 1]))).toThrow(DTypeError);
    expect(() => new Embedding(4, 2, { paddingIdx: 4 })).toThrow(/paddingIdx/);
  });
});

describe('LayerNorm matches nn.LayerNorm', () => {
  it.each(indexed(refs.layerNorm))('case %i', (_, c) => {
    const m = new LayerNorm(c.normalizedShape, { eps: c.eps, elementwiseAffine: c.affine });
    check(m, c, ([x]) => m.forward(x));
  });
  it('rejects an input that does not end with normalizedShape', () => {
    expect(() => new LayerNorm(4).forward(zeros([2, 3]))).toThrow(/layerNorm: input \[2,3\] does not end with normalizedShape \[4\]/);
    expect(() => new LayerNorm([])).toThrow(ArgumentError);
  });
});

describe('GroupNorm matches nn.GroupNorm', () => {
  it.each(indexed(refs.groupNorm))('case %i', (_, c) => {
    const m = new GroupNorm(c.numGroups, c.numChannels, { eps: c.eps, affine: c.affine });
    check(m, c, ([x]) => m.forward(x));
  });
  it('rejects channels not divisible into groups and a wrong channel count', () => {
    expect(() => new GroupNorm(3, 4)).toThrow(/numChannels 4 must be divisible by numGroups 3/);
    expect(() => new GroupNorm(2, 4).forward(zeros([2, 3, 5]))).toThrow(ShapeError);
  });
});

describe('BatchNorm2d matches nn.BatchNorm2d', () => {
  it('trains with batch statistics, updates running ones, evaluates with them', () => {
    const c = refs.batchNorm2d[0];
    const m = new BatchNorm2d(3);
    check(m, c, ([x]) => m.forward(x));
    expectClose(m.runningMean!, c.runningMean);
    expectClose(m.runningVar!, c.runningVar);
    m.eval();
    expectClose(m.forward(tensor(Float32Array.from(c.evalX), { shape: [2, 3, 2, 2] })), c.evalOut);
    expect(() => m.forward(zeros([2, 3, 4]))).toThrow(/BatchNorm2d: expects input \[n, 3, h, w\], got \[2,3,4\]/);
  });
});

describe('MultiheadAttention matches nn.MultiheadAttention', () => {
  it.each(indexed(refs.multiheadAttention))('case %i', (_, c) => {
    const m = new MultiheadAttention(c.embedDim, c.numHeads, { batchFirst: c.batchFirst, bias: c.bias });
    if (c.mask === 'none') check(m, c, ([x]) => m.forward(x, x, x));
    else if (c.mask === 'bool+padding') check(m, c, ([q, kv, am, pm]) => m.forward(q, kv, kv, { attnMask: am, keyPaddingMask: pm }));
    else check(m, c, ([x, fm]) => m.forward(x, x, x, { attnMask: fm, isCausal: true }));
  });
  it('has PyTorch state-dict names and shapes; self-attention by default; unbatched input', () => {
    const m = new MultiheadAttention(8, 2);
    const shapes = Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, v.shape]));
    expect(shapes).toEqual({ in_proj_weight: [24, 8], in_proj_bias: [24], 'out_proj.weight': [8, 8], 'out_proj.bias': [8] });
    const x = tensor(
      Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)),
      { shape: [3, 8] },
    );
    const batched = m.forward(x.reshape([3, 1, 8]));
    expectClose(m.forward(x), Array.from(batched.dataSync()));
    expect(m.forward(x).shape).toEqual([3, 8]);
  });
  it('rejects bad sizes and masks', () => {
    expect(() => new MultiheadAttention(6, 4)).toThrow(/embedDim 6 must be divisible by numHeads 4/);
    const m = new MultiheadAttention(4, 2, { batchFirst: true });
    expect(() => m.forward(zeros([2, 3, 5]))).toThrow(/query must be \[seq, 4\]/);
    expect(() => m.forward(zeros([2, 3, 4]), zeros([2, 3, 4]), zeros([2, 3, 4]), { attnMask: zeros([2, 2]) })).toThrow(
      /attnMask must be \[3, 3\]/,
    );
  });
});

describe('ModuleList and ModuleDict', () => {
  class Net extends Module {
    blocks = this.registerModule('blocks', new ModuleList([new Linear(2, 3), new Linear(3, 2)]));
    heads = this.registerModule('heads', new ModuleDict({ cls: new Linear(2, 4), reg: new Linear(2, 1, { bias: false }) }));
    forward(x: Tensor) {
      for (const b of this.blocks) x = b.forward(x);
      return this.heads.get('cls').forward(x);
    }
  }
  it('registers children under their positions and keys, as PyTorch names them', () => {
    const n = new Net();
    expect(Object.keys(n.stateDict())).toEqual([
      'blocks.0.weight',
      'blocks.0.bias',
      'blocks.1.weight',
      'blocks.1.bias',
      'heads.cls.weight',
      'heads.cls.bias',
      'heads.reg.weight',
    ]);
    expect(n.parameters()).toHaveLength(7);
    expect(n.blocks.length).toBe(2);
    expect(n.blocks.get(-1)).toBe(n.blocks.get(1));
    expect(n.heads.keys()).toEqual(['cls', 'reg']);
    expect(n.forward(zeros([5, 2])).shape).toEqual([5, 4]);
    n.eval();
    expect(n.blocks.get(0).training).toBe(false);
  });
  it('rejects bad access', () => {
    const l = new ModuleList([new Linear(2, 2)]);
    expect(() => l.get(1)).toThrow(/index 1 is out of range for a list of 1 modules/);
    expect(() => l.forward(zeros([1, 2]))).toThrow(/no forward/);
    const d = new ModuleDict({ a: new Linear(1, 1) });
    expect(() => d.get('b')).toThrow(/no module under 'b'; keys are 'a'/);
    expect(() => d.set('a', new Linear(1, 1))).toThrow(/already present/);
  });
});

describe('Dropout at any rank', () => {
  it('zeroes about p of a rank-4 tensor and scales the rest by 1/(1-p); identity in eval', () => {
    manualSeed(3);
    const d = new Dropout(0.25);
    const y = d.forward(tensor(new Float32Array(4 * 5 * 6 * 7).fill(1), { shape: [4, 5, 6, 7] }));
    expect(y.shape).toEqual([4, 5, 6, 7]);
    const v = Array.from(y.dataSync());
    const zerosFrac = v.filter((e) => e === 0).length / v.length;
    expect(zerosFrac).toBeGreaterThan(0.2);
    expect(zerosFrac).toBeLessThan(0.3);
    expect(v.every((e) => e === 0 || Math.abs(e - 4 / 3) < 1e-6)).toBe(true);
    d.eval();
    const x = zeros([2, 3, 4]).add(2);
    expect(d.forward(x)).toBe(x);
  });
});
