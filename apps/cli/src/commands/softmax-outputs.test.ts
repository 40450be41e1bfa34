import '@bp/losses';
import '@bp/optim';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Dense, Flatten, Sequential, save } from '@bp/layers';
import { tensor, zeros } from '@bp/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, writeTinyMnist } from '../testing/run-cli.js';

const SLOW = 180_000;

/**
 * The docs' Keras MLP shape, saved as `save()` writes it: the last layer is a
 * Softmax (from `Dense(10, { activation: 'softmax' })`) and the training config
 * names 'sparseCategoricalCrossentropy'. Zero weights and a bias of 10 on
 * class 3 make it sure of class 3 for every image: p(3) = e^10 / (e^10 + 9).
 */
async function sureOfThree(): Promise<string> {
  const model = new Sequential([new Flatten({ inputShape: [1, 28, 28] }), new Dense(10, { activation: 'softmax' })]);
  const dense = model.layers[1] as Dense;
  dense.weight!.assign(zeros([10, 784]));
  dense.bias!.assign(tensor([0, 0, 0, 10, 0, 0, 0, 0, 0, 0]));
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const dir = await tempDir();
  await save(model, dir);
  return dir;
}

const P3 = Math.exp(10) / (Math.exp(10) + 9); // 0.99959
const P_OTHER = 1 / (Math.exp(10) + 9);

describe.concurrent('a saved model that ends in Softmax', () => {
  let data = '';
  let model = '';
  beforeAll(async () => {
    data = await writeTinyMnist(60, 60); // test labels (7i + 3) % 10: six of each class, image 0 is a 3
    model = await sureOfThree();
  }, SLOW);

  it(
    'bp predict shows its probabilities, not a softmax of them (0.23)',
    async () => {
      const r = await runCli(['predict', model, '--index', '0', '--dataset', 'mnist', '--data-dir', data, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout);
      expect(res.prediction).toBe('3');
      expect(res.top[0].probability).toBeCloseTo(P3, 5);
      expect(res.top[1].probability).toBeCloseTo(P_OTHER, 8);
    },
    SLOW,
  );

  it(
    'bp eval reports the cross-entropy of those probabilities',
    async () => {
      const r = await runCli(['eval', model, 'mnist', '--data-dir', data, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout);
      // Six test images are 3s (-ln P3 each), 54 are not (-ln P_OTHER each).
      const want = (6 * -Math.log(P3) + 54 * -Math.log(P_OTHER)) / 60;
      expect(res.outputs).toBe('probabilities');
      expect(res.loss).toBeCloseTo(want, 4);
      expect(res.accuracy).toBeCloseTo(0.1, 6);
      const plain = await runCli(['eval', model, 'mnist', '--data-dir', data]);
      expect(plain.stdout).toContain('the model outputs probabilities (from Softmax): bp takes them as they are, without a second softmax');
    },
    SLOW,
  );

  it(
    'bp train --model trains on its probabilities and says so',
    async () => {
      const file = join(await tempDir(), 'keras-mlp.json');
      await writeFile(
        file,
        JSON.stringify({
          type: 'Sequential',
          config: {
            layers: [
              { type: 'Flatten', config: {} },
              { type: 'Dense', config: { units: 16, inFeatures: 784, activation: 'relu' } },
              { type: 'Dense', config: { units: 10, inFeatures: 16, activation: 'softmax' } },
            ],
          },
        }),
      );
      const out = await tempDir();
      const r = await runCli([
        'train',
        'mnist',
        '--model',
        file,
        '--data-dir',
        data,
        '--epochs',
        '2',
        '--batch-size',
        '10',
        '--out',
        out,
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toContain('note: the model outputs probabilities (from Softmax)');
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const final = lines.at(-1)!;
      // The test loss is the cross-entropy of the saved model's probabilities: bp eval agrees.
      const e = JSON.parse((await runCli(['eval', out, 'mnist', '--data-dir', data, '--json'])).stdout);
      expect(e.loss).toBeCloseTo(final.test_loss as number, 5);
    },
    SLOW,
  );
});
