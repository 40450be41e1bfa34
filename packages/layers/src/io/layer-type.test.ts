// A subclass of a built-in layer that computes something else must not be saved as the built-in:
// load would rebuild the plain layer and give other outputs without a word.
import type { Tensor } from '@bp/tensor';
import { ones } from '@bp/tensor';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReLU } from '../layers/activations.js';
import { Linear } from '../layers/linear.js';
import { Sequential } from '../sequential.js';
import { layerToConfig, registerLayer } from './architecture.js';
import { fromMemory, toMemory } from './memory.js';

class Doubled extends Linear {
  override forward(x: Tensor): Tensor {
    return super.forward(x).mul(2);
  }
}

class Swish extends ReLU {
  override forward(x: Tensor): Tensor {
    return x.mul(x.sigmoid());
  }
}

class Tripled extends Sequential {
  override forward(x: Tensor): Tensor {
    return super.forward(x).mul(3);
  }
}

class TwoToThree extends Linear {
  constructor() {
    super(2, 3);
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a subclass of a built-in layer with a forward of its own', () => {
  it('is saved under its class name, so load asks for its factory instead of rebuilding the built-in', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const model = new Sequential([new Doubled(2, 3), new Swish()]);
    const artifacts = toMemory(model);
    expect(artifacts.modelJson.model).toEqual({
      type: 'Sequential',
      config: {
        layers: [
          { type: 'Doubled', config: { inFeatures: 2, outFeatures: 3, bias: true } },
          { type: 'Swish', config: {} },
        ],
      },
    });
    // Said at save, as for any custom layer not yet registered.
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
      expect.stringContaining("save: layers[0] is a custom layer 'Doubled'"),
      expect.stringContaining("save: layers[1] is a custom layer 'Swish'"),
    ]);
    expect(() => fromMemory(artifacts)).toThrow(
      "model.json: layers[0]: unknown layer type 'Doubled'; register custom layers with registerLayer('Doubled', factory)",
    );
    registerLayer('Doubled', (c) => new Doubled(c.inFeatures as number, c.outFeatures as number, { bias: c.bias as boolean }));
    registerLayer('Swish', () => new Swish());
    const x = ones([1, 2]);
    expect(Array.from(fromMemory(artifacts).forward(x).dataSync())).toEqual(Array.from(model.forward(x).dataSync()));
  });

  it('a Sequential subclass too; a subclass that only fixes its arguments stays the built-in', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(layerToConfig(new Tripled([new Linear(2, 3)])).type).toBe('Tripled');
    expect(layerToConfig(new Sequential([new TwoToThree()]))).toEqual({
      type: 'Sequential',
      config: { layers: [{ type: 'Linear', config: { inFeatures: 2, outFeatures: 3, bias: true } }] },
    });
  });
});
