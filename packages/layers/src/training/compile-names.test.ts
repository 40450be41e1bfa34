import '@bp/losses';
import '@bp/optim';
import { Adam } from '@bp/optim';
import { ArgumentError, NotAvailableError, ShapeError, tensor } from '@bp/tensor';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LogSoftmax, ReLU, Sigmoid, Softmax } from '../layers/activations.js';
import { Dense } from '../layers/dense.js';
import { Linear } from '../layers/linear.js';
import { Sequential } from '../sequential.js';
import { binaryAccuracy, categoricalAccuracy, getMetric, sparseCategoricalAccuracy } from './metrics.js';
import { outputKind } from './output-kind.js';
import { TRAINING_REGISTRY_KEY } from './registry.js';

const g = globalThis as unknown as Record<symbol, unknown>;

/** Runs `fn` as in an app that imported neither @bp/optim nor @bp/losses. */
function withoutProviders(fn: () => void): void {
  const saved = g[TRAINING_REGISTRY_KEY];
  delete g[TRAINING_REGISTRY_KEY];
  try {
    fn();
  } finally {
    g[TRAINING_REGISTRY_KEY] = saved;
  }
}

describe('compile by name', () => {
  it('says which import is missing when @bp/optim or @bp/losses was not imported', () => {
    withoutProviders(() => {
      const model = new Sequential([new Linear(2, 1)]);
      expect(() => model.compile({ optimizer: 'adam', loss: (p) => p.sum() })).toThrow(NotAvailableError);
      expect(() => model.compile({ optimizer: 'adam', loss: (p) => p.sum() })).toThrow(
        /compile: the optimizer 'adam' is created by @bp\/optim, which is not loaded: add `import '@bp\/optim'`/,
      );
      const sgd = { step() {}, zeroGrad() {} };
      expect(() => model.compile({ optimizer: sgd, loss: 'mse' })).toThrow(
        /compile: the loss 'mse' is provided by @bp\/losses, which is not loaded: add `import '@bp\/losses'`/,
      );
      // Objects and functions need no registry.
      expect(() => model.compile({ optimizer: sgd, loss: (p) => p.sum() })).not.toThrow();
    });
  });

  it("builds named optimizers with @bp/optim's Keras defaults", () => {
    const model = new Sequential([new Dense(1, { inputShape: [2] })]);
    model.compile({ optimizer: 'ADAM' as 'adam', loss: 'mse' });
    const opt = model.compiled!.optimizer as Adam;
    expect(opt).toBeInstanceOf(Adam);
    expect(opt.defaults).toMatchObject({ lr: 1e-3, eps: 1e-7 });
    expect(() => model.compile({ optimizer: 'lbfgs' as 'sgd', loss: 'mse' })).toThrow(
      /unknown optimizer 'lbfgs'; use sgd, adam, adamw, rmsprop, adagrad/,
    );
  });

  it("accepts Keras' loss names in any spelling", () => {
    const model = new Sequential([new Dense(2, { inputShape: [2] })]);
    const probs = tensor([
      [0.8, 0.2],
      [0.4, 0.6],
    ]);
    const labels = tensor([0, 1], { dtype: 'int32' });
    // -(ln 0.8 + ln 0.6) / 2
    const sparseCE = -(Math.log(0.8) + Math.log(0.6)) / 2;
    for (const name of ['sparse_categorical_crossentropy', 'SparseCategoricalCrossentropy', 'sparseCategoricalCrossentropy']) {
      model.compile({ optimizer: 'sgd', loss: name });
      expect(model.compiled!.loss(probs, labels).item()).toBeCloseTo(sparseCE, 6);
    }
    const oneHot = tensor([
      [1, 0],
      [0, 1],
    ]);
    model.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy' });
    expect(model.compiled!.loss(probs, oneHot).item()).toBeCloseTo(sparseCE, 6);
    // ((0.8-1)^2 + 0.2^2 + 0.4^2 + (0.6-1)^2) / 4 = 0.1
    for (const name of ['mean_squared_error', 'MeanSquaredError', 'MSE']) {
      model.compile({ optimizer: 'sgd', loss: name });
      expect(model.compiled!.loss(probs, oneHot).item()).toBeCloseTo(0.1, 6);
    }
    expect(() => model.compile({ optimizer: 'sgd', loss: 'hinge' })).toThrow(/compile: unknown loss "hinge"; valid names: mseLoss/);
    // A misspelling names the loss it resembles, as option errors do.
    expect(() => model.compile({ optimizer: 'sgd', loss: 'crossEntropyLos' })).toThrow(
      /^compile: unknown loss "crossEntropyLos" \(did you mean 'crossEntropyLoss'\?\); valid names: /,
    );
    expect(() => model.compile({ optimizer: 'adma' as 'adam', loss: 'mse' })).toThrow(
      /^compile: unknown optimizer 'adma' \(did you mean 'adam'\?\)/,
    );
  });
});

