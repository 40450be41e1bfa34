import { ArgumentError, ShapeError, type Backend, getBackend, manualSeed, randn, setBackend, tensor, zeros } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import '@bp/autograd';
import { setOpObserver } from '@bp/tensor/internal';
import { expectClose } from './__fixtures__/refs.js';
import { ReLU, Softmax } from './layers/activations.js';
import { BatchNorm1d } from './layers/batch-norm1d.js';
import { Conv2d } from './layers/conv2d.js';
import { Dense } from './layers/dense.js';
import { Dropout } from './layers/dropout.js';
import { Embedding } from './layers/embedding.js';
import { Flatten } from './layers/flatten.js';
import { Linear } from './layers/linear.js';
import { MaxPool2d } from './layers/max-pool2d.js';
import { Sequential } from './sequential.js';

describe('Sequential', () => {
  it('applies its layers in order', () => {
    const fc1 = new Linear(3, 4);
    const fc2 = new Linear(4, 2);
    const model = new Sequential([fc1, new ReLU(), fc2]);
    const x = tensor([
      [1, -2, 3],
      [0.5, 0, -1],
    ]);
    expectClose(model.forward(x), Array.from(fc2.forward(fc1.forward(x).relu()).dataSync()));
    expectClose(model.call(x), Array.from(model.forward(x).dataSync()));
  });

  it('turns Dense activations into their own layers, with PyTorch names', () => {
    const model = new Sequential([new Dense(128, { activation: 'relu', inputShape: [784] }), new Dense(10, { activation: 'softmax' })]);
    expect(model.layers.map((l) => l.layerType)).toEqual(['Dense', 'ReLU', 'Dense', 'Softmax']);
    expect(Object.keys(model.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(model.stateDict()['0.weight'].shape).toEqual([128, 784]);
    expect(model.at(2)).toBeInstanceOf(Linear);
    // The softmax layer is applied once: rows sum to 1 and are not flattened by a second softmax.
    const p = model.forward(randn([2, 784]));
    expectClose(p.sum(1), [1, 1]);
  });

  it('builds every parameter at construction when the first layer declares inputShape', () => {
    const model = new Sequential([
      new Flatten({ inputShape: [1, 28, 28] }),
      new Dense(32, { activation: 'relu' }),
      new Dropout(0.2),
      new Dense(10),
    ]);
    expect(model.built).toBe(true);
    expect(model.parameters().map((p) => p.shape)).toEqual([[32, 784], [32], [10, 32], [10]]);
    expect(model.numParameters()).toBe(784 * 32 + 32 + 32 * 10 + 10);
  });

  it('infers sizes through convolutions and pooling', () => {
    const model = new Sequential([new Conv2d(1, 4, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2), new Flatten(), new Dense(10)]);
    expect(model.built).toBe(false);
    model.build([1, 28, 28]);
    expect(model.built).toBe(true);
    expect(model.at(4).parameters()[0].shape).toEqual([10, 4 * 14 * 14]);
    expect(model.layerOutputShapes).toEqual([[4, 28, 28], [4, 28, 28], [4, 14, 14], [784], [10]]);
  });

  it('builds a model that starts by looking up ids (an Embedding) from int32 ids', () => {
    const model = new Sequential([new Embedding(10, 4), new Flatten(), new Dense(2)]);
    model.build([3]);
    expect(model.built).toBe(true);
    expect(model.layerOutputShapes).toEqual([[3, 4], [12], [2]]);
    const nested = new Sequential([new Sequential([new Embedding(10, 4)]), new Flatten(), new Dense(2)]);
    nested.build([5]);
    expect(nested.at(2).parameters()[0].shape).toEqual([2, 20]);
  });

  it('builds lazily on the first forward without inputShape', () => {
    manualSeed(5);
    const model = new Sequential([new Dense(8, { activation: 'relu' }), new Dense(2)]);
    expect(model.built).toBe(false);
    expect(model.parameters()).toHaveLength(0);
    expect(model.forward(zeros([3, 5])).shape).toEqual([3, 2]);
    expect(model.parameters().map((p) => p.shape)).toEqual([[8, 5], [8], [2, 8], [2]]);
  });

  it('building leaves training mode and BatchNorm statistics alone', () => {
    const model = new Sequential([new Dense(4, { inputShape: [3] }), new BatchNorm1d(4), new Dense(2)]);
    expect(model.training).toBe(true);
    expect(model.namedModules().every(([, m]) => m.training)).toBe(true);
    expect((model.at(1) as BatchNorm1d).numBatchesTracked!.item()).toBe(0);
  });

  it('add() appends layers Keras-style', () => {
    const model = new Sequential();
    model.add(new Dense(6, { activation: 'tanh', inputShape: [4] })).add(new Dense(3, { activation: 'softmax' }));
    expect(model.layers.map((l) => l.layerType)).toEqual(['Dense', 'Tanh', 'Dense', 'Softmax']);
    expect(model.built).toBe(true);
    expect(model.numParameters()).toBe(4 * 6 + 6 + 6 * 3 + 3);
  });

  it('summary() lists layers, output shapes and parameter counts', () => {
    const model = new Sequential([
      new Dense(128, { activation: 'relu', inputShape: [784] }),
      new BatchNorm1d(128),
      new Dense(10, { activation: 'softmax' }),
    ]);
    const lines: string[] = [];
    const text = model.summary((s) => lines.push(s));
    expect(lines).toEqual([text]);
    expect(text).toMatch(/^Model: "sequential"/);
    expect(text).toMatch(/0 \(Dense\)\s+\[null, 128\]\s+100,480/);
    expect(text).toMatch(/1 \(ReLU\)\s+\[null, 128\]\s+0/);
    expect(text).toMatch(/2 \(BatchNorm1d\)\s+\[null, 128\]\s+512/);
    expect(text).toMatch(/3 \(Dense\)\s+\[null, 10\]\s+1,290/);
    expect(text).toMatch(/4 \(Softmax\)\s+\[null, 10\]\s+0/);
    expect(text).toContain('Total params: 102,282');
    expect(text).toContain('Trainable params: 102,026');
    expect(text).toContain('Non-trainable params: 256');
  });

  it('summary() says when layers are not built yet', () => {
    const text = new Sequential([new Dense(3), new Dense(1)]).summary(null);
    expect(text).toContain('? (unbuilt)');
    expect(text).toContain('not built yet');
  });

  it('reports shape errors from the layer that failed', () => {
    const model = new Sequential([new Linear(4, 3), new Softmax()]);
    expect(() => model.forward(zeros([2, 5]))).toThrow(ShapeError);
    expect(() => model.forward(zeros([2, 5]))).toThrow(/^Linear: input \[2,5\]/);
    expect(() => new Sequential([new Linear(2, 2), {} as Linear])).toThrow(ArgumentError);
  });
});

describe('Sequential: Linear + ReLU as one fused op', () => {
  /** Output and gradients of a small MLP (Linear, ReLU, Dense with its ReLU handed over, Linear). */
  function run() {
    manualSeed(11);
    const model = new Sequential([new Linear(6, 8), new ReLU(), new Dense(5, { activation: 'relu' }), new Linear(5, 3)]);
    const x = randn([4, 6]);
    const ops: string[] = [];
    const prev = setOpObserver((op) => void ops.push(op));
    let y;
    try {
      y = model.forward(x);
    } finally {
      setOpObserver(prev);
    }
    y.mul(randn(y.shape)).sum().backward();
    return {
      y: Array.from(y.dataSync()),
      grads: model.parameters().map((p) => Array.from(p.grad!.dataSync())),
      shapes: model.layerOutputShapes,
      ops: ops.filter((op) => op === 'linear' || op === 'relu'),
    };
  }

  it('gives the values, gradients and per-layer shapes of the unfused layers', async () => {
    const cpu = getBackend();
    expect(cpu.fused?.linear).toBeDefined();
    const fused = run();
    const { linear: _dropped, ...others } = cpu.fused ?? {};
    await setBackend({ ...cpu, fused: others } as Backend);
    let composite;
    try {
      composite = run();
    } finally {
      await setBackend(cpu);
    }
    expect({ ...fused, ops: [] }).toEqual({ ...composite, ops: [] });
    // Three linear ops, two with the ReLU inside; the composite records its ReLUs separately.
    expect(fused.ops).toEqual(['linear', 'linear', 'linear']);
    expect(composite.ops).toEqual(['relu', 'relu']);
    expect(fused.shapes).toEqual([[8], [8], [5], [5], [3]]);
  });
});
