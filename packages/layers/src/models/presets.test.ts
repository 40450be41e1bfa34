import { ArgumentError, manualSeed, randn } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { outputKind } from '../training/output-kind.js';
import { presets } from '../index.js';

const shapes = (m: ReturnType<typeof presets.mnistMlp>) => m.namedParameters().map(([n, p]) => `${n} ${JSON.stringify(p.shape)}`);

describe('presets', () => {
  it('mnistMlp: Flatten, Linear 784-128, ReLU, Linear 128-10 (PyTorch state_dict order), logits', () => {
    const m = presets.mnistMlp();
    expect(shapes(m)).toEqual(['1.weight [128,784]', '1.bias [128]', '3.weight [10,128]', '3.bias [10]']);
    expect(m.numParameters()).toBe(101_770);
    expect(m.forward(randn([2, 1, 28, 28])).shape).toEqual([2, 10]);
    expect(outputKind(m).kind).toBe('logits');
    expect(shapes(presets.mnistMlp({ inputShape: [3, 4, 5], classes: 2 }))).toEqual([
      '1.weight [128,60]',
      '1.bias [128]',
      '3.weight [2,128]',
      '3.bias [2]',
    ]);
  });

  it('mnistCnn: two conv blocks then Linear 1568-10, 20,490 parameters, logits', () => {
    const m = presets.mnistCnn();
    expect(shapes(m)).toEqual([
      '0.weight [16,1,3,3]',
      '0.bias [16]',
      '3.weight [32,16,3,3]',
      '3.bias [32]',
      '7.weight [10,1568]',
      '7.bias [10]',
    ]);
    expect(m.numParameters()).toBe(20_490);
    expect(m.forward(randn([2, 1, 28, 28])).shape).toEqual([2, 10]);
    // 3 channels of 30x18: 30 -> 15 -> 7 and 18 -> 9 -> 4.
    const rgb = presets.mnistCnn({ inputShape: [3, 30, 18], classes: 4 });
    expect(shapes(rgb).at(-2)).toBe('7.weight [4,896]');
    expect(rgb.forward(randn([1, 3, 30, 18])).shape).toEqual([1, 4]);
  });

  it('kerasMnistMlp: built at construction, softmax outputs', () => {
    const m = presets.kerasMnistMlp();
    expect(m.built).toBe(true);
    expect(shapes(m)).toEqual(['1.weight [128,784]', '1.bias [128]', '3.weight [10,128]', '3.bias [10]']);
    expect(outputKind(m).kind).toBe('probabilities');
    const rows = m
      .forward(randn([3, 1, 28, 28]))
      .sum(1)
      .dataSync();
    for (const r of rows) expect(r).toBeCloseTo(1, 5);
  });

  it('draws the same weights from the same seed', () => {
    for (const make of [presets.mnistMlp, presets.mnistCnn, presets.kerasMnistMlp]) {
      manualSeed(5);
      const a = make()
        .parameters()
        .map((p) => Array.from(p.dataSync()));
      manualSeed(5);
      const b = make()
        .parameters()
        .map((p) => Array.from(p.dataSync()));
      expect(b).toEqual(a);
    }
  });

  it('refuses sizes it cannot build, naming the preset', () => {
    expect(() => presets.mnistCnn({ inputShape: [784] })).toThrow(
      new ArgumentError('presets.mnistCnn', 'inputShape must be [channels, height, width], got [784]'),
    );
    expect(() => presets.mnistCnn({ inputShape: [1, 3, 28] })).toThrow(
      'presets.mnistCnn: two 2x2 poolings need images of at least 4x4, got 3x28',
    );
    expect(() => presets.mnistMlp({ classes: 0 })).toThrow('presets.mnistMlp: classes must be a positive integer, got 0');
    expect(() => presets.kerasMnistMlp({ inputShape: [0, 28] })).toThrow(
      /^presets\.kerasMnistMlp: inputShape must be a non-empty array of positive integers/,
    );
  });
});
