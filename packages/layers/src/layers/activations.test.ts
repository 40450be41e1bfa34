import { tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../__fixtures__/refs.js';
import { LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh, activationByName } from './activations.js';

describe('activation layers', () => {
  const x = tensor([
    [-2, 0, 1.5],
    [3, -0.5, 0.25],
  ]);
  const v = [-2, 0, 1.5, 3, -0.5, 0.25];

  it('compute their functions elementwise', () => {
    expectClose(
      new ReLU().forward(x),
      v.map((a) => Math.max(a, 0)),
    );
    expectClose(
      new Sigmoid().forward(x),
      v.map((a) => 1 / (1 + Math.exp(-a))),
    );
    expectClose(new Tanh().forward(x), v.map(Math.tanh));
    expectClose(
      new LeakyReLU(0.2).forward(x),
      v.map((a) => (a > 0 ? a : 0.2 * a)),
    );
    expectClose(
      new LeakyReLU().forward(x),
      v.map((a) => (a > 0 ? a : 0.01 * a)),
    );
  });

  it('softmax along the chosen axis', () => {
    const rows = [
      [-2, 0, 1.5],
      [3, -0.5, 0.25],
    ];
    const sm = (r: number[]) => r.map((a) => Math.exp(a) / r.reduce((s, b) => s + Math.exp(b), 0));
    expectClose(new Softmax().forward(x), rows.flatMap(sm));
    expectClose(new LogSoftmax(-1).forward(x), rows.flatMap(sm).map(Math.log));
    const cols = [0, 1, 2].map((j) => sm([rows[0][j], rows[1][j]]));
    expectClose(new Softmax(0).forward(x), [cols[0][0], cols[1][0], cols[2][0], cols[0][1], cols[1][1], cols[2][1]]);
  });

  it('are found by their Keras names', () => {
    expect(activationByName('relu')).toBeInstanceOf(ReLU);
    expect(activationByName('softmax')).toBeInstanceOf(Softmax);
    expect(activationByName('leaky_relu')).toBeInstanceOf(LeakyReLU);
    expect(activationByName('linear')).toBeNull();
    expect(activationByName(null)).toBeNull();
    expect(() => activationByName('relu6')).toThrow(/activation: unknown activation 'relu6'/);
  });
});