describe("Keras' metric names", () => {
  it('are found in snake case and camel case', () => {
    expect(getMetric('sparse_categorical_accuracy')).toBe(sparseCategoricalAccuracy);
    expect(getMetric('sparseCategoricalAccuracy')).toBe(sparseCategoricalAccuracy);
    expect(getMetric('categorical_accuracy')).toBe(categoricalAccuracy);
    expect(getMetric('binary_accuracy')).toBe(binaryAccuracy);
    expect(getMetric('acc').name).toBe('accuracy');
    expect(getMetric('mean_squared_error').name).toBe('mse');
    expect(getMetric('MeanAbsoluteError').name).toBe('mae');
  });

  const pred = tensor([
    [0.1, 0.7, 0.2],
    [0.5, 0.3, 0.2],
    [0.2, 0.2, 0.6],
    [0.3, 0.4, 0.3],
  ]); // arg-max 1, 0, 2, 1

  it('sparse_categorical_accuracy counts arg-max hits against class ids, int or float, [n] or [n, 1]', () => {
    expect(sparseCategoricalAccuracy.batchTotal(pred, tensor([1, 0, 1, 1], { dtype: 'int32' })).item()).toBe(3);
    expect(sparseCategoricalAccuracy.batchTotal(pred, tensor([[1], [2], [2], [0]])).item()).toBe(2);
    expect(() =>
      sparseCategoricalAccuracy.batchTotal(
        pred,
        tensor([
          [0, 1, 0],
          [1, 0, 0],
          [0, 0, 1],
          [0, 1, 0],
        ]),
      ),
    ).toThrow(/sparse_categorical_accuracy: needs one class id per row of scores .* for one-hot rows use 'categorical_accuracy'/);
  });

  it('categorical_accuracy counts arg-max hits against one-hot rows', () => {
    expect(
      categoricalAccuracy
        .batchTotal(
          pred,
          tensor([
            [0, 1, 0],
            [0, 0, 1],
            [0, 0, 1],
            [0, 1, 0],
          ]),
        )
        .item(),
    ).toBe(3);
    expect(() => categoricalAccuracy.batchTotal(pred, tensor([1, 0, 2, 1], { dtype: 'int32' }))).toThrow(ShapeError);
  });

  it('binary_accuracy thresholds every output at 0.5, averaged per sample', () => {
    const p = tensor([
      [0.9, 0.2],
      [0.6, 0.4],
      [0.1, 0.8],
    ]);
    const t = tensor([
      [1, 0],
      [0, 0],
      [1, 1],
    ]);
    // Sample hits: 2/2, 1/2, 1/2 -> summed over the batch: 1 + 0.5 + 0.5
    expect(binaryAccuracy.batchTotal(p, t).item()).toBeCloseTo(2, 6);
  });

  it('log under their Keras keys during fit', async () => {
    const model = new Sequential([new Dense(2, { inputShape: [2] }), new Softmax()]);
    model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', metrics: ['sparse_categorical_accuracy', 'acc'] });
    const history = await model.fit(
      tensor([
        [1, 0],
        [0, 1],
      ]),
      tensor([0, 1], { dtype: 'int32' }),
      { epochs: 1 },
    );
    expect(Object.keys(history.history).sort()).toEqual(['accuracy', 'loss', 'sparse_categorical_accuracy']);
    expect(history.get('sparseCategoricalAccuracy')).toEqual(history.accuracy);
  });
});

