import { bceLoss, crossEntropyLoss } from '@bp/losses';
import { Adam, SGD } from '@bp/optim';
import { ArgumentError, type Tensor, manualSeed, oneHot, randn, tensor, zeros } from '@bp/tensor';
import { describe, expect, it, vi } from 'vitest';
import { expectClose } from '../__fixtures__/refs.js';
import { Dense } from '../layers/dense.js';
import { Dropout } from '../layers/dropout.js';
import { Linear } from '../layers/linear.js';
import { Sequential } from '../sequential.js';
import type { Callback } from './callbacks.js';

const xorX = tensor([
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
]);
const xorY = tensor([[0], [1], [1], [0]]);

/** Three well-separated Gaussian blobs in 2-D, labels 0..2. */
function blobs(perClass: number): { x: Tensor; y: Tensor } {
  const centres = [
    [-3, -3],
    [3, -3],
    [0, 3],
  ];
  const noise = randn([3 * perClass, 2]).dataSync();
  const xs = new Float32Array(3 * perClass * 2);
  const ys = new Int32Array(3 * perClass);
  for (let i = 0; i < 3 * perClass; i++) {
    const c = i % 3;
    xs[2 * i] = centres[c][0] + 0.5 * noise[2 * i];
    xs[2 * i + 1] = centres[c][1] + 0.5 * noise[2 * i + 1];
    ys[i] = c;
  }
  return { x: tensor(xs, { shape: [3 * perClass, 2] }), y: tensor(ys, { shape: [3 * perClass] }) };
}

