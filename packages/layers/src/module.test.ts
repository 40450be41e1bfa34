import '@bp/autograd';
import { ArgumentError, ShapeError, type Tensor, manualSeed, ones, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { BatchNorm1d } from './layers/batch-norm1d.js';
import { Dropout } from './layers/dropout.js';
import { Linear } from './layers/linear.js';
import { ReLU } from './layers/activations.js';
import { Module } from './module.js';
import { Sequential } from './sequential.js';

class Block extends Module {
  readonly fc = this.registerModule('fc', new Linear(3, 4));
  readonly bn = this.registerModule('bn', new BatchNorm1d(4));
  readonly scale = this.registerParameter('scale', ones([1]));
  override forward(x: Tensor): Tensor {
    return this.bn.forward(this.fc.forward(x)).mul(this.scale);
  }
}

class Net extends Module {
  readonly features = this.registerModule('features', new Sequential([new Block(), new ReLU(), new Dropout(0.5)]));
  readonly head = this.registerModule('head', new Linear(4, 2));
  override forward(x: Tensor): Tensor {
    return this.head.forward(this.features.forward(x));
  }
}

describe('Module', () => {
  it('names parameters and buffers with PyTorch dotted paths, in PyTorch order', () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      'features.0.scale',
      'features.0.fc.weight',
      'features.0.fc.bias',
      'features.0.bn.weight',
      'features.0.bn.bias',
      'head.weight',
      'head.bias',
    ]);
    expect(Object.keys(net.stateDict())).toEqual([
      'features.0.scale',
      'features.0.fc.weight',
      'features.0.fc.bias',
      'features.0.bn.weight',
      'features.0.bn.bias',
      'features.0.bn.running_mean',
      'features.0.bn.running_var',
      'features.0.bn.num_batches_tracked',
      'head.weight',
      'head.bias',
    ]);
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(net.numParameters()).toBe(1 + 12 + 4 + 4 + 4 + 8 + 2);
  });

  it('names Sequential children 0, 1, ... as PyTorch does', () => {
    const model = new Sequential([new Linear(4, 3), new ReLU(), new Linear(3, 2)]);
    expect(Object.keys(model.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
  });

  it('switches train/eval mode through the whole tree', () => {
    const net = new Net();
    expect(net.namedModules().every(([, m]) => m.training)).toBe(true);
    net.eval();
    expect(net.namedModules().every(([, m]) => !m.training)).toBe(true);
    net.train();
    expect(net.features.at(2).training).toBe(true);
  });

  it('zeroGrad clears every gradient', () => {
    const net = new Net();
    net
      .forward(
        tensor([
          [1, 2, 3],
          [4, 5, 6],
        ]),
      )
      .sum()
      .backward();
    expect(net.parameters().every((p) => p.grad !== null)).toBe(true);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it('loadStateDict copies values into the same tensors', () => {
    manualSeed(1);
    const a = new Net();
    const b = new Net();
    a.features.at(0).forward(
      tensor([
        [1, 2, 3],
        [3, 1, 2],
      ]),
    ); // moves a's running statistics
    const weight = b.head.weight;
    b.loadStateDict(a.stateDict());
    expect(b.head.weight).toBe(weight);
    for (const [k, v] of Object.entries(a.stateDict())) expect(Array.from(b.stateDict()[k].dataSync())).toEqual(Array.from(v.dataSync()));
    // A copy, not shared storage: changing a afterwards leaves b alone.
    const before = Array.from(b.head.weight.dataSync());
    a.head.weight.assign(ones([2, 4]));
    expect(Array.from(b.head.weight.dataSync())).toEqual(before);
  });

  it('loadStateDict names missing and unexpected keys and mismatched shapes', () => {
    const model = new Sequential([new Linear(4, 3), new ReLU(), new Linear(3, 2)]);
    const sd = model.stateDict();
    const { ['2.bias']: _dropped, ...missing } = sd;
    expect(() => model.loadStateDict(missing)).toThrow(ArgumentError);
    expect(() => model.loadStateDict(missing)).toThrow(/missing key\(s\) '2\.bias'/);
    expect(() => model.loadStateDict({ ...sd, '5.weight': ones([1]) })).toThrow(/unexpected key\(s\) '5\.weight'/);
    expect(() => model.loadStateDict({ ...sd, '0.weight': ones([4, 3]) })).toThrow(ShapeError);
    expect(() => model.loadStateDict({ ...sd, '0.weight': ones([4, 3]) })).toThrow(
      /size mismatch for '0\.weight': the state dict has \[4,3\], the module has \[3,4\]/,
    );
    expect(model.loadStateDict(missing, { strict: false })).toEqual({ missingKeys: ['2.bias'], unexpectedKeys: [] });
  });

  it('a failed load changes nothing', () => {
    const model = new Sequential([new Linear(2, 2), new Linear(2, 2)]);
    const before = Array.from(model.at(0).stateDict().weight.dataSync());
    expect(() => model.loadStateDict({ ...model.stateDict(), '0.weight': ones([2, 2]), '1.weight': ones([3, 3]) })).toThrow(ShapeError);
    expect(Array.from(model.at(0).stateDict().weight.dataSync())).toEqual(before);
  });

  it('prints a PyTorch-like tree', () => {
    expect(new Sequential([new Linear(4, 3), new ReLU()]).toString()).toBe(
      'Sequential(\n  (0): Linear(in_features=4, out_features=3, bias=true)\n  (1): ReLU()\n)',
    );
  });
});
