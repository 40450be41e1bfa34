import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { barImage, runCli, tempDir, writeTinyMnist } from '../testing/run-cli.js';

const SLOW = 180_000;

describe.concurrent('bp eval and bp predict on a model trained by bp train', () => {
  let data = '';
  let model = '';
  beforeAll(async () => {
    data = await writeTinyMnist(300, 60);
    model = await tempDir();
    const r = await runCli(['train', 'mnist', '--data-dir', data, '--epochs', '3', '--batch-size', '10', '--out', model, '--json']);
    expect(r.code, r.stderr).toBe(0);
  }, SLOW);

  it(
    'eval reports the test accuracy as JSON',
    async () => {
      const r = await runCli(['eval', model, 'mnist', '--data-dir', data, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout);
      expect(res).toMatchObject({ dataset: 'mnist', split: 'test', examples: 60 });
      expect(res.accuracy).toBeGreaterThan(0.9); // the bar images are easy
    },
    SLOW,
  );

  it(
    'predict --index draws the test image and the top 3 guesses, marking the label',
    async () => {
      const r = await runCli(['predict', model, '--index', '4', '--data-dir', data]);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.split('\n');
      expect(lines[0]).toBe('bp predict · mnist test image #4');
      expect(lines[1]).toBe('┌' + '─'.repeat(28) + '┐');
      expect(lines.filter((l) => l.startsWith('│'))).toHaveLength(14);
      expect(r.stdout).toMatch(/prediction \d {3}[✓✗] label \d/);
      expect(lines.filter((l) => /^\d {2}\s*\d+\.\d%/.test(l))).toHaveLength(3);
    },
    SLOW,
  );

  it(
    'predict reads a PNG (dark digit on white) and classifies it',
    async () => {
      // Test image class 5 as a PNG at twice the size, inverted as a drawing would be.
      const img = barImage(5, 0);
      const png = new PNG({ width: 56, height: 56 });
      for (let y = 0; y < 56; y++) {
        for (let x = 0; x < 56; x++) {
          const v = 255 - img[Math.floor(y / 2) * 28 + Math.floor(x / 2)];
          png.data.set([v, v, v, 255], 4 * (y * 56 + x));
        }
      }
      const path = join(await tempDir(), 'five.png');
      await writeFile(path, PNG.sync.write(png));
      const r = await runCli(['predict', model, path, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout);
      expect(res.top).toHaveLength(3);
      expect(res.top[0].probability).toBeGreaterThanOrEqual(res.top[1].probability);
      expect(res.label).toBeNull();
    },
    SLOW,
  );

  it(
    'predict needs an image or --index, and --index must be in range',
    async () => {
      const none = await runCli(['predict', model]);
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('give either an image file or --index N');
      const far = await runCli(['predict', model, '--index', '60', '--data-dir', data]);
      expect(far.code).toBe(2);
      expect(far.stderr).toContain('--index 60 is out of range: the mnist test split has 60 examples (0..59)');
    },
    SLOW,
  );
});
