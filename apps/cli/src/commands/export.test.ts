import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeSafetensors, load } from '@bp/layers';
import { importOnnx } from '@bp/onnx';
import { rand, manualSeed } from '@bp/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, writeTinyMnist } from '../testing/run-cli.js';

const SLOW = 180_000;

describe('bp export', () => {
  let model = '';
  beforeAll(async () => {
    const data = await writeTinyMnist(100, 20);
    model = await tempDir();
    const r = await runCli([
      'train',
      'mnist',
      '--model',
      'cnn',
      '--data-dir',
      data,
      '--epochs',
      '1',
      '--batch-size',
      '20',
      '--out',
      model,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
  }, SLOW);

  it(
    '--format onnx writes <run>/model.onnx, which imports back to the same outputs',
    async () => {
      const r = await runCli(['export', model, '--format', 'onnx', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout);
      expect(res).toMatchObject({ format: 'onnx', output: join(model, 'model.onnx'), opset: 17, inputShape: ['batch', 1, 28, 28] });
      const bytes = await readFile(join(model, 'model.onnx'));
      expect(res.bytes).toBe(bytes.length);
      const original = (await load(model)).eval();
      const back = importOnnx(new Uint8Array(bytes));
      manualSeed(1);
      const x = rand([3, 1, 28, 28]);
      expect(Array.from(back.forward(x).dataSync())).toEqual(Array.from(original.forward(x).dataSync()));
    },
    SLOW,
  );

  it(
    '--format safetensors writes the state dict with int64 buffers and prints the PyTorch code that loads it',
    async () => {
      const out = join(await tempDir(), 'w.safetensors');
      const r = await runCli(['export', model, '--format', 'safetensors', '--output', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`wrote ${out}`);
      expect(r.stdout).toContain(
        'nn.Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), dilation=(1, 1), groups=1, bias=True),',
      );
      expect(r.stdout).toContain('nn.Linear(1568, 10, bias=True),');
      expect(r.stdout).toContain(`model.load_state_dict(load_file(${JSON.stringify(out)}))`);
      const { tensors, metadata } = decodeSafetensors(new Uint8Array(await readFile(out)), { source: out });
      expect(metadata).toMatchObject({ format: 'pt' });
      const sd = (await load(model)).stateDict();
      expect(Object.keys(tensors).sort()).toEqual(Object.keys(sd).sort());
      for (const k of Object.keys(sd)) expect(Array.from(tensors[k].dataSync())).toEqual(Array.from(sd[k].dataSync()));
    },
    SLOW,
  );

  it(
    'exits 2 on bad usage and 1 on a missing run',
    async () => {
      expect((await runCli(['export', model])).code).toBe(2);
      expect((await runCli(['export', model, '--format', 'pdf'])).code).toBe(2);
      const opset = await runCli(['export', model, '--format', 'onnx', '--opset', '9']);
      expect(opset.code).toBe(2);
      expect(opset.stderr).toContain('--opset must be 17 to 21, got 9');
      expect((await runCli(['export', model, '--format', 'safetensors', '--opset', '17'])).code).toBe(2);
      const missing = await runCli(['export', join(model, 'nothing-here'), '--format', 'onnx']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('nothing-here');
    },
    SLOW,
  );

  it(
    "never replaces a file it did not write: an existing --output needs --overwrite, the run's own files are refused",
    async () => {
      const dir = await tempDir();
      const notes = join(dir, 'notes.txt');
      await writeFile(notes, 'precious\n');
      const r = await runCli(['export', model, '--format', 'onnx', '--output', notes]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--output ${notes} exists; pass --overwrite to replace it`);
      expect(await readFile(notes, 'utf8')).toBe('precious\n');
      const own = await runCli(['export', model, '--format', 'safetensors', '--output', join(model, 'model.safetensors'), '--overwrite']);
      expect(own.code).toBe(2);
      expect(own.stderr).toContain("is the run's own model.safetensors");
      // Not through a symlink either: the run reached by a link, or --output in a linked folder.
      const weights = await readFile(join(model, 'model.safetensors'));
      const alias = join(dir, 'latest');
      await symlink(model, alias);
      for (const [run, output, file] of [
        [alias, join(model, 'model.safetensors'), 'model.safetensors'],
        [model, join(alias, 'model.json'), 'model.json'],
      ]) {
        const linked = await runCli(['export', run, '--format', 'onnx', '--output', output, '--overwrite']);
        expect(linked.code).toBe(2);
        expect(linked.stderr).toContain(`--output ${output} is the run's own ${file}`);
      }
      expect(await readFile(join(model, 'model.safetensors'))).toEqual(weights);
      const replaced = await runCli(['export', model, '--format', 'onnx', '--output', notes, '--overwrite']);
      expect(replaced.code, replaced.stderr).toBe(0);
      expect((await readFile(notes)).length).toBeGreaterThan(1000);
      // The default output in the run is bp's own export: written again without --overwrite.
      expect((await runCli(['export', model, '--format', 'onnx'])).code).toBe(0);
      expect((await runCli(['export', model, '--format', 'onnx'])).code).toBe(0);
      // A directory is never replaced, not even with --overwrite; it stays as it was.
      const folder = join(dir, 'exports');
      await mkdir(folder);
      await writeFile(join(folder, 'keep.txt'), 'kept\n');
      const intoDir = await runCli(['export', model, '--format', 'onnx', '--output', folder, '--overwrite']);
      expect(intoDir.code).toBe(2);
      expect(intoDir.stderr).toContain(`--output ${folder} is a directory; give a file path, e.g. --output ${join(folder, 'model.onnx')}`);
      expect(await readFile(join(folder, 'keep.txt'), 'utf8')).toBe('kept\n');
      const nowhere = await runCli(['export', model, '--format', 'onnx', '--output', join(dir, 'no-such-dir', 'x.onnx')]);
      expect(nowhere.code).toBe(1);
      expect(nowhere.stderr).toContain(
        `export: cannot write ${join(dir, 'no-such-dir', 'x.onnx')}: the directory ${join(dir, 'no-such-dir')} does not exist`,
      );
      // --resume takes the run's directory: a file there is named as such.
      const resumeFile = await runCli(['train', '--resume', notes]);
      expect(resumeFile.code).not.toBe(0);
      expect(resumeFile.stderr).toContain(`${notes}: not a directory: --resume takes a run's directory`);
    },
    SLOW,
  );
});
