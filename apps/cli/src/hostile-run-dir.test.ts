// Model folders from anyone, given to `bp eval` and `bp predict`: special files in place of
// model.json or the weights, non-finite or overflowing weights, escape sequences in class and
// layer names, a run.json missing what eval needs. Each ends at once with exit 1 and a clear
// message, and nothing from the files reaches the terminal raw.
import { execFileSync } from 'node:child_process';
import { cp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AdaptiveAvgPool2d, Conv2d, Flatten, Linear, Sequential, decodeSafetensors, encodeSafetensors, save } from '@bp/layers';
import { tensor } from '@bp/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, writeTinyMnist } from './testing/run-cli.js';

const SLOW = 120_000;
const ESC = '\u001b';
let template = '';

beforeAll(async () => {
  template = join(await tempDir(), 'run');
  const r = await runCli(['train', 'xor', '--epochs', '2', '--out', template]);
  expect(r.code, r.stderr).toBe(0);
}, SLOW);

/** A copy of the trained XOR run, edited by `edit(dir)`. */
async function edited(edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(await tempDir(), 'run');
  await cp(template, dir, { recursive: true });
  await edit(dir);
  return dir;
}

/** Rewrites one tensor of the model's weights. */
async function setWeight(dir: string, name: string, values: number[]): Promise<void> {
  const file = join(dir, 'model.safetensors');
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(await readFile(file)));
  tensors[name] = tensor(values, { shape: tensors[name].shape });
  await writeFile(file, encodeSafetensors(tensors, { metadata }));
}

describe('hostile model folders', () => {
  it(
    'weights linked to /dev/zero, a FIFO as model.json: refused at once with exit 1',
    async () => {
      const zero = await edited(async (d) => {
        await rm(join(d, 'model.safetensors'));
        await symlink('/dev/zero', join(d, 'model.safetensors'));
      });
      const t0 = Date.now();
      const a = await runCli(['eval', zero, 'xor']);
      expect(a.code).toBe(1);
      expect(a.stderr).toContain('model.safetensors: is a device, not a regular weights file');
      const fifo = await edited(async (d) => {
        await rm(join(d, 'model.json'));
        execFileSync('mkfifo', [join(d, 'model.json')]);
      });
      const b = await runCli(['eval', fifo, 'xor']);
      expect(b.code).toBe(1);
      expect(b.stderr).toContain('model.json: is a named pipe (FIFO), not a regular model.json');
      expect(Date.now() - t0).toBeLessThan(60_000);
    },
    SLOW,
  );

  it(
    'a NaN bias is refused by name; weights whose outputs overflow give exit 1, never a NaN result with exit 0',
    async () => {
      const nan = await edited((d) => setWeight(d, '2.bias', [Number.NaN, 0]));
      const a = await runCli(['eval', nan, 'xor']);
      expect(a.code).toBe(1);
      expect(a.stderr).toMatch(/tensor '2\.bias' holds NaN at index 0/);
      const p = await runCli(['predict', nan, '--index', '0']);
      expect(p.code).toBe(1);
      expect(p.stdout).not.toContain('NaN%');
      const huge = await edited((d) => setWeight(d, '2.bias', [3e38, -3e38]));
      const b = await runCli(['eval', huge, 'xor', '--json']);
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(/the loss of the model in .* on xor is (NaN|Infinity): its outputs overflow/);
      // No result on stdout: only the failure, as JSON (--json).
      expect(JSON.parse(b.stdout)).toMatchObject({ exitCode: 1, error: expect.stringMatching(/outputs overflow/) });
    },
    SLOW,
  );

  it(
    'escape sequences in class names and layer types are shown escaped, never sent to the terminal',
    async () => {
      const payload = `${ESC}[2J${ESC}[Hall good\u009b31m`;
      const classes = await edited(async (d) => {
        const run = JSON.parse(await readFile(join(d, 'run.json'), 'utf8'));
        run.classes = [payload, 'one'];
        await writeFile(join(d, 'run.json'), JSON.stringify(run));
      });
      for (const args of [
        ['predict', classes, '--index', '0'],
        ['predict', classes, '--index', '0', '--json'],
      ]) {
        const r = await runCli(args);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout + r.stderr).not.toMatch(/[\u001b\u009b]/);
      }
      expect((await runCli(['predict', classes, '--index', '1'])).stdout).toContain('\\u001b[2J\\u001b[Hall good\\u009b31m');
      const layer = await edited(async (d) => {
        const json = JSON.parse(await readFile(join(d, 'model.json'), 'utf8'));
        json.model.config.layers[0].type = payload;
        await writeFile(join(d, 'model.json'), JSON.stringify(json));
      });
      const r = await runCli(['eval', layer, 'xor']);
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(/[\u001b\u009b]/);
      expect(r.stderr).toContain("unknown layer type '\\u001b[2J\\u001b[Hall good\\u009b31m'");
    },
    SLOW,
  );

  it(
    'a run.json without inputShape, or with classes that are not names, is refused naming the entry',
    async () => {
      for (const [change, message] of [
        [(run: Record<string, unknown>) => delete run.inputShape, 'inputShape must be a list of 1 to 4 positive sizes'],
        [(run: Record<string, unknown>) => (run.classes = [1, 2]), 'classes must be a non-empty list of class names'],
        [(run: Record<string, unknown>) => (run.settings = { dataset: 'constructor' }), 'settings.dataset must be one of'],
      ] as const) {
        const dir = await edited(async (d) => {
          const run = JSON.parse(await readFile(join(d, 'run.json'), 'utf8'));
          change(run);
          await writeFile(join(d, 'run.json'), JSON.stringify(run));
        });
        const r = await runCli(['eval', dir, 'xor']);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`${join(dir, 'run.json')}: ${message}`);
        expect(r.stderr).not.toContain('TypeError');
      }
    },
    SLOW,
  );

  it(
    'a model whose activations for a batch are too large for one array: exit 1 naming the model and --batch-size, not a bare RangeError',
    async () => {
      // 40 channels of 1028x1028 per example: within what loading allows, but 256 examples are 10^10 values.
      const dir = join(await tempDir(), 'wide');
      const model = new Sequential([new Conv2d(1, 40, 1, { padding: 500 }), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(40, 10)]);
      model.build([1, 28, 28]);
      await save(model, dir);
      const settings = { dataset: 'mnist', model: 'mlp', epochs: 1, batchSize: 32, lr: 0.001, optimizer: 'adam', loss: 'cross-entropy' };
      await writeFile(
        join(dir, 'run.json'),
        JSON.stringify({
          settings: { ...settings, backend: 'cpu', seed: 1, limit: null, validationSplit: 0.1, dataDir: null },
          classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
          inputShape: [1, 28, 28],
        }),
      );
      const data = await writeTinyMnist(10, 300);
      const r = await runCli(['eval', dir, 'mnist', '--data-dir', data]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^error: eval: the model in ${dir} needs more memory than this process can allocate for a batch of 256 examples \\(.*\\); try a smaller --batch-size\n`,
        ),
      );
    },
    SLOW,
  );
});
