import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@bp/losses';
import '@bp/optim';
import { ArgumentError, FormatError, manualSeed, randn, tensor, type Tensor } from '@bp/tensor';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fixtureMlp } from '../__fixtures__/mlp.js';
import { expectClose, refs, t } from '../__fixtures__/refs.js';
import { BatchNorm1d } from '../layers/batch-norm1d.js';
import { Conv2d } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import { Dropout } from '../layers/dropout.js';
import { Flatten } from '../layers/flatten.js';
import { MaxPool2d } from '../layers/max-pool2d.js';
import { ReLU } from '../layers/activations.js';
import { Sequential } from '../sequential.js';
import { layerFromConfig, layerToConfig, registerLayer } from './architecture.js';
import { Module } from '../module.js';
import { fromMemory, toMemory } from './memory.js';
import { load, save, writeFileAtomic } from './save.js';
import { decodeSafetensors } from './safetensors.js';

const root = mkdtempSync(join(tmpdir(), 'bp-layers-save-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => join(root, `m${counter++}`);

function cnn(): Sequential {
  return new Sequential([
    new Conv2d(1, 4, 3, { padding: 1 }),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Dense(16, { activation: 'relu' }),
    new BatchNorm1d(16),
    new Dropout(0.25),
    new Dense(10, { activation: 'softmax' }),
  ]);
}

describe('save and load', () => {
  it('round-trip a CNN: same layers, same state, identical predictions', async () => {
    manualSeed(21);
    const model = cnn();
    model.build([1, 8, 8]);
    // Move BatchNorm's running statistics away from their initial values.
    model.forward(randn([6, 1, 8, 8]));
    const dir = freshDir();
    await save(model, dir);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'model.safetensors']);
    const loaded = await load(dir);
    expect(loaded).toBeInstanceOf(Sequential);
    expect(loaded.layers.map((l) => l.layerType)).toEqual(model.layers.map((l) => l.layerType));
    const a = model.stateDict();
    const b = loaded.stateDict();
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const k of Object.keys(a)) expect(Array.from(b[k].dataSync())).toEqual(Array.from(a[k].dataSync()));
    const x = randn([5, 1, 8, 8]);
    expect(Array.from(loaded.predict(x).dataSync())).toEqual(Array.from(model.predict(x).dataSync()));
  });

  it('warns at save, and still saves, when a custom layer is not registered for load', async () => {
    class Scale extends Module {
      constructor(readonly factor: number) {
        super();
      }
      override forward(x: Tensor): Tensor {
        return x.mul(this.factor);
      }
      override get layerType(): string {
        return 'TestScale';
      }
      override getConfig(): Record<string, unknown> {
        return { factor: this.factor };
      }
    }
    const model = new Sequential([new Dense(2, { inputShape: [3] }), new Scale(3)]);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const dir = freshDir();
      await save(model, dir);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(
        /save: layers\[1\] is a custom layer 'TestScale'.*registerLayer\('TestScale', factory\)/,
      );
      expect(readdirSync(dir).sort()).toEqual(['model.json', 'model.safetensors']);
      await expect(load(dir)).rejects.toThrow(/unknown layer type 'TestScale'/);
      registerLayer('TestScale', (c) => new Scale(c.factor as number));
      warn.mockClear();
      await save(model, freshDir());
      expect(warn).not.toHaveBeenCalled();
      const loaded = await load(dir);
      const x = randn([4, 3]);
      expect(Array.from(loaded.predict(x).dataSync())).toEqual(Array.from(model.predict(x).dataSync()));
    } finally {
      warn.mockRestore();
    }
  });

  it('names the path when save gets a file and when load gets model.json instead of its directory', async () => {
    const model = new Sequential([new Dense(2, { inputShape: [3] })]);
    const file = join(root, `file${counter++}`);
    writeFileSync(file, 'keep me');
    await expect(save(model, file)).rejects.toThrow(/save: cannot create the directory .*file\d+: .*save takes a directory/);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    const dir = freshDir();
    await save(model, dir);
    await expect(load(join(dir, 'model.json'))).rejects.toThrow(/load takes the directory that save wrote, not model\.json itself/);
  });

  it('writes a readable model.json with the architecture and format version', async () => {
    const model = new Sequential([new Dense(3, { activation: 'tanh', inputShape: [2] }), new Dense(1)]);
    const dir = freshDir();
    await save(model, dir);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('bp-model');
    expect(json.formatVersion).toBe(1);
    expect(json.weights).toBe('model.safetensors');
    expect(json.model.type).toBe('Sequential');
    expect(json.model.config.layers.map((l: { type: string }) => l.type)).toEqual(['Dense', 'Tanh', 'Dense']);
    expect(json.model.config.layers[0].config).toEqual({ units: 3, inFeatures: 2, useBias: true, activation: null, inputShape: [2] });
  });

  it('restores compile settings given by name', async () => {
    const model = new Sequential([new Dense(2, { activation: 'softmax', inputShape: [2] })]);
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const dir = freshDir();
    await save(model, dir);
    const loaded = await load(dir);
    expect(loaded.compiled?.lossName).toBe('sparseCategoricalCrossentropy');
    const r = await loaded.evaluate(
      tensor([
        [1, 0],
        [0, 1],
      ]),
      tensor([0, 1], { dtype: 'int32' }),
    );
    expect(Object.keys(r)).toEqual(['loss', 'accuracy']);
  });

  it('replaces files atomically, leaving no temporary files', async () => {
    const dir = freshDir();
    manualSeed(1);
    const m1 = new Sequential([new Dense(2, { inputShape: [3] })]);
    const m2 = new Sequential([new Dense(2, { inputShape: [3] })]);
    await save(m1, dir);
    await save(m2, dir);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'model.safetensors']);
    const loaded = await load(dir);
    expect(Array.from(loaded.stateDict()['0.weight'].dataSync())).toEqual(Array.from(m2.stateDict()['0.weight'].dataSync()));
    await expect(writeFileAtomic(join(dir, 'missing', 'x.bin'), new Uint8Array(4))).rejects.toThrow();
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'model.safetensors']);
  });

  it('a full disk while writing model.json leaves the earlier save whole, weights included', async () => {
    const dir = freshDir();
    manualSeed(2);
    const before = new Sequential([new Dense(3, { inputShape: [2], activation: 'relu' }), new Dense(1)]);
    await save(before, dir);
    const weights = readFileSync(join(dir, 'model.safetensors'));
    const json = readFileSync(join(dir, 'model.json'));
    // The same weight shapes under another activation: its weights beside the old model.json would load without error.
    const after = new Sequential([new Dense(3, { inputShape: [2], activation: 'tanh' }), new Dense(1)]);
    const fsp = createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises');
    const open = fsp.open;
    fsp.open = (async (file: string, ...rest: []) => {
      const handle = await open(file, ...rest);
      if (String(file).includes('.model.json.')) {
        handle.writeFile = async () => {
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        };
      }
      return handle;
    }) as typeof fsp.open;
    syncBuiltinESMExports();
    try {
      await expect(save(after, dir)).rejects.toThrow(`save: cannot write ${join(dir, 'model.json')}: ENOSPC: no space left on device`);
    } finally {
      fsp.open = open;
      syncBuiltinESMExports();
    }
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'model.safetensors']);
    expect(Buffer.compare(readFileSync(join(dir, 'model.safetensors')), weights)).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, 'model.json')), json)).toBe(0);
    const x = tensor([[1, -2]]);
    expect(Array.from((await load(dir)).forward(x).dataSync())).toEqual(Array.from(before.forward(x).dataSync()));
  });

  it('refuses NaN or infinite weights before writing, keeping an earlier save intact', async () => {
    const dir = freshDir();
    const model = new Sequential([new Dense(2, { inputShape: [3] }), new BatchNorm1d(2)]);
    await save(model, dir);
    const before = { json: readFileSync(join(dir, 'model.json')), weights: readFileSync(join(dir, 'model.safetensors')) };
    const w = model.stateDict()['0.weight'];
    const good = Array.from(w.dataSync());
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      w.assign(
        tensor([
          [1, 2, 3],
          [4, bad, 6],
        ]),
      );
      await expect(save(model, dir)).rejects.toThrow(
        new RegExp(`^save: tensor '0\\.weight' holds ${bad} at index 4: .*; not saved, since load would refuse it$`),
      );
      expect(() => toMemory(model)).toThrow(new RegExp(`^toMemory: tensor '0\\.weight' holds ${bad} at index 4`));
    }
    // The same check load runs: a negative running variance is refused too.
    w.assign(
      tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    );
    model.stateDict()['1.running_var'].assign(tensor([1, -1]));
    await expect(save(model, dir)).rejects.toThrow(/^save: tensor '1\.running_var' holds -1 at index 1: a variance cannot be negative/);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'model.safetensors']);
    expect(readFileSync(join(dir, 'model.json'))).toEqual(before.json);
    expect(readFileSync(join(dir, 'model.safetensors'))).toEqual(before.weights);
    expect(Array.from((await load(dir)).stateDict()['0.weight'].dataSync())).toEqual(good);
  });

  it('refuses a directory in the place of a file it writes with an ArgumentError naming the path', async () => {
    const model = new Sequential([new Dense(2, { inputShape: [3] })]);
    // model.safetensors is a directory: it stays as it is, and no temporary file is left.
    const dir = freshDir();
    mkdirSync(join(dir, 'model.safetensors'), { recursive: true });
    writeFileSync(join(dir, 'model.safetensors', 'keep.txt'), 'mine');
    const err = await save(model, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as Error).message).toBe(`save: cannot write ${join(dir, 'model.safetensors')}: it is a directory; move or remove it`);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    expect(readFileSync(join(dir, 'model.safetensors', 'keep.txt'), 'utf8')).toBe('mine');
    // model.json is a directory: refused before the weights of an earlier save are replaced.
    const other = freshDir();
    await save(model, other);
    const weights = readFileSync(join(other, 'model.safetensors'));
    rmSync(join(other, 'model.json'));
    mkdirSync(join(other, 'model.json'));
    manualSeed(99);
    await expect(save(new Sequential([new Dense(2, { inputShape: [3] })]), other)).rejects.toThrow(
      /^save: cannot write .*model\.json: it is a directory/,
    );
    expect(readFileSync(join(other, 'model.safetensors'))).toEqual(weights);
    expect(readdirSync(other).sort()).toEqual(['model.json', 'model.safetensors']);
  });

  it('refuses corrupted or mismatched files with a FormatError', async () => {
    const model = new Sequential([new Dense(4, { inputShape: [3] }), new Dense(2)]);
    const dir = freshDir();
    await save(model, dir);
    const weightsPath = join(dir, 'model.safetensors');
    const jsonPath = join(dir, 'model.json');
    const weights = readFileSync(weightsPath);
    const json = readFileSync(jsonPath, 'utf8');

    writeFileSync(weightsPath, weights.subarray(0, weights.length - 4));
    await expect(load(dir)).rejects.toThrow(FormatError);
    await expect(load(dir)).rejects.toThrow(/model\.safetensors: .*(out of range|cover)/);

    writeFileSync(weightsPath, weights);
    writeFileSync(jsonPath, json.replace('"units": 2', '"units": 5'));
    await expect(load(dir)).rejects.toThrow(
      /model\.safetensors: tensor '1\.weight' has shape \[2,4\] but the model in model\.json needs \[5,4\]/,
    );

    writeFileSync(jsonPath, json.replace('"Dense"', '"Dense3D"'));
    await expect(load(dir)).rejects.toThrow(/model\.json: layers\[0\]: unknown layer type 'Dense3D'/);

    writeFileSync(jsonPath, json.replace('"formatVersion": 1', '"formatVersion": 9'));
    await expect(load(dir)).rejects.toThrow(/formatVersion 9 is not supported/);

    writeFileSync(jsonPath, '{"format": "bp-model",');
    await expect(load(dir)).rejects.toThrow(/model\.json: not valid JSON/);

    await expect(load(join(dir, 'nowhere'))).rejects.toThrow(/load: cannot read .*model\.json/);
  });

  it('toMemory/fromMemory give the same model without a file system', () => {
    manualSeed(3);
    const model = cnn();
    model.build([1, 6, 6]);
    const { modelJson, weights } = toMemory(model);
    expect(weights).toBeInstanceOf(Uint8Array);
    const copy = fromMemory({ modelJson: JSON.stringify(modelJson), weights });
    const x = randn([2, 1, 6, 6]);
    expect(Array.from(copy.predict(x).dataSync())).toEqual(Array.from(model.predict(x).dataSync()));
    const extra = decodeSafetensors(weights).tensors;
    expect(extra['6.num_batches_tracked'].dtype).toBe('int32');
  });
});

describe('PyTorch interoperability', () => {
  it('loads a state dict PyTorch wrote and reproduces its outputs', () => {
    const file = new Uint8Array(readFileSync(new URL('../__fixtures__/mlp.safetensors', import.meta.url)));
    const model = new Sequential(fixtureMlp().layers.map((l) => layerFromConfig(layerToConfig(l)))).eval();
    model.loadStateDict(decodeSafetensors(file).tensors);
    expectClose(model.forward(t(refs.mlp.x, refs.mlp.xShape)), refs.mlp.out, 1e-5, 1e-6);
  });

  const python = '/usr/bin/python3';

  it.skipIf(!existsSync(python))('PyTorch reads the file save() writes into the same torch model', async (ctx) => {
    const dir = freshDir();
    await save(fixtureMlp(), dir);
    const script = fileURLToPath(new URL('../../scripts/gen_torch_refs.py', import.meta.url));
    const run = spawnSync(python, [script, '--check', join(dir, 'model.safetensors')], { encoding: 'utf8', timeout: 60_000 });
    // Without PyTorch installed there is nothing to check against.
    if (/No module named 'torch'/.test(run.stderr)) ctx.skip();
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).maxAbsDiff).toBeLessThanOrEqual(1e-5);
  });
});