describe('a softmax applied twice', () => {
  afterEach(() => vi.restoreAllMocks());

  it('outputKind reads the last layer, inside nested Sequentials and Dense activations', () => {
    expect(outputKind(new Sequential([new Linear(2, 3), new Softmax()]))).toEqual({ kind: 'probabilities', layer: 'Softmax' });
    expect(outputKind(new Sequential([new Linear(2, 3), new Sequential([new ReLU(), new LogSoftmax()])])).kind).toBe('logProbabilities');
    expect(outputKind(new Sequential([new Linear(2, 1), new Sigmoid()])).kind).toBe('probabilities');
    expect(outputKind(new Sequential([new Linear(2, 3)]))).toEqual({ kind: 'logits', layer: 'Linear' });
    expect(outputKind(new Dense(3, { activation: 'softmax', inputShape: [2] })).kind).toBe('probabilities');
    // Inside a Sequential the activation becomes its own layer.
    expect(outputKind(new Sequential([new Dense(3, { activation: 'softmax', inputShape: [2] })])).layer).toBe('Softmax');
  });

  it('compile warns once when a final Softmax meets a from-logits loss', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const model = new Sequential([new Dense(2, { activation: 'softmax', inputShape: [2] })]);
    model.compile({ optimizer: 'sgd', loss: 'crossEntropy' });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(
      /the model ends in Softmax, and the loss 'crossEntropy' expects logits: it applies the softmax .* 'sparseCategoricalCrossentropy'/,
    );
    await model.fit(
      tensor([
        [1, 0],
        [0, 1],
      ]),
      tensor([0, 1], { dtype: 'int32' }),
      { epochs: 1 },
    );
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('names the function when the loss is passed as one, and fit warns when compile could not know', async () => {
    const { crossEntropyLoss } = await import('@bp/losses');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const model = new Sequential([new Linear(2, 2)]);
    model.compile({ optimizer: 'sgd', loss: crossEntropyLoss });
    expect(warn).not.toHaveBeenCalled();
    model.add(new Softmax());
    await model.fit(
      tensor([
        [1, 0],
        [0, 1],
      ]),
      tensor([0, 1], { dtype: 'int32' }),
      { epochs: 1 },
    );
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/ends in Softmax, and the loss crossEntropyLoss expects logits/);
  });

  it('stays quiet for matching pairs', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    new Sequential([new Linear(2, 2), new Softmax()]).compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    new Sequential([new Linear(2, 2)]).compile({ optimizer: 'sgd', loss: 'crossEntropy' });
    new Sequential([new Linear(2, 1), new Sigmoid()]).compile({ optimizer: 'sgd', loss: 'binaryCrossentropy' });
    new Sequential([new Linear(2, 2), new LogSoftmax()]).compile({ optimizer: 'sgd', loss: 'nll' });
    expect(warn).not.toHaveBeenCalled();
    new Sequential([new Linear(2, 1), new Sigmoid()]).compile({ optimizer: 'sgd', loss: 'bceWithLogits' });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(() => getMetric('f1')).toThrow(ArgumentError);
  });
});

describe('a saved training config', () => {
  it('is restored when @bp/optim and @bp/losses are loaded, and skipped (the model still predicts) when not', async () => {
    const { toMemory, fromMemory } = await import('../io/memory.js');
    const model = new Sequential([new Dense(2, { inputShape: [2] }), new Softmax()]);
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['acc'] });
    const artifacts = toMemory(model);
    const loaded = fromMemory(artifacts) as Sequential;
    expect(loaded.compiled?.lossName).toBe('sparse_categorical_crossentropy');
    expect(loaded.compiled?.lossInput).toBe('probabilities');
    withoutProviders(() => {
      const bare = fromMemory(artifacts) as Sequential;
      expect(bare.compiled).toBeNull();
      const x = tensor([[1, 2]]);
      expect(Array.from(bare.predict(x).dataSync())).toEqual(Array.from(model.predict(x).dataSync()));
    });
  });
});
