import { readFileSync } from 'node:fs';
import { ArgumentError, ShapeError, tensor, zeros, type Tensor } from '@bp/tensor';
import '@bp/autograd';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../__fixtures__/refs.js';
import type { Module } from '../module.js';
import { layerFromConfig, layerToConfig } from '../io/architecture.js';
import { Conv1d } from './conv1d.js';
import { Linear } from './linear.js';
import { Conv2d } from './conv2d.js';
import { ConvTranspose2d } from './conv-transpose2d.js';
import { MaxPool2d } from './max-pool2d.js';
import { AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d } from './pooling.js';
import { Unflatten } from './unflatten.js';

interface Ref {
  shape: number[];
  data: number[];
}
interface Case {
  layer: string;
  args: unknown[];
  opts: Record<string, unknown>;
  state: Record<string, Ref>;
  x: Ref;
  out: Ref;
  weight: Ref;
  dx: Ref;
  grads: Record<string, Ref>;
}

// Written by scripts/gen_conv_pool_refs.py.
const refs = JSON.parse(readFileSync(new URL('../__fixtures__/conv_pool_refs.json', import.meta.url), 'utf8')) as { cases: Case[] };
const t = (r: Ref, requiresGrad = false) => tensor(Float32Array.from(r.data), { shape: r.shape, requiresGrad });

/* eslint-disable @typescript-eslint/no-explicit-any */
const makers: Record<string, (args: any[], opts: any) => Module> = {
  Conv1d: ([i, o, k], opts) => new Conv1d(i, o, k, opts),
  Conv2d: ([i, o, k], opts) => new Conv2d(i, o, k, opts),
  ConvTranspose2d: ([i, o, k], opts) => new ConvTranspose2d(i, o, k, opts),
  MaxPool2d: ([k, s], opts) => new MaxPool2d(k, s, opts),
  AvgPool2d: ([k, s], opts) => new AvgPool2d(k, s, opts),
  AdaptiveAvgPool2d: ([size]) => new AdaptiveAvgPool2d(size),
  AdaptiveMaxPool2d: ([size]) => new AdaptiveMaxPool2d(size),
  Unflatten: ([dim, sizes]) => new Unflatten(dim, sizes),
};
/* eslint-enable @typescript-eslint/no-explicit-any */

