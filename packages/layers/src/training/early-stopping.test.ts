import '@bp/losses';
import { SGD } from '@bp/optim';
import { tensor } from '@bp/tensor';
import { describe, expect, it, vi } from 'vitest';
import { Dense } from '../layers/dense.js';
import { Linear } from '../layers/linear.js';
import { Sequential } from '../sequential.js';
import { EarlyStopping } from './early-stopping.js';

/** Feeds `values` of the monitored quantity; returns the epoch at which the callback stopped (-1: never). */
function feed(es: EarlyStopping, values: number[], onEpoch?: (epoch: number) => void): number {
  const model = new Sequential([new Linear(1, 1)]);
  es.setModel(model);
  es.onTrainBegin();
  for (let epoch = 0; epoch < values.length; epoch++) {
    onEpoch?.(epoch);
    es.onEpochEnd(epoch, { loss: 0, val_loss: values[epoch], val_accuracy: values[epoch] });
    if (model.stopTraining) return epoch;
  }
  return -1;
}

describe('EarlyStopping', () => {
  it('stops after `patience` epochs without improvement', () => {
    expect(feed(new EarlyStopping({ patience: 2 }), [1, 0.8, 0.9, 0.85, 0.7])).toBe(3);
    expect(feed(new EarlyStopping({ patience: 0 }), [1, 1.1, 0.5])).toBe(1);
    expect(feed(new EarlyStopping({ patience: 2 }), [1, 0.9, 0.8, 0.7, 0.6])).toBe(-1);
  });

  it('never stops on an epoch that improves (as Keras), even with patience 0 or a baseline not yet beaten', () => {
    expect(feed(new EarlyStopping({ patience: 0 }), [1, 0.9, 0.8, 0.7])).toBe(-1);
    expect(feed(new EarlyStopping({ patience: 0 }), [1, 0.9, 0.95])).toBe(2);
    expect(feed(new EarlyStopping({ patience: 1, baseline: 0.5 }), [1, 0.9, 0.8, 0.7])).toBe(-1);
    // Above the baseline, the wait keeps counting: the first epoch that does not improve stops it.
    expect(feed(new EarlyStopping({ patience: 1, baseline: 0.5 }), [1, 0.9, 0.95])).toBe(2);
  });

  it('counts only improvements larger than minDelta', () => {
    expect(feed(new EarlyStopping({ patience: 1, minDelta: 0.05 }), [1, 0.97, 0.9])).toBe(1);
    expect(feed(new EarlyStopping({ patience: 1, minDelta: 0.05 }), [1, 0.9, 0.8, 0.7])).toBe(-1);
  });

  it('maximises accuracies in auto mode', () => {
    const es = new EarlyStopping({ monitor: 'valAccuracy', patience: 1 });
    expect(es.monitor).toBe('val_accuracy');
    expect(es.mode).toBe('max');
    expect(feed(es, [0.5, 0.6, 0.55, 0.7])).toBe(2);
    expect(es.best).toBe(0.6);
    expect(es.bestEpoch).toBe(1);
  });

  it('restores the weights of the best epoch', () => {
    const es = new EarlyStopping({ patience: 2, restoreBestWeights: true });
    const model = new Sequential([new Linear(1, 1)]);
    const w = model.at(0).parameters()[0];
    es.setModel(model);
    es.onTrainBegin();
    const losses = [3, 1, 2, 2.5];
    for (let epoch = 0; epoch < losses.length && !model.stopTraining; epoch++) {
      w.assign([10 * epoch]); // the weights "after" this epoch
      es.onEpochEnd(epoch, { val_loss: losses[epoch] });
    }
    expect(es.stoppedEpoch).toBe(3);
    expect(w.item()).toBe(10); // epoch 1 had the best loss
  });

  it('stops fit and keeps the best weights', async () => {
    const model = new Sequential([new Dense(1, { inputShape: [2] })]);
    // lr 0: the loss never changes, so nothing after the first epoch counts as an improvement.
    model.compile({ optimizer: new SGD(model.parameters(), { lr: 0 }), loss: 'mse' });
    const x = tensor([
      [0, 1],
      [1, 0],
    ]);
    const y = tensor([[1], [0]]);
    const es = new EarlyStopping({ monitor: 'loss', patience: 2 });
    const history = await model.fit(x, y, { epochs: 50, callbacks: [es] });
    expect(history.loss).toHaveLength(3);
    expect(es.stoppedEpoch).toBe(2);
  });

  it('warns and carries on when the monitored quantity is not logged', () => {
    const es = new EarlyStopping({ monitor: 'val_auc' });
    const warn = console.warn;
    const messages: string[] = [];
    console.warn = (m: string) => void messages.push(m);
    try {
      expect(feed(es, [1, 2, 3])).toBe(-1);
    } finally {
      console.warn = warn;
    }
    expect(messages[0]).toMatch(/EarlyStopping: 'val_auc' is not in the logs/);
  });

  it('counts a NaN as no improvement and stops, as Keras (a NaN is no missing key)', () => {
    const warn = console.warn;
    const messages: string[] = [];
    console.warn = (m: string) => void messages.push(m);
    try {
      expect(feed(new EarlyStopping({ patience: 2 }), [1, NaN, NaN, 0.5])).toBe(2);
      expect(feed(new EarlyStopping({ patience: 0 }), [1, NaN, 0.5])).toBe(1);
    } finally {
      console.warn = warn;
    }
    expect(messages).toEqual([]);
  });

  it('finds a monitored key by its own name before its snake case (a custom metric logged as myMetric)', () => {
    const es = new EarlyStopping({ monitor: 'myMetric', mode: 'max', patience: 0 });
    const model = new Sequential([new Linear(1, 1)]);
    es.setModel(model);
    es.onTrainBegin();
    es.onEpochEnd(0, { loss: 0, myMetric: 0.5 });
    es.onEpochEnd(1, { loss: 0, myMetric: 0.4 });
    expect(model.stopTraining).toBe(true);
    expect(es.best).toBe(0.5);
    // The documented camel-case spelling of a logged snake-case key still works.
    expect(feed(new EarlyStopping({ monitor: 'valLoss', patience: 0 }), [1, 1.1])).toBe(1);
  });

  it('refuses bad options', () => {
    expect(() => new EarlyStopping({ patience: -1 })).toThrow(/EarlyStopping: patience must be a non-negative integer/);
    expect(() => new EarlyStopping({ mode: 'up' as 'max' })).toThrow(/mode/);
  });

  it('refuses a monitor, baseline or flag of the wrong type, naming it', () => {
    for (const monitor of [5, {}, '', ['val_loss']]) {
      expect(() => new EarlyStopping({ monitor: monitor as never })).toThrow(
        /^EarlyStopping: monitor must be the name of a logged quantity/,
      );
    }
    for (const baseline of [NaN, Infinity, 'x', '0.5', {}]) {
      expect(() => new EarlyStopping({ baseline: baseline as never })).toThrow(/^EarlyStopping: baseline must be a finite number/);
    }
    // NaN printed as NaN (JSON would print null).
    expect(() => new EarlyStopping({ baseline: NaN })).toThrow(/baseline must be a finite number \(or undefined\), got NaN$/);
    expect(new EarlyStopping({ baseline: null as never }).baseline).toBe(null);
    expect(new EarlyStopping({ baseline: 0.5 }).baseline).toBe(0.5);
    expect(() => new EarlyStopping({ minDelta: '0.1' as never })).toThrow(/^EarlyStopping: minDelta must be a finite number, got "0\.1"$/);
    expect(() => new EarlyStopping({ restoreBestWeights: 'yes' as never })).toThrow(
      /^EarlyStopping: restoreBestWeights must be true or false, got "yes"$/,
    );
    expect(() => new EarlyStopping({ verbose: 1 as never })).toThrow(/^EarlyStopping: verbose must be true or false, got 1$/);
  });

  it('takes null as the defaults, and refuses options that are not an object', () => {
    const es = new EarlyStopping(null);
    expect([es.monitor, es.patience, es.mode, es.baseline, es.restoreBestWeights]).toEqual(['val_loss', 0, 'min', null, false]);
    expect(() => new EarlyStopping('val_loss' as never)).toThrow(/^EarlyStopping: options must be an object .*got "val_loss"$/);
    expect(() => new EarlyStopping(3 as never)).toThrow(/^EarlyStopping: options must be an object/);
  });

  it('treats missing logs as logs without the monitored key: a warning, no stop', () => {
    const es = new EarlyStopping({ patience: 0 });
    const model = new Sequential([new Linear(1, 1)]);
    es.setModel(model);
    es.onTrainBegin();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      es.onEpochEnd(0, null as never);
      es.onEpochEnd(1, undefined as never);
      expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
        "EarlyStopping: 'val_loss' is not in the logs (available: none); not stopping",
        "EarlyStopping: 'val_loss' is not in the logs (available: none); not stopping",
      ]);
    } finally {
      warn.mockRestore();
    }
    expect(model.stopTraining).toBe(false);
  });
});
