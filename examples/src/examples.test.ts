import { describe, expect, it } from 'vitest';
import { trainNamesGPT } from './gpt-names.js';
import { trainMnistCnn } from './mnist-cnn.js';
import { trainMnistMlp } from './mnist-mlp.js';
import { trainSpirals } from './pytorch-loop.js';
import { trainXor } from './xor-numpy-style.js';

describe('examples learn on small data', () => {
  it('xor-numpy-style: the 2-2-1 sigmoid network gets all four points right', () => {
    const { losses, outputs, accuracy } = trainXor();
    expect(accuracy).toBe(1);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] / 100);
    expect(outputs[0]).toBeLessThan(0.1);
    expect(outputs[1]).toBeGreaterThan(0.9);
  });

  it('pytorch-loop: zeroGrad/forward/backward/step separates three spirals', async () => {
    const { losses, accuracy } = await trainSpirals({ epochs: 30, limit: 300 });
    expect(losses).toHaveLength(30);
    expect(losses[29]).toBeLessThan(losses[0] / 3);
    // A linear classifier stays near 1/3 on spirals; learning the arms takes a hidden layer.
    expect(accuracy).toBeGreaterThan(0.85);
  });

  it('mnist-mlp: compile/fit/evaluate on 600 images', async () => {
    const r = await trainMnistMlp({ epochs: 3, limit: 600, testLimit: 300 });
    expect(r.losses).toHaveLength(3);
    expect(r.losses[2]).toBeLessThan(r.losses[0]);
    expect(r.accuracies[2]).toBeGreaterThan(r.accuracies[0]);
    expect(r.epochSeconds).toHaveLength(3);
    // Chance is 10%; 600 images are enough for ~80% test accuracy.
    expect(r.test.accuracy).toBeGreaterThan(0.7);
  });

  it('mnist-cnn: the convolutional network learns from 128 images', async () => {
    const r = await trainMnistCnn({ epochs: 2, limit: 128, testLimit: 100, batchSize: 16, lr: 3e-3 });
    expect(r.losses[1]).toBeLessThan(r.losses[0] - 0.5);
    // Sixteen steps of Adam take it from chance (10%) to about two thirds right.
    expect(r.testAccuracy[1]).toBeGreaterThan(0.5);
  });

  it('gpt-names: 40 steps of the character-level GPT lower the validation loss; samples are names', () => {
    const r = trainNamesGPT({ steps: 40, batchSize: 16, samples: 5 });
    // Uniform over 27 characters is ln 27 = 3.30; 40 steps reach about 2.6.
    expect(r.valBefore).toBeGreaterThan(3.2);
    expect(r.valAfter).toBeLessThan(2.8);
    expect(r.samples).toHaveLength(5);
    for (const n of r.samples) expect(n).toMatch(/^[a-z]*$/);
  }, 120_000);
});
