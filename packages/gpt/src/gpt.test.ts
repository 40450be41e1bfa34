import '@bp/autograd';
import { GPT } from '@bp/layers';
import { ArgumentError, manualSeed } from '@bp/tensor';
import { AdamW } from '@bp/optim';
import { describe, expect, it, vi } from 'vitest';
import { CharTokenizer, batchAt, evaluate, gptOptimizer, namesDataset, sampleBatch, textDataset, trainGPT } from './index.js';
import { loadNames } from './node.js';

describe('CharTokenizer', () => {
  it('sorts the characters of a text and round-trips', () => {
    const t = CharTokenizer.fromText('hello\nworld');
    expect(t.chars).toEqual(['\n', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(Array.from(t.encode('low\n'))).toEqual([4, 5, 7, 0]);
    expect(t.decode(t.encode('world'))).toBe('world');
  });
  it('names the character or id it cannot map', () => {
    const t = CharTokenizer.fromText('ab');
    expect(() => t.encode('abc')).toThrow(/character "c" at position 2 is not in the vocabulary of 2/);
    expect(() => t.decode([2])).toThrow(/id 2 is out of range/);
    expect(() => new CharTokenizer(['a', 'a'])).toThrow(/appears twice/);
  });
  it('refuses a text that is not a string and ids that are not an array', () => {
    const t = CharTokenizer.fromText('ab');
    expect(() => t.encode(5 as unknown as string)).toThrow(ArgumentError);
    expect(() => t.encode(5 as unknown as string)).toThrow(/CharTokenizer.encode: text must be a string, got number 5/);
    expect(() => CharTokenizer.fromText(5 as unknown as string)).toThrow(/CharTokenizer.fromText: text must be a string, got number 5/);
    expect(() => t.decode(null as unknown as number[])).toThrow(
      /CharTokenizer.decode: ids must be an array or Int32Array of token ids, got null/,
    );
    expect(() => t.decode([0.5])).toThrow(/id 0.5 is out of range/);
    expect(t.decode(Int32Array.from([1, 0]))).toBe('ba');
  });
});

describe('the names corpus', () => {
  it('loads the public-domain names offline: lowercase letters, unique, sorted', () => {
    const names = loadNames();
    expect(names.length).toBeGreaterThan(8000);
    expect(names).toContain('emma');
    expect(names).toContain('john');
    expect(names.every((n) => /^[a-z]+$/.test(n))).toBe(true);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual(names);
  });
  it('refuses a name that is empty or holds a newline (each name ends at one)', () => {
    expect(() => namesDataset(['', 'cd', 'ef'])).toThrow(/namesDataset: name 0 \(""\) must be a non-empty string without a newline/);
    expect(() => namesDataset(['ab', 'c\nd'])).toThrow(/name 1 \("c\\nd"\)/);
  });

  it('splits into newline-terminated streams, reproducibly from manualSeed', () => {
    const names = ['ann', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus', 'hal', 'ivy', 'jo'];
    manualSeed(1);
    const a = namesDataset(names, 0.2);
    manualSeed(1);
    const b = namesDataset(names, 0.2);
    expect(Array.from(a.train)).toEqual(Array.from(b.train));
    const text = a.tokenizer.decode(a.train) + a.tokenizer.decode(a.val);
    expect(text.split('\n').filter(Boolean).sort()).toEqual(names);
    expect(a.tokenizer.decode(a.val).split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('refuses a split that leaves no training (or validation) tokens', () => {
    expect(() => namesDataset(['ab', 'cd'], 0.99)).toThrow(ArgumentError);
    expect(() => namesDataset(['ab', 'cd'], 0.99)).toThrow(/namesDataset: valFraction 0.99 .*leaves no training tokens/);
    expect(() => textDataset('ab', 0.9)).toThrow(/textDataset: valFraction 0.9 of a text of 2 characters leaves no training tokens/);
    expect(() => textDataset('ab', 1e-17)).toThrow(/textDataset: .*leaves no validation tokens/);
    expect(textDataset('ab', 0.5).train).toHaveLength(1);
  });
});

describe('batches', () => {
  it('pairs each window with the next characters', () => {
    const data = Int32Array.from([0, 1, 2, 3, 4, 5, 6]);
    const b = batchAt(data, 3, [0, 3]);
    expect(b.x.toArray()).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(b.y.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(() => batchAt(data, 3, [4])).toThrow(/offset 4 leaves no room for 4 tokens in a stream of 7/);
    manualSeed(3);
    const s = sampleBatch(data, 3, 5);
    expect(s.offsets.every((o) => o >= 0 && o <= 3)).toBe(true);
  });

  it('refuses a bad blockSize, offsets or token stream, naming the function and the value', () => {
    const data = Int32Array.from([0, 1, 2, 3, 4, 5, 6]);
    expect(() => batchAt(data, -1, [0])).toThrow(ArgumentError);
    expect(() => batchAt(data, -1, [0])).toThrow(/batchAt: blockSize must be an integer >= 1, got number -1/);
    expect(() => batchAt(data, '2' as unknown as number, [0])).toThrow(/batchAt: blockSize must be an integer >= 1, got a string \("2"\)/);
    expect(() => batchAt(data, Number.NaN, [0])).toThrow(/batchAt: blockSize must be an integer >= 1, got number NaN/);
    expect(() => batchAt(data, 2, 3 as unknown as number[])).toThrow(/batchAt: offsets must be an array of integers, got number 3/);
    expect(() => batchAt(data, 2, [0.5])).toThrow(/batchAt: offset 0 must be an integer, got number 0.5/);
    expect(batchAt(data, 2, Int32Array.from([1]) as unknown as number[]).offsets).toEqual([1]);
    const bad: [string, unknown][] = [
      ['Array', [0, 1, 2, 3]],
      ['a string', 'abcd'],
      ['undefined', undefined],
      ['Float32Array', Float32Array.from([0, 1.5, 2, 3])],
    ];
    for (const [what, d] of bad) {
      const stream = d as Int32Array;
      const msg = new RegExp(`must be an Int32Array of token ids, got ${what}`);
      expect(() => batchAt(stream, 2, [0])).toThrow(msg);
      expect(() => sampleBatch(stream, 2, 1)).toThrow(/sampleBatch: data must be an Int32Array/);
    }
  });
});

describe('trainGPT', () => {
  it('learns a repeating text far below chance, with decay only on matrices', () => {
    manualSeed(0);
    const ds = textDataset('abcde'.repeat(60), 0.2);
    const model = new GPT({ vocabSize: ds.tokenizer.size, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16 });
    const opt = gptOptimizer(model, 1e-3);
    expect(opt.paramGroups.map((g) => g.weightDecay)).toEqual([0.1, 0]);
    expect(opt.paramGroups[0].params.every((p) => p.rank >= 2)).toBe(true);
    const before = evaluate(model, ds.val, 4);
    expect(before).toBeGreaterThan(1.4); // chance is ln 5 = 1.61
    const evals: number[] = [];
    const { losses, valLosses } = trainGPT(model, ds.train, ds.val, {
      steps: 40,
      batchSize: 8,
      lr: 1e-2,
      warmupSteps: 4,
      evalEvery: 20,
      evalBatches: 2,
      onEval: (e) => evals.push(e.valLoss),
    });
    expect(losses).toHaveLength(40);
    expect(valLosses.map(([s]) => s)).toEqual([20, 40]);
    expect(evals[1]).toBeLessThan(0.2);
  }, 60_000);

  it("releases its optimizer's moments when it returns, and when a step throws", () => {
    manualSeed(0);
    const ds = textDataset('abcde'.repeat(60), 0.2);
    const model = new GPT({ vocabSize: ds.tokenizer.size, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16 });
    const spy = vi.spyOn(AdamW.prototype, 'dispose');
    try {
      trainGPT(model, ds.train, null, { steps: 2, batchSize: 4, lr: 1e-3 });
      expect(spy).toHaveBeenCalledTimes(1);
      const stop = new Error('stop');
      expect(() =>
        trainGPT(model, ds.train, null, {
          steps: 3,
          batchSize: 4,
          lr: 1e-3,
          onStep: () => {
            throw stop;
          },
        }),
      ).toThrow(stop);
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses bad options before the first step, naming them', () => {
    manualSeed(0);
    const ds = textDataset('abcde'.repeat(60), 0.2);
    const model = new GPT({ vocabSize: ds.tokenizer.size, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16 });
    const base = { steps: 3, batchSize: 4, lr: 1e-3 };
    const run =
      (o: object, val: Int32Array | null = ds.val) =>
      () =>
        trainGPT(model, ds.train, val, { ...base, ...o });
    // These trained silently: clipping off (gradClip NaN), NaN validation losses (evalBatches NaN), a rising "decay".
    expect(run({ gradClip: Number.NaN })).toThrow(/trainGPT: gradClip must be a finite number >= 0 \(0 turns clipping off\), got NaN/);
    expect(run({ gradClip: -1 })).toThrow(/gradClip must be/);
    expect(run({ evalEvery: 1, evalBatches: Number.NaN })).toThrow(/trainGPT: evalBatches must be a positive integer, got NaN/);
    expect(run({ evalEvery: 2.5 })).toThrow(/evalEvery must be an integer >= 0/);
    expect(run({ minLr: 1 })).toThrow(/minLr must be a finite number from 0 to lr \(0.001\), got 1/);
    expect(run({ lr: undefined })).toThrow(/trainGPT: lr \(the peak learning rate\) must be a finite number > 0, got undefined/);
    expect(run({ batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
    // A validation stream with no full window fails at once, not after the steps before the first evaluation.
    let steps = 0;
    expect(run({ evalEvery: 2, onStep: () => steps++ }, Int32Array.from([1, 2, 3]))).toThrow(
      /validation stream of 3 tokens has no full window of 9/,
    );
    expect(steps).toBe(0);
    expect(() => evaluate(model, ds.val, 4, 0)).toThrow(/evaluate: maxBatches must be a positive integer, got 0/);
  });

  it('treats null options as absent and refuses streams that are not Int32Arrays', () => {
    const ds = textDataset('abcde'.repeat(60), 0.2);
    const model = new GPT({ vocabSize: ds.tokenizer.size, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16 });
    const opts = { steps: 1, batchSize: 2, lr: 1e-3 };
    expect(() => trainGPT(model, ds.train, null, null as unknown as typeof opts)).toThrow(
      /trainGPT: steps must be a positive integer, got undefined/,
    );
    expect(() => trainGPT(model, ds.train, null, 3 as unknown as typeof opts)).toThrow(/trainGPT: opts must be an options object/);
    expect(() => trainGPT(model, ds.train, null, { ...opts, step: 2 } as typeof opts)).toThrow(/unknown option "step"/);
    expect(() => trainGPT(model, Array.from(ds.train) as unknown as Int32Array, null, opts)).toThrow(
      /trainGPT: train must be an Int32Array of token ids, got Array/,
    );
    expect(() => trainGPT(model, ds.train, 'abc' as unknown as Int32Array, opts)).toThrow(/trainGPT: val must be an Int32Array/);
    expect(() => evaluate(model, undefined as unknown as Int32Array, 4)).toThrow(
      /evaluate: data must be an Int32Array of token ids, got undefined/,
    );
  });

  it('refuses callbacks that are not functions and token ids outside the vocabulary before any step changes the weights', () => {
    manualSeed(0);
    const ds = textDataset('abcde'.repeat(60), 0.2);
    const model = new GPT({ vocabSize: ds.tokenizer.size, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16 });
    const before = model.parameters().map((p) => Array.from(p.dataSync()));
    const opts = { steps: 2, batchSize: 2, lr: 1e-2 };
    expect(() => trainGPT(model, ds.train, null, { ...opts, onStep: 5 as never })).toThrow(ArgumentError);
    expect(() => trainGPT(model, ds.train, null, { ...opts, onStep: 5 as never })).toThrow(
      /^trainGPT: onStep must be a function, got number/,
    );
    expect(() => trainGPT(model, ds.train, ds.val, { ...opts, evalEvery: 1, onEval: 'x' as never })).toThrow(
      /^trainGPT: onEval must be a function, got string/,
    );
    // An id past the vocabulary deep in the stream: refused at once, not at the step whose window meets it.
    const train = ds.train.slice();
    train[train.length - 1] = 99;
    expect(() => trainGPT(model, train, null, opts)).toThrow(
      new RegExp(
        `^trainGPT: train holds token id 99 at position ${train.length - 1}, outside the model's vocabulary of 5 \\(ids 0 to 4\\)`,
      ),
    );
    const val = ds.val.slice();
    val[3] = -1;
    expect(() => trainGPT(model, ds.train, val, opts)).toThrow(/^trainGPT: val holds token id -1 at position 3/);
    expect(model.parameters().map((p) => Array.from(p.dataSync()))).toEqual(before);
  });
});