describe('fit', () => {
  it('learns XOR to 100% accuracy', async () => {
    manualSeed(0);
    const model = new Sequential([new Dense(8, { activation: 'tanh', inputShape: [2] }), new Dense(1, { activation: 'sigmoid' })]);
    model.compile({ optimizer: new Adam(model.parameters(), { lr: 0.1 }), loss: bceLoss, metrics: ['accuracy'] });
    const history = await model.fit(xorX, xorY, { epochs: 100, batchSize: 4 });
    expect(history.loss).toHaveLength(100);
    expect(history.loss.at(-1)!).toBeLessThan(0.1);
    expect(history.loss.at(-1)!).toBeLessThan(history.loss[0]);
    expect(history.accuracy.at(-1)).toBe(1);
    const result = await model.evaluate(xorX, xorY);
    expect(result.accuracy).toBe(1);
    expect(Array.from(model.predict(xorX).gt(0.5).dataSync())).toEqual([0, 1, 1, 0]);
  });

  it('separates three classes with named loss, validation data and history', async () => {
    manualSeed(1);
    const train = blobs(40);
    const val = blobs(10);
    const model = new Sequential([new Dense(3, { activation: 'softmax', inputShape: [2] })]);
    model.compile({ optimizer: new SGD(model.parameters(), { lr: 0.5 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const history = await model.fit(train.x, train.y, { epochs: 15, batchSize: 16, validationData: [val.x, val.y] });
    expect(Object.keys(history.history)).toEqual(['loss', 'accuracy', 'val_loss', 'val_accuracy']);
    expect(history.epoch).toEqual([...Array(15).keys()]);
    expect(history.valLoss).toHaveLength(15);
    expect(history.accuracy.at(-1)).toBe(1);
    expect(history.valAccuracy.at(-1)).toBe(1);
    expect(history.get('valLoss')).toBe(history.valLoss);
    const ev = await model.evaluate(val.x, val.y, { batchSize: 7 });
    expect(ev.loss).toBeCloseTo(history.valLoss.at(-1)!, 5);
    expect(ev.accuracy).toBe(1);
  });

  it('trains on one-hot targets and on logits', async () => {
    manualSeed(2);
    const { x, y } = blobs(30);
    const probs = new Sequential([new Dense(3, { activation: 'softmax', inputShape: [2] })]);
    probs.compile({ optimizer: new SGD(probs.parameters(), { lr: 0.5 }), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    expect((await probs.fit(x, oneHot(y, 3), { epochs: 10, batchSize: 10 })).accuracy.at(-1)).toBe(1);
    const logits = new Sequential([new Linear(2, 3)]);
    logits.compile({ optimizer: new SGD(logits.parameters(), { lr: 0.5 }), loss: crossEntropyLoss, metrics: ['accuracy'] });
    expect((await logits.fit(x, y, { epochs: 10, batchSize: 10 })).accuracy.at(-1)).toBe(1);
  });

  it('is reproducible from manualSeed, shuffling included', async () => {
    const run = async () => {
      manualSeed(11);
      const { x, y } = blobs(20);
      const model = new Sequential([new Dense(4, { activation: 'relu', inputShape: [2] }), new Dropout(0.2), new Dense(3)]);
      model.compile({ optimizer: 'sgd', loss: 'crossEntropy' });
      return (await model.fit(x, y, { epochs: 3, batchSize: 8 })).loss;
    };
    expect(await run()).toEqual(await run());
  });

  it('holds out the last samples with validationSplit', async () => {
    manualSeed(3);
    const { x, y } = blobs(20); // 60 samples: 45 train, 15 validation
    const model = new Sequential([new Dense(3, { inputShape: [2] })]);
    model.compile({ optimizer: new SGD(model.parameters(), { lr: 0.1 }), loss: 'crossEntropy', metrics: ['accuracy'] });
    const seen: number[] = [];
    const history = await model.fit(x, y, {
      epochs: 2,
      batchSize: 10,
      validationSplit: 0.25,
      callbacks: [{ onBatchEnd: (_b, logs) => void seen.push(logs.size) }],
    });
    expect(seen).toEqual([10, 10, 10, 10, 5, 10, 10, 10, 10, 5]);
    const ev = await model.evaluate(x.narrow(0, 45, 15), y.narrow(0, 45, 15));
    expect(history.valLoss.at(-1)).toBeCloseTo(ev.loss, 5);
  });

  it('validationSplit holds out as many samples as Keras: n - floor(n * (1 - split))', async () => {
    for (const [n, split, nVal] of [
      [10, 0.25, 3],
      [9, 0.5, 5],
      [5, 0.1, 1],
      [60, 0.25, 15],
    ]) {
      const model = new Sequential([new Dense(1, { inputShape: [2] })]);
      model.compile({ optimizer: new SGD(model.parameters(), { lr: 0.1 }), loss: 'mse' });
      const seen: number[] = [];
      await model.fit(zeros([n, 2]), zeros([n, 1]), {
        epochs: 1,
        batchSize: 100,
        validationSplit: split,
        callbacks: [{ onBatchEnd: (_b, logs) => void seen.push(logs.size) }],
      });
      expect(seen, `n=${n}, validationSplit=${split}`).toEqual([n - nVal]);
    }
  });

  it('creates optimizers by name with Keras defaults, after building a lazy model', async () => {
    manualSeed(4);
    const { x, y } = blobs(10);
    const model = new Sequential([new Dense(5, { activation: 'relu' }), new Dense(3)]);
    model.compile({ optimizer: 'adam', loss: 'crossEntropy' });
    expect(model.compiled!.optimizer).toBeNull();
    await model.fit(x, y, { epochs: 1 });
    const opt = model.compiled!.optimizer as Adam;
    expect(opt).toBeInstanceOf(Adam);
    expect(opt.lr).toBe(0.001);
    expect(opt.paramGroups[0].params).toHaveLength(4);
    const built = new Sequential([new Dense(3, { inputShape: [2] })]);
    built.compile({ optimizer: 'sgd', loss: 'mse' });
    expect(built.compiled!.optimizer).toBeInstanceOf(SGD);
    expect((built.compiled!.optimizer as SGD).lr).toBe(0.01);
  });

  it('calls callbacks in order, awaiting async ones', async () => {
    manualSeed(5);
    const events: string[] = [];
    const cb: Callback = {
      setModel: () => void events.push('setModel'),
      onTrainBegin: async () => {
        await new Promise((r) => setTimeout(r, 1));
        events.push('trainBegin');
      },
      onEpochBegin: (e) => void events.push(`epochBegin ${e}`),
      onBatchBegin: (b) => void events.push(`batchBegin ${b}`),
      onBatchEnd: async (b, logs) => {
        await Promise.resolve();
        events.push(`batchEnd ${b} ${Number.isFinite(logs.loss)}`);
      },
      onEpochEnd: (e, logs) => void events.push(`epochEnd ${e} ${Object.keys(logs).join(',')}`),
      onTrainEnd: () => void events.push('trainEnd'),
    };
    const model = new Sequential([new Dense(1, { activation: 'sigmoid', inputShape: [2] })]);
    model.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    await model.fit(xorX, xorY, { epochs: 2, batchSize: 3, callbacks: [cb] });
    expect(events).toEqual([
      'setModel',
      'trainBegin',
      'epochBegin 0',
      'batchBegin 0',
      'batchEnd 0 true',
      'batchBegin 1',
      'batchEnd 1 true',
      'epochEnd 0 loss,accuracy',
      'epochBegin 1',
      'batchBegin 0',
      'batchEnd 0 true',
      'batchBegin 1',
      'batchEnd 1 true',
      'epochEnd 1 loss,accuracy',
      'trainEnd',
    ]);
  });

  it('stops when a callback sets model.stopTraining', async () => {
    const model = new Sequential([new Dense(1, { inputShape: [2] })]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    let batches = 0;
    const history = await model.fit(xorX, xorY, {
      epochs: 10,
      batchSize: 1,
      callbacks: [
        {
          onBatchEnd: (b) => {
            batches++;
            if (b === 1) model.stopTraining = true;
          },
        },
      ],
    });
    expect(batches).toBe(2);
    expect(history.loss).toHaveLength(1);
  });

  it('prints one line per epoch with verbose 1 and nothing with verbose 0', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const model = new Sequential([new Dense(1, { activation: 'sigmoid', inputShape: [2] })]);
      model.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
      await model.fit(xorX, xorY, { epochs: 2, verbose: 0 });
      expect(log).not.toHaveBeenCalled();
      await model.fit(xorX, xorY, { epochs: 2, verbose: 1, validationData: [xorX, xorY] });
      expect(log).toHaveBeenCalledTimes(2);
      expect(log.mock.calls[1][0]).toMatch(
        /^Epoch 2\/2 - \d+\.\d\ds - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}$/,
      );
    } finally {
      log.mockRestore();
    }
  });

  it("resumes with initialEpoch as Keras does: epochs is the last epoch's index, not a count", async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const train = async (parts: { epochs: number; initialEpoch?: number }[]) => {
        manualSeed(5);
        const { x, y } = blobs(8);
        const model = new Sequential([new Dense(3, { inputShape: [2] })]);
        model.compile({ optimizer: 'sgd', loss: 'crossEntropy' });
        const epochs: number[][] = [];
        for (const part of parts) epochs.push((await model.fit(x, y, { batchSize: 8, verbose: 1, ...part })).epoch);
        return { epochs, weight: Array.from(model.stateDict()['0.weight'].dataSync()) };
      };
      const whole = await train([{ epochs: 3 }]);
      log.mockClear();
      const resumed = await train([{ epochs: 1 }, { epochs: 3, initialEpoch: 1 }]);
      expect(resumed.epochs).toEqual([[0], [1, 2]]);
      expect(log.mock.calls.map((c) => String(c[0]).split(' - ')[0])).toEqual(['Epoch 1/1', 'Epoch 2/3', 'Epoch 3/3']);
      // The same two epochs as the last two of one three-epoch call: the same weights.
      expect(resumed.weight).toEqual(whole.weight);
      // Nothing left to train: no epoch.
      const done = await train([{ epochs: 2, initialEpoch: 2 }]);
      expect(done.epochs).toEqual([[]]);
    } finally {
      log.mockRestore();
    }
  });

  it('refuses to train before compile, and bad arguments', async () => {
    const model = new Sequential([new Dense(1, { inputShape: [2] })]);
    await expect(model.fit(xorX, xorY)).rejects.toThrow(/fit: call compile\(\{ optimizer, loss \}\) first/);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    await expect(model.fit(xorX, tensor([[1], [0]]))).rejects.toThrow(/fit: x \[4,2\] and y \[2,1\] have different numbers of samples/);
    await expect(model.fit(xorX, xorY, { batchSize: 0 })).rejects.toThrow(ArgumentError);
    await expect(model.fit(xorX, xorY, { validationSplit: 1.5 })).rejects.toThrow(/validationSplit/);
    expect(() => model.compile({ optimizer: 'lbfgs' as 'sgd', loss: 'mse' })).toThrow(/compile: unknown optimizer 'lbfgs'/);
    expect(() => model.compile({ optimizer: 'sgd', loss: 'hinge' })).toThrow(/unknown loss "hinge"/);
  });

  it('evaluates when compiled with a loss alone, and then refuses to train', async () => {
    const model = new Sequential([new Dense(1, { inputShape: [2] })]);
    await expect(model.evaluate(xorX, xorY)).rejects.toThrow(/^evaluate: call compile\(\{ loss \}\) first/);
    model.compile({ loss: (p: Tensor, t: Tensor) => p.sub(t).square().mean() });
    const before = Array.from(model.parameters()[0].dataSync());
    const r = await model.evaluate(xorX, xorY);
    expect(Number.isFinite(r.loss)).toBe(true);
    await expect(model.fit(xorX, xorY)).rejects.toThrow(
      /^fit: the model was compiled without an optimizer \(for evaluate alone\): call compile\(\{ optimizer, loss \}\) to train it/,
    );
    expect(Array.from(model.parameters()[0].dataSync())).toEqual(before);
  });

  it('refuses an optimizer created before a lazy model was built', async () => {
    const model = new Sequential([new Dense(2, { inputShape: [2] }), new Dense(1)]);
    model.compile({ optimizer: new SGD(model.parameters(), { lr: 0.1 }), loss: 'mse' });
    await expect(model.fit(xorX, xorY)).resolves.toBeDefined();
    const lazy = new Sequential([new Linear(2, 2), new Dense(1)]);
    lazy.compile({ optimizer: new SGD(lazy.parameters(), { lr: 0.1 }), loss: 'mse' });
    await expect(lazy.fit(xorX, xorY)).rejects.toThrow(/the optimizer was created before the model was built/);
  });
});

describe('option names and types', () => {
  function compiled(): Sequential {
    const model = new Sequential([new Dense(1, { inputShape: [2] })]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    return model;
  }

  it('fit refuses a misspelt or unsupported option instead of training with the default', async () => {
    const model = compiled();
    const w = Array.from(model.at(0).parameters()[0].dataSync());
    await expect(model.fit(xorX, xorY, { epoch: 3 } as never)).rejects.toThrow(
      /^fit: unknown option "epoch" \(did you mean 'epochs'\?\); the options are epochs, batchSize/,
    );
    await expect(model.fit(xorX, xorY, { classWeight: { 0: 1, 1: 2 } } as never)).rejects.toThrow(/^fit: classWeight is not supported/);
    await expect(model.fit(xorX, xorY, { sampleWeight: tensor([1, 1, 1, 1]) } as never)).rejects.toThrow(
      /^fit: sampleWeight is not supported/,
    );
    await expect(model.fit(xorX, xorY, { shuffle: 'no' } as never)).rejects.toThrow(/^fit: shuffle must be true or false, got "no"$/);
    await expect(model.fit(xorX, xorY, { verbose: 'x' } as never)).rejects.toThrow(/^fit: verbose must be 0, 1 or 2, got "x"$/);
    await expect(model.fit(xorX, xorY, { validationSplit: '0.5' } as never)).rejects.toThrow(/^fit: validationSplit must be a number/);
    await expect(model.fit(xorX, xorY, 'fast' as never)).rejects.toThrow(/^fit: options must be an object .*got "fast"$/);
    await expect(model.fit(xorX, xorY, [] as never)).rejects.toThrow(ArgumentError);
    // Nothing was trained by any of them.
    expect(Array.from(model.at(0).parameters()[0].dataSync())).toEqual(w);
  });

  it('fit, evaluate and predict take null or undefined as no options, and check option names', async () => {
    const model = compiled();
    expect((await model.fit(xorX, xorY, null as never)).loss).toHaveLength(1);
    expect((await model.fit(xorX, xorY, undefined)).loss).toHaveLength(1);
    expect(Object.keys(await model.evaluate(xorX, xorY, null as never))).toEqual(['loss']);
    expect(model.predict(xorX, null as never).shape).toEqual([4, 1]);
    await expect(model.evaluate(xorX, xorY, { batch_size: 2 } as never)).rejects.toThrow(
      /^evaluate: unknown option "batch_size" \(did you mean 'batchSize'\?\)/,
    );
    await expect(model.evaluate(xorX, xorY, 3 as never)).rejects.toThrow(/^evaluate: options must be an object/);
    expect(() => model.predict(xorX, { verbose: 0 } as never)).toThrow(/^predict: unknown option "verbose"; the options are batchSize$/);
    expect(() => model.predict(xorX, 'x' as never)).toThrow(/^predict: options must be an object/);
  });

  it('compile refuses an unknown key by name', () => {
    const model = new Sequential([new Dense(1, { inputShape: [2] })]);
    expect(() => model.compile({ optimizer: 'sgd', loss: 'mse', lr: 5 } as never)).toThrow(
      /^compile: unknown option "lr"; the options are optimizer, loss, metrics$/,
    );
    expect(() => model.compile({ optimizer: 'sgd', loss: 'mse', metric: ['mae'] } as never)).toThrow(/did you mean 'metrics'\?/);
    expect(model.compiled).toBe(null);
  });

  it('a loss function that returns no Tensor is named at fit and evaluate', async () => {
    const model = new Sequential([new Dense(1, { inputShape: [2] })]);
    const halfLoss = (() => 0.5) as unknown as (p: Tensor, t: Tensor) => Tensor;
    model.compile({ optimizer: 'sgd', loss: halfLoss });
    await expect(model.fit(xorX, xorY)).rejects.toThrow(/^fit: the loss halfLoss returned 0\.5, not a Tensor/);
    await expect(model.evaluate(xorX, xorY)).rejects.toThrow(/^evaluate: the loss halfLoss returned 0\.5, not a Tensor/);
    model.compile({ optimizer: 'sgd', loss: (() => undefined) as never });
    await expect(model.fit(xorX, xorY)).rejects.toThrow(/^fit: the loss \w+ returned undefined, not a Tensor/);
  });

  it('fit refuses a callback hook that is not a function before training', async () => {
    const model = compiled();
    const w = Array.from(model.at(0).parameters()[0].dataSync());
    await expect(model.fit(xorX, xorY, { callbacks: [{ onEpochEnd: 5 }] } as never)).rejects.toThrow(
      /^fit: callbacks\[0\]\.onEpochEnd must be a function, got 5$/,
    );
    await expect(model.fit(xorX, xorY, { callbacks: [{}, { setModel: 'm' }] } as never)).rejects.toThrow(
      /^fit: callbacks\[1\]\.setModel must be a function, got "m"$/,
    );
    await expect(model.fit(xorX, xorY, { callbacks: {} } as never)).rejects.toThrow(/^fit: callbacks must be an array/);
    expect(Array.from(model.at(0).parameters()[0].dataSync())).toEqual(w);
    // Hooks a class defines as methods are found through its prototype.
    class Counter implements Callback {
      epochs = 0;
      onEpochEnd(): void {
        this.epochs++;
      }
    }
    const counter = new Counter();
    await model.fit(xorX, xorY, { epochs: 2, callbacks: [counter] });
    expect(counter.epochs).toBe(2);
  });
});

describe('evaluate and predict', () => {
  it('run in eval mode without changing the mode, batch by batch', async () => {
    manualSeed(6);
    const model = new Sequential([new Dense(16, { activation: 'relu', inputShape: [3] }), new Dropout(0.5), new Dense(2)]);
    model.compile({ optimizer: 'sgd', loss: 'crossEntropy', metrics: ['accuracy'] });
    const x = randn([10, 3]);
    const a = model.predict(x, { batchSize: 3 });
    const b = model.predict(x);
    expect(a.shape).toEqual([10, 2]);
    expectClose(a, Array.from(b.dataSync()));
    expect(model.training).toBe(true);
    expect(a.requiresGrad).toBe(false);
    const y = tensor([0, 1, 0, 1, 0, 1, 0, 1, 0, 1], { dtype: 'int32' });
    const e1 = await model.evaluate(x, y, { batchSize: 4 });
    const e2 = await model.evaluate(x, y, { batchSize: 10 });
    expect(Object.keys(e1)).toEqual(['loss', 'accuracy']);
    expect(e1.loss).toBeCloseTo(e2.loss, 5);
    expect(e1.accuracy).toBe(e2.accuracy);
    expect(model.at(2).training).toBe(true);
  });
});

describe('predict releases what each batch made', () => {
  it('slices, activations and per-batch outputs are disposed; the result and the model are not', () => {
    const made: Tensor[] = [];
    class Doubling extends Dense {
      override forward(x: Tensor): Tensor {
        const h = super.forward(x);
        made.push(x, h);
        return h.mul(2);
      }
    }
    manualSeed(1);
    const model = new Sequential([new Doubling(3, { inputShape: [2] })]);
    const x = randn([10, 2]);
    for (const batchSize of [4, 32]) {
      made.length = 0;
      const out = model.predict(x, { batchSize });
      expect(out.shape).toEqual([10, 3]);
      expect(out.isDisposed).toBe(false);
      // With 10 rows in batches of 4: three slices of x and their activations; with 32, x itself (kept) and one activation.
      const temporaries = made.filter((t) => t !== x);
      expect(temporaries.length).toBe(batchSize === 4 ? 6 : 1);
      expect(temporaries.every((t) => t.isDisposed)).toBe(true);
      expect(x.isDisposed).toBe(false);
      expect(model.parameters().every((p) => !p.isDisposed)).toBe(true);
    }
  });
});