describe('convolution, pooling and Unflatten layers against PyTorch', () => {
  it.each(refs.cases.map((c, i) => [`${c.layer} ${i}`, c] as const))('%s: state-dict names, forward and gradients', (_name, c) => {
    const layer = makers[c.layer](c.args, c.opts);
    // Same parameter names and shapes as PyTorch's state dict.
    const own = layer.stateDict();
    expect(Object.keys(own).sort()).toEqual(Object.keys(c.state).sort());
    for (const [k, v] of Object.entries(c.state)) expect(own[k].shape).toEqual(v.shape);
    layer.loadStateDict(Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, t(v)])));
    const x = t(c.x, true);
    const out = layer.forward(x);
    expect(out.shape).toEqual(c.out.shape);
    expectClose(out, c.out.data);
    out.mul(t(c.weight)).sum().backward();
    expectClose(x.grad!, c.dx.data);
    const params = Object.fromEntries(layer.namedParameters());
    for (const [k, g] of Object.entries(c.grads)) expectClose((params[k] as Tensor).grad!, g.data);
    // The layer round-trips through its saved config.
    const again = layerFromConfig(layerToConfig(layer));
    expect(again.layerType).toBe(c.layer);
    expect(again.getConfig()).toEqual(layer.getConfig());
  });

  it('initialises weights in PyTorch layouts with the fan-in of one group', () => {
    const ct = new ConvTranspose2d(4, 6, [3, 2], { groups: 2 });
    expect(ct.weight.shape).toEqual([4, 3, 3, 2]);
    const bound = 1 / Math.sqrt(3 * 3 * 2);
    expect(Math.max(...Array.from(ct.weight.dataSync(), Math.abs))).toBeLessThanOrEqual(bound);
    expect(new Conv2d(4, 6, 3, { groups: 2 }).weight.shape).toEqual([6, 2, 3, 3]);
    expect(new Conv1d(4, 8, 5, { groups: 4 }).weight.shape).toEqual([8, 1, 5]);
  });

  it('computes the output sizes PyTorch documents', () => {
    expect(new ConvTranspose2d(8, 4, 4, { stride: 2, padding: 1 }).forward(zeros([2, 8, 7, 7])).shape).toEqual([2, 4, 14, 14]);
    expect(new Conv1d(3, 5, 3, { padding: 'same', dilation: 2 }).forward(zeros([2, 3, 9])).shape).toEqual([2, 5, 9]);
    expect(new MaxPool2d(2, 2, { ceilMode: true }).forward(zeros([1, 1, 5, 5])).shape).toEqual([1, 1, 3, 3]);
    expect(new AdaptiveAvgPool2d(1).forward(zeros([2, 8, 5, 3])).shape).toEqual([2, 8, 1, 1]);
    expect(new Unflatten(1, [1, 28, 28]).forward(zeros([2, 784])).shape).toEqual([2, 1, 28, 28]);
  });

  it('refuses bad constructor arguments and inputs, naming the layer', () => {
    expect(() => new Conv2d(4, 6, 3, { groups: 3 })).toThrow(/Conv2d: inChannels 4 must be divisible by groups 3/);
    expect(() => new Conv1d(4, 6, 3, { groups: 4 })).toThrow(/Conv1d: outChannels 6 must be divisible by groups 4/);
    expect(() => new Conv1d(2, 2, 3, { padding: 'same', stride: 2 })).toThrow(ArgumentError);
    expect(() => new ConvTranspose2d(2, 2, 3, { stride: 2, outputPadding: 2 })).toThrow(/ConvTranspose2d: outputPadding/);
    expect(() => new MaxPool2d(2, 2, { ceilMode: 'yes' as unknown as boolean })).toThrow(/MaxPool2d: ceilMode/);
    expect(() => new AvgPool2d(2, null, { padding: 2 })).toThrow(/AvgPool2d: padding/);
    expect(() => new AdaptiveAvgPool2d([0, 2])).toThrow(/AdaptiveAvgPool2d: outputSize/);
    expect(() => new Unflatten(1, [])).toThrow(/Unflatten: sizes/);
    expect(() => new ConvTranspose2d(3, 2, 2).forward(zeros([1, 2, 4, 4]))).toThrow(ShapeError);
    expect(() => new Conv1d(3, 2, 2).forward(zeros([1, 2, 4]))).toThrow(/Conv1d: expects input \[n, 3, L\], got \[1,2,4\]/);
  });
});

describe('Sequential runs a ReLU followed by a MaxPool2d as one fused op', () => {
  it('with the values and gradients of the two layers run one after the other', async () => {
    const { Sequential } = await import('../sequential.js');
    const { ReLU } = await import('./activations.js');
    const { Flatten } = await import('./flatten.js');
    const { manualSeed, randn, maxPool2d } = await import('@bp/tensor');
    const { setOpObserver } = await import('@bp/tensor/internal');
    manualSeed(11);
    const conv = new Conv2d(1, 4, 3, { padding: 1 });
    const lin = new Linear(4 * 4 * 4, 3);
    const model = new Sequential([conv, new ReLU(), new MaxPool2d(2), new Flatten(), lin]);
    const x = randn([2, 1, 8, 8]);
    const ops: string[] = [];
    setOpObserver((op) => ops.push(op));
    let fused: Tensor;
    try {
      fused = model.forward(x);
    } finally {
      setOpObserver(null);
    }
    expect(ops).not.toContain('relu');
    fused.sum().backward();
    const grads = model.parameters().map((p) => Array.from(p.grad!.dataSync()));
    model.zeroGrad();
    // The same layers one after the other.
    const manual = lin.forward(maxPool2d(conv.forward(x).relu(), 2).reshape([2, 64]));
    expect(Array.from(fused.dataSync())).toEqual(Array.from(manual.dataSync()));
    manual.sum().backward();
    model.parameters().forEach((p, i) => expect(Array.from(p.grad!.dataSync())).toEqual(grads[i]));
  });
});
