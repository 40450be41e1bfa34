import { cpuBackend, getBackend, ones, setBackend, zeros, type Backend } from '@bp/tensor';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeSafetensors } from './io/safetensors.js';
import { fromMemory } from './io/memory.js';
import { Conv2d } from './layers/conv2d.js';
import { Linear } from './layers/linear.js';
import { AdaptiveAvgPool2d } from './layers/pooling.js';
import { withParameterBudget } from './parameter-budget.js';

const refuse = (layer: string, need: number, left: number) => new Error(`${layer} needs ${need}, ${left} left`);

describe('withParameterBudget', () => {
  it('refuses a layer sized by its input past the budget, before it allocates, and not outside it', () => {
    const lazy = () => new Linear(null, 8);
    // 7 inputs x 8 outputs + 8 biases = 64 values.
    expect(() => withParameterBudget(63, refuse, () => lazy().forward(zeros([1, 7])))).toThrow('Linear needs 64, 63 left');
    expect(withParameterBudget(64, refuse, () => lazy().forward(zeros([1, 7]))).shape).toEqual([1, 8]);
    expect(lazy().forward(zeros([1, 7])).shape).toEqual([1, 8]);
  });

  it('counts what a nested budget spent against the enclosing one', () => {
    const build = () => new Linear(null, 8).forward(zeros([1, 7]));
    expect(() =>
      withParameterBudget(100, refuse, () => {
        withParameterBudget(100, refuse, build);
        build();
      }),
    ).toThrow('Linear needs 64, 36 left');
  });
});

describe('the build bound on window layers', () => {
  /** A model.json of `layers` after `inputShape`, with no weights (the layers below have none or are bias-free 1x1 kernels). */
  const artifacts = (inputShape: number[], layers: unknown[]) => ({
    modelJson: JSON.stringify({
      format: 'bp-model',
      formatVersion: 1,
      weights: 'model.safetensors',
      model: { type: 'Sequential', config: { layers, inputShape } },
    }),
    weights: encodeSafetensors(
      Object.fromEntries(
        layers.flatMap((l, i) => ((l as { type: string }).type === 'Conv2d' ? [[`${i}.weight`, ones([1, 1, 1, 1])]] : [])),
      ),
    ),
  });

  /**
   * The CPU backend, noting the most values any one storage it hands out holds: what a build
   * allocated at its largest, counted rather than timed.
   */
  const measuring = (): Backend & { largest(): number } => {
    let largest = 0;
    const note = (r: unknown): unknown => {
      for (const s of Array.isArray(r) ? r : [r]) if (ArrayBuffer.isView(s)) largest = Math.max(largest, (s as Float32Array).length);
      return r;
    };
    const wrap = (o: Record<string, unknown>): Record<string, unknown> =>
      Object.fromEntries(
        Object.entries(o).map(([k, v]) => [
          k,
          typeof v === 'function' ? (...a: unknown[]) => note((v as (...x: unknown[]) => unknown)(...a)) : v,
        ]),
      );
    const inner = cpuBackend() as unknown as Record<string, unknown>;
    const out = wrap(inner);
    if (inner.fused) out.fused = wrap(inner.fused as Record<string, unknown>);
    out.largest = () => largest;
    return out as unknown as Backend & { largest(): number };
  };
  const before = getBackend();
  afterEach(() => setBackend(before));

  it('refuses settings that would make building allocate gigabytes, naming the layer, before any storage passes the bound', () => {
    const backend = measuring();
    setBackend(backend);
    // An adaptive pooling to 20000x20000 after a 2-value input: 400 million values.
    expect(() =>
      fromMemory(
        artifacts(
          [2],
          [
            { type: 'Unflatten', config: { dim: 1, sizes: [2, 1, 1] } },
            { type: 'AdaptiveMaxPool2d', config: { outputSize: [20000, 20000] } },
          ],
        ),
      ),
    ).toThrow(/AdaptiveMaxPool2d.*\[2,20000,20000\] per sample \(800000000 values\) takes building past the 67108864/);
    // Paddings of 1024 (each within the per-setting limit) six times over a 1x1 image: 2049^2, 4097^2, 6145^2...
    const padded = Array.from({ length: 6 }, () => ({
      type: 'Conv2d',
      config: { inChannels: 1, outChannels: 1, kernelSize: 1, padding: 1024, bias: false },
    }));
    expect(() => fromMemory(artifacts([1, 1, 1], padded))).toThrow(/Conv2d.*takes building past/);
    // A transposed convolution's stride and dilation of 1024, twice.
    const spread = Array.from({ length: 2 }, () => ({
      type: 'ConvTranspose2d',
      config: { inChannels: 1, outChannels: 1, kernelSize: 2, stride: 1024, dilation: 1024, bias: false },
    }));
    expect(() => fromMemory(artifacts([1, 2, 2], spread))).toThrow(/ConvTranspose2d.*takes building past/);
    // Before the bound: minutes and gigabytes (24 GB for the pooling); now no storage of the layers
    // it lets through holds more than the bound's 67108864 values (the paddings stop at 6145^2).
    expect(backend.largest()).toBeGreaterThan(6145 * 6145 - 1);
    expect(backend.largest()).toBeLessThanOrEqual(67108864);
  });

  it('bounds only builds within a budget: the same layers run outside one', () => {
    const pool = new AdaptiveAvgPool2d([300, 300]);
    expect(pool.forward(zeros([1, 1, 1, 1])).shape).toEqual([1, 1, 300, 300]);
    expect(() => withParameterBudget(0, refuse, () => new AdaptiveAvgPool2d([9000, 9000]).forward(zeros([1, 1, 1, 1])))).toThrow(
      /AdaptiveAvgPool2d: an output of \[1,9000,9000\] per sample/,
    );
    expect(withParameterBudget(0, refuse, () => new Conv2d(1, 2, 3, { padding: 1 }).forward(zeros([1, 1, 5, 5]))).shape).toEqual([
      1, 2, 5, 5,
    ]);
  });
});
