import { crossEntropyLoss, mseLoss } from '@bp/losses';
import { Adam, SGD } from '@bp/optim';
import { ArgumentError, ShapeError, getRandomState, manualSeed, randn, setRandomState, tensor, type Tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { Dropout } from '../layers/dropout.js';
import { Linear } from '../layers/linear.js';
import { ReLU } from '../layers/activations.js';
import { Sequential } from '../sequential.js';
import { NonFiniteLossError, type TrainEvent, type TrainPosition, inEvalMode, trainSteps } from './train-steps.js';

/** y = 2x with one weight and a bias, set to w = 0.5, b = 0. */
function line() {
  const model = new Sequential([new Linear(1, 1)]);
  const lin = model.layers[0] as Linear;
  lin.weight.assign(tensor([[0.5]]));
  lin.bias!.assign(tensor([0]));
  return { model, lin };
}

function summary(ev: TrainEvent): string {
  switch (ev.type) {
    case 'epochBegin':
      return `epochBegin ${ev.epoch} ${ev.startBatch}/${ev.batches}`;
    case 'batchBegin':
      return `batchBegin ${ev.epoch}.${ev.batch} (${ev.size})`;
    case 'batchEnd':
      return `batchEnd ${ev.epoch}.${ev.batch} (${ev.size})`;
    case 'epochEnd':
      return `epochEnd ${ev.epoch} ${ev.batches}${ev.complete ? '' : ' stopped'}`;
  }
}

describe('trainSteps', () => {
  it('runs one SGD step as derived by hand: loss 5.625, w 0.5 -> 1.25, b 0 -> 0.45', () => {
    const { model, lin } = line();
    const x = tensor([[1], [2]]);
    const y = tensor([[2], [4]]);
    // Errors -1.5 and -3: loss (2.25 + 9) / 2 = 5.625; dL/dw = (2*-1.5*1 + 2*-3*2) / 2 = -7.5; dL/db = (2*-1.5 + 2*-3) / 2 = -4.5.
    const events = [
      ...trainSteps(model, { loss: mseLoss, optimizer: new SGD(model.parameters(), { lr: 0.1 }), data: { x, y }, batchSize: 2, epochs: 1 }),
    ];
    const end = events.find((e) => e.type === 'batchEnd');
    expect(end?.type === 'batchEnd' && end.lossValue).toBe(5.625);
    expect(lin.weight.dataSync()[0]).toBeCloseTo(1.25, 6);
    expect(lin.bias!.dataSync()[0]).toBeCloseTo(0.45, 6);
  });

  it('yields epoch and batch events in order, the last batch holding the rest, and advances the position', () => {
    const { model } = line();
    const position: TrainPosition = { epoch: 0, step: 0, order: null };
    const seen: string[] = [];
    const positions: string[] = [];
    const data = { x: randn([5, 1]), y: randn([5, 1]) };
    for (const ev of trainSteps(
      model,
      { loss: mseLoss, optimizer: new SGD(model.parameters(), { lr: 0.01 }), data, batchSize: 2, epochs: 2 },
      position,
    )) {
      seen.push(summary(ev));
      if (ev.type === 'batchEnd' || ev.type === 'epochEnd')
        positions.push(`${position.epoch}:${position.step}:${position.order === null ? '-' : position.order.length}`);
    }
    expect(seen).toEqual([
      'epochBegin 0 0/3',
      'batchBegin 0.0 (2)',
      'batchEnd 0.0 (2)',
      'batchBegin 0.1 (2)',
      'batchEnd 0.1 (2)',
      'batchBegin 0.2 (1)',
      'batchEnd 0.2 (1)',
      'epochEnd 0 3',
      'epochBegin 1 0/3',
      'batchBegin 1.0 (2)',
      'batchEnd 1.0 (2)',
      'batchBegin 1.1 (2)',
      'batchEnd 1.1 (2)',
      'batchBegin 1.2 (1)',
      'batchEnd 1.2 (1)',
      'epochEnd 1 3',
    ]);
    expect(positions).toEqual(['0:1:5', '0:2:5', '0:3:5', '1:0:-', '1:1:5', '1:2:5', '1:3:5', '2:0:-']);
  });

  it('takes the samples in order without shuffling', () => {
    const { model } = line();
    const x = tensor([[1], [2], [3]]);
    const inputs: number[][] = [];
    for (const ev of trainSteps(model, {
      loss: mseLoss,
      optimizer: new SGD(model.parameters(), { lr: 0 }),
      data: { x, y: x },
      batchSize: 2,
      epochs: 1,
      shuffle: false,
    })) {
      if (ev.type === 'batchEnd') inputs.push(Array.from(ev.input.dataSync()));
    }
    expect(inputs).toEqual([[1, 2], [3]]);
  });

  it('continues from a saved position with the same weights, bit for bit, as a run never stopped', () => {
    const make = () => {
      const model = new Sequential([new Linear(4, 8), new ReLU(), new Dropout(0.3), new Linear(8, 3)]);
      return { model, optimizer: new Adam(model.parameters(), { lr: 0.01 }) };
    };
    manualSeed(7);
    const data = { x: randn([10, 4]), y: tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0], { dtype: 'int32' }) };
    const opts = { loss: crossEntropyLoss, data, batchSize: 3, epochs: 3 };

    manualSeed(11);
    const a = make();
    for (const _ of trainSteps(a.model, { ...opts, optimizer: a.optimizer }));

    manualSeed(11);
    const b = make();
    const position: TrainPosition = { epoch: 0, step: 0, order: null };
    for (const ev of trainSteps(b.model, { ...opts, optimizer: b.optimizer }, position)) {
      if (ev.type === 'batchEnd' && ev.epoch === 1 && ev.batch === 1) break;
    }
    expect([position.epoch, position.step, position.order?.length]).toEqual([1, 2, 10]);
    const saved = {
      position: { ...position, order: position.order!.slice() },
      model: b.model.stateDict(),
      optimizer: b.optimizer.stateDict(),
      random: getRandomState(),
    };
    manualSeed(999); // whatever ran in between
    const c = make();
    c.model.loadStateDict(saved.model);
    c.optimizer.loadStateDict(saved.optimizer);
    setRandomState(saved.random);
    let firstBatch = -1;
    for (const ev of trainSteps(c.model, { ...opts, optimizer: c.optimizer }, saved.position)) {
      if (ev.type === 'batchBegin' && firstBatch < 0) firstBatch = ev.batch;
    }
    expect(firstBatch).toBe(2);
    const wa = a.model.parameters().map((t) => Array.from(t.dataSync()));
    const wc = c.model.parameters().map((t) => Array.from(t.dataSync()));
    expect(wc).toEqual(wa);
  });

  it('validates in eval mode after every epoch, then trains in training mode again', () => {
    const model = new Sequential([new Linear(2, 2), new Dropout(0.5)]);
    const modes: string[] = [];
    const data = { x: randn([4, 2]), y: randn([4, 2]) };
    const events = [
      ...trainSteps(model, {
        loss: (o: Tensor, t: Tensor) => {
          modes.push(`step ${model.training} ${model.layers[1].training}`);
          return mseLoss(o, t);
        },
        optimizer: new SGD(model.parameters(), { lr: 0.01 }),
        data,
        batchSize: 4,
        epochs: 2,
        validate: () => {
          modes.push(`validate ${model.training} ${model.layers[1].training}`);
          return 42;
        },
      }),
    ];
    expect(modes).toEqual(['step true true', 'validate false false', 'step true true', 'validate false false']);
    const ends = events.filter((e) => e.type === 'epochEnd');
    expect(ends.map((e) => e.type === 'epochEnd' && e.validation)).toEqual([42, 42]);
    expect(model.training).toBe(true);
  });

  it('ends the epoch early, with its validation, when stop() turns true after a batch', () => {
    const { model } = line();
    let steps = 0;
    let validated = 0;
    const seen: string[] = [];
    const position: TrainPosition = { epoch: 0, step: 0, order: null };
    for (const ev of trainSteps(
      model,
      {
        loss: mseLoss,
        optimizer: new SGD(model.parameters(), { lr: 0.01 }),
        data: { x: randn([6, 1]), y: randn([6, 1]) },
        batchSize: 2,
        epochs: 5,
        validate: () => ++validated,
        stop: () => steps === 2,
      },
      position,
    )) {
      if (ev.type === 'batchEnd') steps++;
      seen.push(summary(ev));
    }
    expect(seen).toEqual([
      'epochBegin 0 0/3',
      'batchBegin 0.0 (2)',
      'batchEnd 0.0 (2)',
      'batchBegin 0.1 (2)',
      'batchEnd 0.1 (2)',
      'epochEnd 0 2 stopped',
    ]);
    expect(validated).toBe(1);
    expect([position.epoch, position.step, position.order]).toEqual([1, 0, null]);
  });

  it('stops at a non-finite loss before the update, naming op, epoch and step, with the given advice', () => {
    const { model, lin } = line();
    const x = tensor([[1], [Number.NaN], [2]]);
    const run = trainSteps(model, {
      loss: mseLoss,
      optimizer: new SGD(model.parameters(), { lr: 0.1 }),
      data: { x, y: x },
      batchSize: 1,
      epochs: 1,
      shuffle: false,
      op: 'train',
      nonFiniteAdvice: () => 'try --lr 0.01',
    });
    let err: unknown;
    try {
      for (const _ of run);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as Error).message).toBe('train: the loss is NaN at epoch 1, step 2; stopped before updating the weights. try --lr 0.01');
    // Step 1 (x = y = 1, w = 0.5: dL/dw = -1, dL/db = -1) moved the weights; the NaN step did not.
    expect(lin.weight.dataSync()[0]).toBeCloseTo(0.6, 6);
    expect(lin.bias!.dataSync()[0]).toBeCloseTo(0.1, 6);
  });

  it('trains on through a non-finite loss with terminateOnNaN: false', () => {
    const { model, lin } = line();
    const x = tensor([[Number.NaN]]);
    const losses: number[] = [];
    for (const ev of trainSteps(model, {
      loss: mseLoss,
      optimizer: new SGD(model.parameters(), { lr: 0.1 }),
      data: { x, y: x },
      batchSize: 1,
      epochs: 2,
      terminateOnNaN: false,
    })) {
      if (ev.type === 'batchEnd') losses.push(ev.lossValue);
    }
    expect(losses.map(Number.isNaN)).toEqual([true, true]);
    expect(Number.isNaN(lin.weight.dataSync()[0])).toBe(true);
  });

  it('refuses bad arguments when called, naming the op', () => {
    const { model } = line();
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    const data = { x: randn([4, 1]), y: randn([4, 1]) };
    const base = { loss: mseLoss, optimizer, data, batchSize: 2, epochs: 1 };
    expect(() => trainSteps(model, { ...base, batchSize: 0 })).toThrow(
      new ArgumentError('trainSteps', 'batchSize must be a positive integer, got 0'),
    );
    expect(() => trainSteps(model, { ...base, epochs: -1, op: 'fit' })).toThrow(/^fit: epochs must be a non-negative integer, got -1$/);
    expect(() => trainSteps(model, { ...base, data: { x: data.x, y: randn([3, 1]) } })).toThrow(ShapeError);
    expect(() => trainSteps(model, { ...base, data: { x: data.x, y: randn([3, 1]) } })).toThrow('x [4,1] and y [3,1]');
    expect(() => trainSteps(model, base, { epoch: 0, step: 1, order: Int32Array.from([0, 1]) })).toThrow(
      /position\.order must be null or an Int32Array of the 4 sample indices/,
    );
    expect(() => trainSteps(model, base, { epoch: 0.5, step: 0, order: null })).toThrow(
      /position\.epoch must be a non-negative integer, got 0\.5/,
    );
    expect(() => trainSteps(model, { ...base, terminateOnNaN: 1 as unknown as boolean })).toThrow(ArgumentError);
    expect(() => trainSteps(model, { ...base, terminateOnNaN: 1 as unknown as boolean })).toThrow(
      /^trainSteps: terminateOnNaN must be true or false, got 1$/,
    );
    // Truthiness would make 'no' shuffle.
    expect(() => trainSteps(model, { ...base, shuffle: 'no' as unknown as boolean })).toThrow(
      /^trainSteps: shuffle must be true or false, got "no"$/,
    );
    expect(() => trainSteps(model, { ...base, loss: mseLoss, data: { x: data.x, y: data.y } }).next()).not.toThrow();
    // A loss that is not one number per batch fails at its first step.
    const perSample = trainSteps(model, { ...base, loss: (o: Tensor, t: Tensor) => o.sub(t) });
    expect(() => [...perSample]).toThrow(/^trainSteps: the loss must be one number per batch, got \[2,1\]; use a mean reduction$/);
    // A loss that returns a number is refused by name, not met by a TypeError inside.
    const numeric = trainSteps(model, { ...base, loss: (() => 1) as unknown as typeof mseLoss, op: 'fit' });
    expect(() => [...numeric]).toThrow(/^fit: the loss function returned number, not a Tensor$/);
  });
});

describe('inEvalMode', () => {
  it("runs in eval mode and puts back each module's own mode, also after a throw", () => {
    const model = new Sequential([new Linear(2, 2), new Dropout(0.5)]);
    model.layers[1].eval();
    expect(inEvalMode(model, () => model.namedModules().map(([, m]) => m.training))).toEqual([false, false, false]);
    expect([model.training, model.layers[0].training, model.layers[1].training]).toEqual([true, true, false]);
    expect(() =>
      inEvalMode(model, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect([model.training, model.layers[0].training, model.layers[1].training]).toEqual([true, true, false]);
  });
});
