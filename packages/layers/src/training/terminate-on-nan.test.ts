import '@bp/losses';
import '@bp/optim';
import { ArgumentError, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { Linear } from '../layers/linear.js';
import { Sequential } from '../sequential.js';
import { NonFiniteLossError } from './fit.js';

/** Six samples of y = x1 + x2, the fourth of which (index 3) has a NaN input when `bad`. */
function data(bad: boolean) {
  const x = tensor([[1, 0], [0, 1], [1, 1], [bad ? Number.NaN : 2, 0], [0, 2], [2, 2]]);
  return { x, y: tensor([[1], [1], [2], [2], [2], [4]]) };
}

function model(): Sequential {
  const m = new Sequential([new Linear(2, 1)]);
  m.compile({ optimizer: 'sgd', loss: 'mse' });
  return m;
}

describe('fit and a non-finite loss', () => {
  it('stops at the end of the epoch, naming it and the step where the loss was read', async () => {
    const m = model();
    const { x, y } = data(true);
    // Batches of 2 without shuffling: index 3 is in the 2nd batch of epoch 1; the sum is read after the 3rd.
    const err = await m.fit(x, y, { epochs: 3, batchSize: 2, shuffle: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as Error).message).toMatch(
      /^fit: the loss is NaN at epoch 1, step 3 \(read there; the first bad batch may be earlier in the epoch\)\. .*terminateOnNaN: false/,
    );
    expect([(err as NonFiniteLossError).epoch, (err as NonFiniteLossError).step]).toEqual([1, 3]);
  });

  it('stops at the bad step when a callback reads logs.loss in onBatchEnd', async () => {
    const m = model();
    const { x, y } = data(true);
    const seen: number[] = [];
    const err = await m
      .fit(x, y, { epochs: 3, batchSize: 2, shuffle: false, callbacks: [{ onBatchEnd: (_b, logs) => void seen.push(logs!.loss) }] })
      .catch((e: unknown) => e);
    expect([(err as NonFiniteLossError).epoch, (err as NonFiniteLossError).step]).toEqual([1, 2]);
    // The first batch's loss, read and finite: mean((w x + b - y)^2) for the initial weights.
    expect(seen).toHaveLength(1);
    expect(Number.isFinite(seen[0])).toBe(true);
  });

  it('counts epochs and steps from 1', async () => {
    const m = model();
    const { x, y } = data(false);
    const weight = (m.layers[0] as Linear).weight;
    const err = await m
      .fit(x, y, {
        epochs: 3,
        batchSize: 4,
        shuffle: false,
        callbacks: [{
          onEpochEnd(epoch) {
            // After epoch 1, an infinite weight makes every later loss non-finite.
            if (epoch === 0) weight.assign(tensor([[Number.POSITIVE_INFINITY, 0]]));
          },
        }],
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/the loss is (Infinity|NaN) at epoch 2, step 2 /);
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
