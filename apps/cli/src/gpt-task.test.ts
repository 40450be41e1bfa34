import '@bp/autograd';
import { GPT } from '@bp/layers';
import { LinearWarmupCosineLR, AdamW } from '@bp/optim';
import { manualSeed, tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { GPTRecipe, GPT_SIZE, buildGPT, loadNamesData, runTokenizer, sequenceLoss } from './gpt-task.js';
import { countCorrect } from './trainer.js';

describe('the names as windows', () => {
  it('cuts newline-ended names into windows whose labels are the next characters, reproducibly from the seed', () => {
    manualSeed(3);
    const a = loadNamesData();
    expect(a.classes).toEqual(['\n', ...'abcdefghijklmnopqrstuvwxyz']);
    expect(a.inputShape).toEqual([GPT_SIZE.blockSize]);
    const [n, T] = a.train.x.shape;
    expect(T).toBe(16);
    // About 8,400 names of about 7 characters each: 90% for training.
    expect(n).toBeGreaterThan(3000);
    expect(a.test.x.shape[0]).toBeGreaterThan(300);
    const x = a.train.x.dataSync();
    const y = a.train.y.dataSync();
    // Labels are the inputs shifted by one, across window boundaries too: the windows are consecutive.
    for (let i = 0; i < 5 * T - 1; i++) expect(y[i]).toBe(x[i + 1]);
    const text = Array.from(x.subarray(0, 64), (id) => a.classes[id]).join('');
    expect(
      text
        .split('\n')
        .slice(1, -1)
        .every((name) => /^[a-z]+$/.test(name)),
    ).toBe(true);
    manualSeed(3);
    expect(Array.from(loadNamesData().train.x.dataSync())).toEqual(Array.from(x));
    manualSeed(4);
    expect(Array.from(loadNamesData().train.x.dataSync().subarray(0, 64))).not.toEqual(Array.from(x.subarray(0, 64)));
  });
});

describe('the sequence loss and accuracy', () => {
  it('average over every position of every window', () => {
    // Two windows of two positions over 3 classes.
    const logits = tensor([
      [
        [2, 0, 0],
        [0, 1, 0],
      ],
      [
        [0, 0, 3],
        [1, 0, 0],
      ],
    ]);
    const labels = tensor(
      [
        [0, 2],
        [2, 1],
      ],
      { dtype: 'int32' },
    );
    const ln = Math.log;
    const ce = (z: number[], k: number) => -(z[k] - ln(z.reduce((s, v) => s + Math.exp(v), 0)));
    const expected = (ce([2, 0, 0], 0) + ce([0, 1, 0], 2) + ce([0, 0, 3], 2) + ce([1, 0, 0], 1)) / 4;
    expect(sequenceLoss(logits, labels).item()).toBeCloseTo(expected, 6);
    // Right at 2 of 4 positions: 1 window's worth out of 2.
    expect(countCorrect(logits, labels)).toBe(1);
  });
});

describe('GPTRecipe', () => {
  it('clips, steps AdamW with decay on matrices only, and follows warmup then cosine decay; its state dict resumes the schedule', () => {
    manualSeed(0);
    const model = buildGPT(5, [4]);
    expect(model).toBeInstanceOf(GPT);
    const opt = new GPTRecipe(model, 0.01, 200);
    expect(opt).toBeInstanceOf(AdamW);
    expect(opt.paramGroups.map((g) => g.weightDecay)).toEqual([0.1, 0]);
    const reference = new LinearWarmupCosineLR(new AdamW(model.parameters(), { lr: 0.01 }), {
      warmupSteps: 10,
      totalSteps: 200,
      etaMin: 0.001,
    });
    const rates: number[] = [];
    const x = tensor([[0, 1, 2, 3]], { dtype: 'int32' });
    const y = tensor([[1, 2, 3, 4]], { dtype: 'int32' });
    for (let s = 0; s < 12; s++) {
      rates.push(opt.lr);
      opt.zeroGrad();
      sequenceLoss(model.forward(x), y).backward();
      opt.step();
    }
    const expected = Array.from({ length: 12 }, (_, e) => reference.lrAt(e, 0.01));
    rates.forEach((r, i) => expect(r).toBeCloseTo(expected[i], 12));
    expect(rates[0]).toBeCloseTo(0.001, 12);
    expect(rates[10]).toBeCloseTo(0.01, 12);

    // A gradient of norm far above 1 reaches AdamW clipped to norm 1 (clipping scales the gradients in place).
    opt.zeroGrad();
    sequenceLoss(model.forward(x), y).mul(1e4).backward();
    const norm = () => Math.sqrt(model.parameters().reduce((t, p) => t + Array.from(p.grad!.dataSync()).reduce((a, v) => a + v * v, 0), 0));
    expect(norm()).toBeGreaterThan(10);
    const before = opt.stateDict();
    opt.step();
    expect(norm()).toBeCloseTo(1, 4);
    opt.loadStateDict(before);

    const saved = opt.stateDict();
    const again = new GPTRecipe(model, 0.01, 200);
    again.loadStateDict(saved);
    expect(again.schedule.lastEpoch).toBe(12);
    again.lr = 0.01; // what bp train does on resume: the same peak leaves the current rate as it was
    expect(again.lr).toBeCloseTo(opt.lr, 15);
    again.lr = 0.02; // a new --lr scales the schedule from here on
    expect(again.lr).toBeCloseTo(reference.lrAt(12, 0.02), 12);
    const { schedule: _, ...plain } = saved as typeof saved & { schedule: unknown };
    expect(() => again.loadStateDict(plain)).toThrow(/lacks its learning-rate schedule/);
  });
});

describe('runTokenizer', () => {
  it("takes the vocabulary from run.json, refusing one that cannot be the model's", () => {
    const chars = ['\n', 'a', 'b'];
    expect(runTokenizer(chars, 3, 'run.json').decode([1, 2, 0])).toBe('ab\n');
    expect(() => runTokenizer(chars, 4, 'run.json')).toThrow(/lists 3 characters, the model's vocabulary has 4/);
    expect(() => runTokenizer(['a', 'b'], 2, 'run.json')).toThrow(/lack the newline/);
    expect(() => runTokenizer(['ab', '\n'], 2, 'run.json')).toThrow(/distinct single characters/);
  });
});
