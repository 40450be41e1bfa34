import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { closestChoice, DATASETS, OPTIMIZERS } from './choices.js';
import { runCli, tempDir, writeTinyMnist } from './testing/run-cli.js';

const SLOW = 120_000;

describe('closestChoice', () => {
  it('finds a likely typo, and nothing for an unrelated word', () => {
    expect(closestChoice('mnst', DATASETS)).toBe('mnist');
    expect(closestChoice('fashion_mnist', DATASETS)).toBe('fashion-mnist');
    expect(closestChoice('MNIST', DATASETS)).toBe('mnist');
    expect(closestChoice('sprials', DATASETS)).toBe('spirals'); // two letters swapped
    expect(closestChoice('adm', OPTIMIZERS)).toBe('adam');
    expect(closestChoice('cifar', DATASETS)).toBeNull();
    expect(closestChoice('lbfgs', OPTIMIZERS)).toBeNull();
  });
});

describe.concurrent('bp: the small rough edges', () => {
  it('a misspelt dataset or choice gets a "did you mean"', async () => {
    const r = await runCli(['train', 'mnst']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "'mnst' is invalid for argument 'dataset'. Allowed choices are xor, spirals, moons, mnist, fashion-mnist, names. Did you mean mnist?",
    );
    const o = await runCli(['train', 'xor', '--optimizer', 'adm']);
    expect(o.stderr).toContain('Allowed choices are sgd, adam, adamw, rmsprop. Did you mean adam?');
    const far = await runCli(['train', 'cifar']);
    expect(far.stderr).not.toContain('Did you mean');
  });

  it('messages start a sentence with a capital after a full stop', async () => {
    for (const args of [
      ['train', 'xor', '--epochs', 'x'],
      ['train', 'xor', '--lr', '-1'],
      ['train', 'xor', '--seed', '1.5'],
      ['train', 'xor', '--validation-split', '2'],
    ]) {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/is invalid\. Expected /);
      expect(r.stderr).not.toMatch(/\. [a-z]/);
    }
  });

  it('a --data-dir without the files names the flag and every missing file of both splits', async () => {
    const empty = await tempDir();
    const r = await runCli(['train', 'mnist', '--data-dir', empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `--data-dir: ${empty} lacks the MNIST files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each raw or .gz)`,
    );
    expect(r.stderr).not.toContain('the dir option');
  });

  it(
    'bp eval refuses a dataset with another number of classes than the model has outputs',
    async () => {
      const run = join(await tempDir(), 'spirals');
      const t = await runCli(['train', 'spirals', '--epochs', '1', '--limit', '30', '--out', run, '--json']);
      expect(t.code, t.stderr).toBe(0);
      // moons has 2 classes, as many inputs as spirals: the scores would have been against the wrong labels.
      const r = await runCli(['eval', run, 'moons']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `eval: the model in ${run} gives outputs [3] per example (it was trained on spirals), but moons needs one score per class (2 classes)`,
      );
      expect(r.stdout).toBe('');
      expect((await runCli(['eval', run, 'spirals'])).code).toBe(0);
    },
    SLOW,
  );

  it('every command has an Examples section in --help', async () => {
    for (const cmd of ['train', 'eval', 'predict', 'explain', 'bench', 'info']) {
      const r = await runCli([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout, cmd).toMatch(new RegExp(`\\nExamples:\\n  \\$ bp ${cmd}`));
    }
  });

  it('bp info keeps the headless-gl reason whole', async () => {
    const r = await runCli(['info']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/Tried:?\)/);
  });

  describe('bp predict', () => {
    let run = '';
    beforeAll(async () => {
      run = await tempDir();
      const r = await runCli(['train', 'xor', '--epochs', '20', '--out', run, '--json']);
      expect(r.code, r.stderr).toBe(0);
    }, SLOW);

    it(
      'on a run of a 2-d dataset names a point and its coordinates, not an image',
      async () => {
        const r = await runCli(['predict', run, '--index', '2']);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.split('\n')[0]).toBe('bp predict · xor test point #2 (1, 0)');
      },
      SLOW,
    );

    it(
      'bp eval needs only the test split of a --data-dir, and calls a directory that is not there so',
      async () => {
        const dir = await tempDir();
        await writeFile(join(dir, 't10k-images-idx3-ubyte.gz'), '');
        const r = await runCli(['eval', run, 'fashion-mnist', '--data-dir', dir]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(
          `--data-dir: ${dir} lacks the Fashion-MNIST files t10k-labels-idx1-ubyte (each raw or .gz). Put them there, or leave --data-dir out to use BP_DATA_DIR.`,
        );
        const gone = await runCli(['eval', run, 'mnist', '--data-dir', join(dir, 'nope')]);
        expect(gone.stderr).toContain(
          `--data-dir: ${join(dir, 'nope')} does not exist; it should hold the MNIST files t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte`,
        );
      },
      SLOW,
    );

    it(
      'a missing PNG, or a directory in its place, is named in words',
      async () => {
        const dir = await tempDir();
        const missing = await runCli(['predict', run, join(dir, 'seven.png')]);
        expect(missing.code).toBe(1);
        expect(missing.stderr).toContain(`${join(dir, 'seven.png')}: not found: no such image file`);
        expect(missing.stderr).not.toContain('ENOENT');
        await mkdir(join(dir, 'digit.png'));
        const isDir = await runCli(['predict', run, join(dir, 'digit.png')]);
        expect(isDir.stderr).toContain(`${join(dir, 'digit.png')}: is a directory, not a regular PNG image`);
        expect(isDir.stderr).not.toContain('EISDIR');
      },
      SLOW,
    );
  });
});

describe('MNIST files that hold no examples', () => {
  it(
    'are refused before training starts, naming the files, not reported later as a NaN loss',
    async () => {
      for (const [nTrain, nTest, split] of [
        [20, 0, 't10k'],
        [0, 20, 'train'],
      ] as const) {
        const data = await writeTinyMnist(nTrain, nTest);
        const out = join(await tempDir(), 'run');
        const r = await runCli(['train', 'mnist', '--data-dir', data, '--epochs', '1', '--out', out]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(
          `error: --data-dir: the MNIST ${split === 't10k' ? 'test' : 'train'} files ${split}-images-idx3-ubyte and ${split}-labels-idx1-ubyte in ${data} hold no examples; bp needs at least one`,
        );
        expect(r.stderr).not.toContain('NaN');
        expect(existsSync(out)).toBe(false);
      }
    },
    SLOW,
  );
});
