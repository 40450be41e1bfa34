// Same seed, same bits, whatever the thread count: a few training steps of the Keras MLP and the
// MNIST CNN on one thread and on all (every kernel above the pool's minimum split over all of
// them), every parameter compared bit for bit. `pnpm bench` reports the result among its goals.
import { presets } from '@bp/layers';
import { crossEntropyLoss } from '@bp/losses';
import { Adam } from '@bp/optim';
import { type Backend, type Tensor, cpuBackend, getBackend, manualSeed, rand, randint, setBackend } from '@bp/tensor';
import { setThreadPolicy } from '@bp/tensor/internal';
import { ready } from './matmul-peak.js';

/** How one model's parameters compare after the same seeded steps on one thread and on `threads`. */
export interface DeterminismCheck {
  model: string;
  steps: number;
  batch: number;
  threads: number;
  values: number;
  /** Parameter values whose bits differ between the two runs. */
  differing: number;
}

/** What a check trains: a model's parameters and its forward pass. */
interface Trainable {
  parameters(): Tensor[];
  forward(x: Tensor): Tensor;
}

/** Every parameter's bits after `steps` Adam steps of `model()` on seeded random MNIST-shaped data, on `be`. */
async function trainedBits(be: Backend, model: () => Trainable, batch: number, steps: number): Promise<Uint32Array> {
  await setBackend(be);
  manualSeed(11);
  const m = model();
  const opt = new Adam(m.parameters(), { lr: 1e-3 });
  for (let s = 0; s < steps; s++) {
    const x = rand([batch, 1, 28, 28]);
    const y = randint(0, 10, [batch]);
    opt.zeroGrad();
    crossEntropyLoss(m.forward(x), y).backward();
    opt.step();
  }
  const values = m.parameters().flatMap((p) => Array.from(p.dataSync()));
  return new Uint32Array(Float32Array.from(values).buffer);
}

/** Trains the Keras MLP (batch 128) and the MNIST CNN (batch 32) on one thread and on `threads`, and compares their parameters. */
export async function threadDeterminism(threads: number): Promise<DeterminismCheck[]> {
  const before = getBackend();
  const one = cpuBackend({ threads: 1 });
  const all = cpuBackend({ threads });
  await ready(all, threads);
  setThreadPolicy('all');
  try {
    const out: DeterminismCheck[] = [];
    const checks: [string, () => Trainable, number, number][] = [
      ['Keras MNIST MLP', () => presets.kerasMnistMlp(), 128, 4],
      ['MNIST CNN', () => presets.mnistCnn(), 32, 3],
    ];
    for (const [name, model, batch, steps] of checks) {
      const a = await trainedBits(one, model, batch, steps);
      const b = await trainedBits(all, model, batch, steps);
      let differing = 0;
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differing++;
      out.push({
        model: name,
        steps,
        batch,
        threads: Number(all.info?.().threads ?? 1),
        values: a.length,
        differing: differing + Math.abs(a.length - b.length),
      });
    }
    return out;
  } finally {
    setThreadPolicy('measure');
    await setBackend(before);
  }
}
