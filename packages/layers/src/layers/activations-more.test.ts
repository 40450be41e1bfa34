import {
  celu,
  elu,
  gelu,
  hardsigmoid,
  hardswish,
  hardtanh,
  logsigmoid,
  mish,
  relu6,
  selu,
  silu,
  softplus,
  softsign,
  tensor,
} from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../__fixtures__/refs.js';
import { layerFromConfig } from '../io/architecture.js';
import {
  CELU,
  ELU,
  GELU,
  Hardsigmoid,
  Hardswish,
  Hardtanh,
  LogSigmoid,
  Mish,
  ReLU6,
  SELU,
  SiLU,
  Softplus,
  Softsign,
} from './activations.js';

describe('PyTorch-named activation layers', () => {
  const x = tensor([
    [-4, -3, -0.5, 0],
    [0.5, 3, 6, 25],
  ]);
  const pairs = [
    [new GELU(), gelu(x)],
    [new GELU({ approximate: 'tanh' }), gelu(x, { approximate: 'tanh' })],
    [new SiLU(), silu(x)],
    [new ELU(0.5), elu(x, 0.5)],
    [new CELU(2), celu(x, 2)],
    [new SELU(), selu(x)],
    [new Softplus({ beta: 2, threshold: 10 }), softplus(x, { beta: 2, threshold: 10 })],
    [new Mish(), mish(x)],
    [new ReLU6(), relu6(x)],
    [new Hardtanh(-2, 2), hardtanh(x, -2, 2)],
    [new Hardswish(), hardswish(x)],
    [new Hardsigmoid(), hardsigmoid(x)],
    [new LogSigmoid(), logsigmoid(x)],
    [new Softsign(), softsign(x)],
  ] as const;

  it('compute their functions and survive a config round trip', () => {
    for (const [layer, want] of pairs) {
      const w = Array.from(want.dataSync());
      expectClose(layer.forward(x), w);
      const back = layerFromConfig({ type: layer.layerType, config: layer.getConfig() }, 'layer');
      expect(back.layerType).toBe(layer.layerType);
      expectClose(back.forward(x), w);
    }
  });

  it('print PyTorch-style options', () => {
    expect(String(new GELU({ approximate: 'tanh' }))).toContain("approximate='tanh'");
    expect(String(new Hardtanh(-2, 2))).toContain('min_val=-2, max_val=2');
    expect(String(new Softplus())).toContain('beta=1, threshold=20');
  });

  it('reject bad options with the layer named', () => {
    expect(() => new GELU({ approximate: 'fast' as 'tanh' })).toThrow(/GELU: approximate/);
    expect(() => new ELU(Number.NaN)).toThrow(/ELU: alpha/);
    expect(() => new CELU(0)).toThrow(/CELU: alpha must not be 0/);
    expect(() => new Softplus({ beta: 0 })).toThrow(/Softplus: beta/);
    expect(() => new Hardtanh(1, -1)).toThrow(/Hardtanh: minVal \(1\) is greater than maxVal \(-1\)/);
  });
});
