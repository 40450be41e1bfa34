// The PyTorch round trip: the weights `bp export --format safetensors` writes load into the
// nn.Sequential it prints with identical outputs, and weights trained further in PyTorch load
// back into bp with identical outputs. The PyTorch side is scripts/torch_roundtrip.py, run with
// the system Python (BP_PYTHON overrides it); where that Python has no torch, the suite is
// skipped with a message saying so (CI installs Debian's python3-torch).
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMnist } from '@bp/datasets';
import { AvgPool2d, Conv2d, Flatten, GELU, GPT, Linear, MaxPool2d, Sequential, SiLU, decodeSafetensors } from '@bp/layers';
import { type Tensor, manualSeed, randint } from '@bp/tensor';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { pytorchWeights } from './commands/export.js';
import { buildModel } from './models.js';
import { torchModelCode } from './torch-code.js';

const PYTHON = process.env.BP_PYTHON ?? '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'scripts', 'torch_roundtrip.py');
const TOLERANCE = 1e-5;

const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
const torchVersion = probe.status === 0 ? probe.stdout.trim() : null;
if (!torchVersion) {
  console.warn(
    `skipped: PyTorch round trip: ${PYTHON} cannot import torch (on Debian: apt-get install python3-torch libopenblas0-pthread)`,
  );
}

/** Test data: real inputs and the class ids the PyTorch side trains on. */
interface Batch {
  x: Tensor;
  y: Tensor;
}

/** One model of the round trip. Adding a model is adding one of these. */
interface RoundTripCase {
  name: string;
  /** The bp model, freshly initialized. */
  build(): Promise<Sequential>;
  /** Inputs for it and targets shaped like its output less the last (class) axis. */
  batch(): Promise<Batch>;
  /** Python defining `model`, the PyTorch equivalent; by default what `bp export` prints. */
  torchCode?(model: Sequential): string;
  /** SGD steps and learning rate for the PyTorch training. */
  steps: number;
  lr: number;
}

let mnist: Batch | null = null;
async function mnistBatch(): Promise<Batch> {
  if (!mnist) {
    const test = await loadMnist({ split: 'test' });
    mnist = { x: test.images.slice([0, 0, 0, 0], [64, 1, 28, 28]), y: test.labels.slice([0], [64]) };
  }
  return mnist;
}

/** The GPT's configuration in the round trip (small, untied, as `bp train names --model gpt` shapes it). */
const GPT_CONFIG = { vocabSize: 28, blockSize: 16, nLayer: 2, nHead: 4, nEmbd: 32, dropout: 0, bias: true, tieWeights: false };

/**
 * The PyTorch GPT of the benchmark twin (bench/src/gpt_twin.py: its Mlp, Block and GPT classes,
 * read from that file so there is one definition), wrapped as bp wraps its GPT here.
 */
function torchGptCode(): string {
  const twin = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'src', 'gpt_twin.py'), 'utf8');
  const start = twin.indexOf('class Mlp(nn.Module):');
  const end = twin.indexOf('\ndef ', twin.indexOf('class GPT(nn.Module):'));
  return `import json\n${twin.slice(start, end)}\nmodel = nn.Sequential(GPT(json.loads(${JSON.stringify(JSON.stringify(GPT_CONFIG))})))\n`;
}

