/**
 * The workloads of `pnpm bench:gpu`, written once for Node and the browser page: each
 * training step runs in `tidy`, and timing ends with an awaited read, so asynchronous
 * backends (WebGPU) are measured to completion.
 */
import '@bp/autograd';
import { Conv2d, Dense, Flatten, GPT, Linear, MaxPool2d, ReLU, Sequential, type Module } from '@bp/layers';
import { crossEntropyLoss } from '@bp/losses';
import { Adam, AdamW } from '@bp/optim';
import { manualSeed, matmul, randint, randn, setBackend, tidy, type Backend, type Tensor } from '@bp/tensor';

/** One workload's figures on one backend. */
export interface BenchFigure {
  workload: string;
  backend: string;
  msPerStep?: number;
  gflops?: number;
  launchesPerStep?: number;
  readbacksPerStep?: number;
  steps: number;
  error?: string;
}

interface Counting {
  counters?: () => { launches: number; readbacks: number };
}

/** Mean ms of `steps` calls of `step` after one warm-up, each in `tidy`, ended by an awaited read; launches and readbacks per step where `b` counts them. */
export async function timeSteps(
  b: Backend,
  step: () => Tensor,
  steps: number,
): Promise<{ ms: number; launches?: number; readbacks?: number }> {
  // Warm-up (kernel compilation, optimizer state), finished before timing.
  const warm = tidy(step);
  await warm.data();
  warm.dispose();
  const c = (b as Counting).counters;
  const before = c?.();
  const t0 = performance.now();
  let last: Tensor | null = null;
  for (let i = 0; i < steps; i++) {
    last?.dispose();
    last = tidy(step);
  }
  const mid = c?.();
  await last!.data();
  const ms = (performance.now() - t0) / steps;
  last!.dispose();
  return {
    ms,
    launches: before && mid ? (mid.launches - before.launches) / steps : undefined,
    readbacks: before && mid ? (mid.readbacks - before.readbacks) / steps : undefined,
  };
}

/** One training step of `model` with `opt` on `x`, `y` (cross-entropy unless `lossOf` says otherwise), returning the loss. */
export function trainStep(
  model: Module,
  opt: { zeroGrad(): void; step(): void },
  x: Tensor,
  y: Tensor,
  lossOf = (m: Module, a: Tensor, b: Tensor) => crossEntropyLoss(m.forward(a), b),
) {
  return () => {
    const loss = lossOf(model, x, y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    return loss.detach();
  };
}

/** Runs every workload on `backend` (already made), `steps` timed steps each. */
export async function benchBackend(
  name: string,
  backend: Backend,
  steps: { mlp: number; cnn: number; gpt: number; matmul: number },
): Promise<BenchFigure[]> {
  await setBackend(backend);
  const out: BenchFigure[] = [];
  const attempt = async (workload: string, n: number, fn: () => Promise<Omit<BenchFigure, 'workload' | 'backend' | 'steps'>>) => {
    try {
      out.push({ workload, backend: name, steps: n, ...(await fn()) });
    } catch (e) {
      out.push({ workload, backend: name, steps: n, error: String((e as Error)?.message ?? e).split('\n')[0] });
    }
  };
  manualSeed(1);
  await attempt('MNIST MLP 784-128-10, batch 128 (Adam)', steps.mlp, async () => {
    const model = new Sequential([new Dense(128, { activation: 'relu', inputShape: [784] }), new Dense(10)]);
    model.build([784]);
    const t = await timeSteps(backend, trainStep(model, new Adam(model.parameters()), randn([128, 784]), randint(0, 10, [128])), steps.mlp);
    return { msPerStep: t.ms, launchesPerStep: t.launches, readbacksPerStep: t.readbacks };
  });
  await attempt('CNN conv(1-8,3x3) relu maxpool(2) dense(10), batch 32 of 28x28', steps.cnn, async () => {
    const model = new Sequential([new Conv2d(1, 8, 3), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(8 * 13 * 13, 10)]);
    const t = await timeSteps(
      backend,
      trainStep(model, new Adam(model.parameters()), randn([32, 1, 28, 28]), randint(0, 10, [32])),
      steps.cnn,
    );
    return { msPerStep: t.ms, launchesPerStep: t.launches, readbacksPerStep: t.readbacks };
  });
  await attempt('GPT 2 layers, 2 heads, 64 wide, block 32, batch 8 (AdamW)', steps.gpt, async () => {
    const gpt = new GPT({ vocabSize: 32, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 64, dropout: 0 });
    const x = randint(0, 32, [8, 32]);
    const y = randint(0, 32, [8, 32]);
    const lossOf = (m: Module, a: Tensor, b: Tensor) => {
      const logits = m.forward(a);
      const [B, T, V] = logits.shape;
      return crossEntropyLoss(logits.reshape([B * T, V]), b.reshape([B * T]));
    };
    const t = await timeSteps(backend, trainStep(gpt, new AdamW(gpt.parameters(), { lr: 1e-3 }), x, y, lossOf), steps.gpt);
    return { msPerStep: t.ms, launchesPerStep: t.launches, readbacksPerStep: t.readbacks };
  });
  await attempt('matmul 1024x1024', steps.matmul, async () => {
    const a = randn([1024, 1024]);
    const b = randn([1024, 1024]);
    const t = await timeSteps(backend, () => matmul(a, b), steps.matmul);
    return { msPerStep: t.ms, gflops: (2 * 1024 ** 3) / (t.ms * 1e6) };
  });
  await setBackend('cpu');
  return out;
}
