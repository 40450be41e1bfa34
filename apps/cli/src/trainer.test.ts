import { Linear, Sequential } from '@bp/layers';
import { crossEntropyLoss } from '@bp/losses';
import { SGD } from '@bp/optim';
import { getRandomState, manualSeed, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';
import { PlainReporter } from './progress.js';
import { resolveSettings } from './settings.js';
import { NonFiniteLossError, startProgress, trainLoop, type TrainContext } from './trainer.js';

const silent = new PlainReporter({ write: () => true, isTTY: false } as unknown as NodeJS.WriteStream);

function setup() {
  manualSeed(3);
  const model = new Sequential([new Linear(2, 2)]);
  const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const train = {
    x: tensor([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]),
    y: tensor([0, 1, 1, 0], { dtype: 'int32' }),
  };
  return { model, optimizer, train };
}

describe('trainLoop', () => {
  it('stops at the first non-finite loss before the update, naming epoch and step', async () => {
    const { model, optimizer, train } = setup();
    let calls = 0;
    const epochsEnded: number[] = [];
    let weightsAtEpochEnd: Float32Array | null = null;
    const ctx: TrainContext = {
      model,
      optimizer,
      // The 4th batch (epoch 2, step 2 at batch size 2) reports NaN.
      loss: (logits, labels) => (++calls === 4 ? crossEntropyLoss(logits, labels).mul(NaN) : crossEntropyLoss(logits, labels)),
      train,
      validation: null,
      epochs: 3,
      batchSize: 2,
      progress: startProgress(),
      reporter: silent,
      async onEpochEnd(p) {
        epochsEnded.push(p.epoch);
        weightsAtEpochEnd = model.parameters()[0].dataSync() as Float32Array;
      },
      shouldStop: () => false,
      nonFiniteAdvice: () => 'advice',
    };
    const err = await trainLoop(ctx).catch((e) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect(err.message).toBe('train: the loss is NaN at epoch 2, step 2; stopped before updating the weights. advice');
    expect(epochsEnded).toEqual([1]);
    // Step 1 of epoch 2 updated the weights; the NaN step did not.
    expect(Array.from(model.parameters()[0].dataSync()).every(Number.isFinite)).toBe(true);
    expect(weightsAtEpochEnd).not.toBeNull();
  });

  it('stops after the current step when asked, recording the exact point reached', async () => {
    const { model, optimizer, train } = setup();
    let steps = 0;
    const progress = startProgress();
    const status = await trainLoop({
      model,
      optimizer,
      loss: (l, y) => {
        steps++;
        return crossEntropyLoss(l, y);
      },
      train,
      validation: null,
      epochs: 5,
      batchSize: 1,
      progress,
      reporter: silent,
      onEpochEnd: async () => {},
      shouldStop: () => steps >= 6,
      nonFiniteAdvice: () => '',
    });
    expect(status).toBe('interrupted');
    expect(progress.epoch).toBe(1);
    expect(progress.step).toBe(2);
    expect(progress.order).toHaveLength(4);
    expect(progress.sums.examples).toBe(2);
  });
});

describe('checkpoint encoding', () => {
  it('round-trips weights, optimizer state, generator state and progress', async () => {
    const { model, optimizer, train } = setup();
    const progress = startProgress();
    await trainLoop({
      model,
      optimizer,
      loss: crossEntropyLoss,
      train,
      validation: null,
      epochs: 1,
      batchSize: 2,
      progress,
      reporter: silent,
      onEpochEnd: async () => {},
      shouldStop: () => false,
      nonFiniteAdvice: () => '',
    });
    progress.step = 1;
    progress.order = Int32Array.from([3, 1, 0, 2]);
    const settings = resolveSettings('xor', { model: 'mlp', loss: 'cross-entropy', backend: 'cpu', seed: 3 });
    const random = getRandomState();
    const bytes = encodeCheckpoint({ settings, progress, random, model: model.stateDict(), optimizer: optimizer.stateDict() });
    const cp = decodeCheckpoint(bytes, 'cp.safetensors');
    expect(cp.settings).toEqual(settings);
    expect(cp.random).toEqual(random);
    expect(cp.progress.epoch).toBe(1);
    expect(Array.from(cp.progress.order!)).toEqual([3, 1, 0, 2]);
    expect(Array.from(cp.model['0.weight'].dataSync())).toEqual(Array.from(model.stateDict()['0.weight'].dataSync()));
    const momentum = (cp.optimizer.state['0'] as Record<string, { dataSync(): Float32Array }>).momentumBuffer;
    const original = (optimizer.stateDict().state['0'] as Record<string, { dataSync(): Float32Array }>).momentumBuffer;
    expect(Array.from(momentum.dataSync())).toEqual(Array.from(original.dataSync()));
    expect(() => decodeCheckpoint(bytes.slice(0, 20), 'cut.safetensors')).toThrow(/cut\.safetensors/);
  });
});