const CASES: RoundTripCase[] = [
  { name: 'MNIST MLP (bp train mnist)', build: () => buildModel('mlp', 'mnist', [1, 28, 28], 10), batch: mnistBatch, steps: 5, lr: 0.1 },
  {
    name: 'MNIST CNN (bp train mnist --model cnn)',
    build: () => buildModel('cnn', 'mnist', [1, 28, 28], 10),
    batch: mnistBatch,
    steps: 5,
    lr: 0.05,
  },
  {
    name: 'newer layers (same padding, dilation, groups, GELU, SiLU, ceil mode, AvgPool2d)',
    build: async () =>
      new Sequential([
        new Conv2d(1, 4, 3, { padding: 'same', dilation: 2 }),
        new GELU(),
        new Conv2d(4, 8, 3, { groups: 4, padding: 1, stride: 2 }),
        new SiLU(),
        new MaxPool2d(3, 2, { padding: 1, ceilMode: true }),
        new MaxPool2d(2, 1, { dilation: 2 }),
        new AvgPool2d(2, 2, { padding: 1, ceilMode: true, countIncludePad: false }),
        new AvgPool2d(3, 1, { padding: 1, divisorOverride: 4 }),
        new GELU({ approximate: 'tanh' }),
        new Flatten(),
        new Linear(8 * 4 * 4, 10),
      ]),
    batch: mnistBatch,
    steps: 5,
    lr: 0.2,
  },
  {
    name: 'GPT (bp train names --model gpt, smaller)',
    build: async () => new Sequential([new GPT(GPT_CONFIG)]),
    // Token ids and next-token targets; the loss is the cross-entropy at every position.
    batch: async () => ({
      x: randint(0, GPT_CONFIG.vocabSize, [8, GPT_CONFIG.blockSize]),
      y: randint(0, GPT_CONFIG.vocabSize, [8, GPT_CONFIG.blockSize]),
    }),
    torchCode: torchGptCode,
    steps: 5,
    lr: 0.5,
  },
];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function readF32(file: string): Promise<Float32Array> {
  const bytes = await readFile(file);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/** Raw little-endian bytes of a tensor's values: float32, or int64 for class ids and tokens. */
function rawBytes(t: Tensor, as: 'float32' | 'int64'): Uint8Array {
  const values = t.dataSync();
  if (as === 'float32') return new Uint8Array(Float32Array.from(values).buffer);
  return new Uint8Array(BigInt64Array.from(Array.from(values, (v) => BigInt(v))).buffer);
}

describe.skipIf(!torchVersion).each(CASES)('PyTorch round trip: $name', (c) => {
  let dir = '';
  let model: Sequential;
  let batch: Batch;
  let summary: { losses: number[]; shape: number[] };

  beforeAll(async () => {
    manualSeed(11);
    model = (await c.build()).eval();
    batch = await c.batch();
    dir = await mkdtemp(join(tmpdir(), 'bp-torch-'));
    await writeFile(join(dir, 'bp.safetensors'), pytorchWeights(model));
    const inputDtype = batch.x.dtype === 'int32' ? 'int64' : 'float32';
    await writeFile(join(dir, 'x.bin'), rawBytes(batch.x, inputDtype));
    await writeFile(join(dir, 'y.bin'), rawBytes(batch.y, 'int64'));
    const job = {
      code: (c.torchCode ?? torchModelCode)(model),
      weights: join(dir, 'bp.safetensors'),
      input: { file: join(dir, 'x.bin'), shape: batch.x.shape, dtype: inputDtype },
      target: { file: join(dir, 'y.bin'), shape: batch.y.shape },
      steps: c.steps,
      lr: c.lr,
      out: dir,
    };
    const r = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(job), encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    summary = JSON.parse(r.stdout);
  }, 180_000);

  it("bp's safetensors load into the PyTorch module with identical outputs", async () => {
    const want = model.forward(batch.x);
    expect(summary.shape).toEqual(want.shape);
    const diff = maxAbsDiff(await readF32(join(dir, 'bp_weights_output.f32')), want.dataSync());
    console.log(`${c.name}: bp weights in PyTorch ${torchVersion}, max abs diff ${diff.toExponential(2)}`);
    expect(diff).toBeLessThanOrEqual(TOLERANCE);
  });

  it('weights trained in PyTorch load into bp with identical outputs', async () => {
    // The training moved the weights: the loss fell, and the outputs are not the ones bp started from.
    expect(summary.losses.length).toBe(c.steps);
    expect(summary.losses[c.steps - 1]).toBeLessThan(summary.losses[0]);
    const file = join(dir, 'trained.safetensors');
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(await readFile(file)), { source: file });
    expect(metadata).toMatchObject({ format: 'pt' });
    const before = model.forward(batch.x).dataSync();
    model.loadStateDict(tensors);
    const got = model.forward(batch.x).dataSync();
    const want = await readF32(join(dir, 'trained_output.f32'));
    expect(maxAbsDiff(got, before)).toBeGreaterThan(1e-2);
    const diff = maxAbsDiff(got, want);
    console.log(
      `${c.name}: PyTorch-trained weights in bp, max abs diff ${diff.toExponential(2)} (loss ${summary.losses[0].toFixed(4)} -> ${summary.losses[c.steps - 1].toFixed(4)})`,
    );
    expect(diff).toBeLessThanOrEqual(TOLERANCE);
  });
});
