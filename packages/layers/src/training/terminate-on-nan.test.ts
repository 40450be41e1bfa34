import '@bp/losses';
import '@bp/optim';
import { ArgumentError, setDebugChecks, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { Linear } from '../layers/linear.js';
import { Sequential } from '../sequential.js';
import { NonFiniteLossError } from './fit.js';

/** Six samples of y = x1 + x2, the fourth of which (index 3) has a NaN input when `bad`. */
function data(bad: boolean) {
  const x = tensor([
    [1, 0],
    [0, 1],
    [1, 1],
    [bad ? Number.NaN : 2, 0],
    [0, 2],
    [2, 2],
  ]);
  return { x, y: tensor([[1], [1], [2], [2], [2], [4]]) };
}

function model(): Sequential {
  const m = new Sequential([new Linear(2, 1)]);
  m.compile({ optimizer: 'sgd', loss: 'mse' });
  return m;
}

describe('fit and a non-finite loss', () => {
  it('where reading costs a round trip (value checks off, as on a GPU) stops at the end of the epoch instead', async () => {
    setDebugChecks(false);
    try {
      const m = model();
      const { x, y } = data(true);
      const err = await m.fit(x, y, { epochs: 3, batchSize: 2, shuffle: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NonFiniteLossError);
      // Read once, when epoch 1 ends after its 3 batches.
      expect([(err as NonFiniteLossError).epoch, (err as NonFiniteLossError).step]).toEqual([1, 3]);
    } finally {
      setDebugChecks('auto');
    }
  });

  it('stops naming the epoch and step, before that step updates the weights', async () => {
    const m = model();
    const { x, y } = data(true);
    // Batches of 2 without shuffling: index 3 is in the 2nd batch of epoch 1.
    const err = await m.fit(x, y, { epochs: 3, batchSize: 2, shuffle: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as Error).message).toMatch(
      /^fit: the loss is NaN at epoch 1, step 2; stopped before updating the weights\. .*terminateOnNaN: false/,
    );
    expect([(err as NonFiniteLossError).epoch, (err as NonFiniteLossError).step]).toEqual([1, 2]);
    for (const t of m.parameters()) expect(t.dataSync().every(Number.isFinite)).toBe(true);
  });

  it('counts epochs and steps from 1, and leaves the weights as the last good step made them', async () => {
    const m = model();
    const { x, y } = data(false);
    let before: number[] = [];
    const weight = (m.layers[0] as Linear).weight;
    const err = await m
      .fit(x, y, {
        epochs: 3,
        batchSize: 4,
        shuffle: false,
        callbacks: [
          {
            onEpochEnd(epoch) {
              // After epoch 1, an infinite weight makes every later loss non-finite.
              if (epoch === 0) weight.assign(tensor([[Number.POSITIVE_INFINITY, 0]]));
              before = Array.from(weight.dataSync());
            },
          },
        ],
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/the loss is (Infinity|NaN) at epoch 2, step 1;/);
    expect(Array.from(weight.dataSync())).toEqual(before);
  });

  it('trains on with { terminateOnNaN: false }', async () => {
    const m = model();
    const { x, y } = data(true);
    const history = await m.fit(x, y, { epochs: 3, batchSize: 2, shuffle: false, terminateOnNaN: false });
    expect(history.loss).toHaveLength(3);
    expect(history.loss.every(Number.isNaN)).toBe(true);
  });

  it('refuses a non-boolean terminateOnNaN', async () => {
    const { x, y } = data(false);
    await expect(model().fit(x, y, { terminateOnNaN: 0 as unknown as boolean })).rejects.toThrow(ArgumentError);
  });
});
