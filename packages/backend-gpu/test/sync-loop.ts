/**
 * Deterministic memory: a 2-64-64-3 MLP (Adam) trained in a synchronous loop —
 * no `await`, so no finalizer ever runs — and then evaluated in one, counting
 * the backend's live storages as it goes. With every step in a `tidy` scope
 * (and `fit`/`evaluate` doing that themselves) the count must not grow. Used
 * by `src/sync-loop.test.ts` (a few hundred steps) and by
 * `scripts/reliability/sync-loop.mjs` (10,000 of each, RSS included, JSON out).
 */
import '@bp/autograd';
import { noGrad } from '@bp/autograd';
import { spirals } from '@bp/datasets';
import { Dense, Sequential } from '@bp/layers';
import { crossEntropyLoss } from '@bp/losses';
import { Adam } from '@bp/optim';
import { cpuBackend, getBackend, manualSeed, setBackend, tidy, type Backend } from '@bp/tensor';
import { REQUIRED_METHODS } from '@bp/tensor/internal';
import { gpu, type GpuBackend } from '../src/index.js';

/** The live-storage count at one step. */
export interface LoopSample {
  step: number;
  live: number;
  rssMB: number;
}

/** What {@link syncLoop} measured. */
export interface LoopReport {
  backend: string;
  train: LoopSample[];
  eval: LoopSample[];
  fit: LoopSample[];
  /** The loss over the first and the last 10 training steps, to show it trained. */
  lossFirst: number;
  lossLast: number;
}

/**
 * The CPU backend with a live-storage counter: +1 for every storage a kernel returns (other than
 * one of its arguments), -1 for every `dispose`. The CPU backend leaves freeing to garbage collection, so this counts what
 * deterministic disposal released and nothing else.
 */
export function countingCpu(): Backend & { live(): number } {
  const inner = cpuBackend() as unknown as Record<string, unknown>;
  let live = 0;
  const out: Record<string, unknown> = { ...inner };
  // Every required method but `read` returns a storage, and so do the two window kernels.
  const returnsStorage = [...REQUIRED_METHODS.filter((m) => m !== 'read'), 'im2col', 'col2im'];
  for (const k of returnsStorage) {
    const f = inner[k] as (...a: unknown[]) => unknown;
    out[k] = (...a: unknown[]) => {
      live++;
      return f(...a);
    };
  }
  const fused = inner.fused as Record<string, (...a: unknown[]) => unknown> | undefined;
  if (fused) {
    out.fused = Object.fromEntries(
      Object.entries(fused).map(([k, f]) => [
        k,
        (...a: unknown[]) => {
          const r = f(...a);
          // A storage given back as it came in (Adam's parameter and moments already placed) is not a new one.
          const fresh = (s: unknown): boolean => s !== null && s !== undefined && !a.includes(s);
          if (Array.isArray(r)) live += r.filter(fresh).length;
          else if (fresh(r)) live++;
          return r;
        },
      ]),
    );
  }
  out.dispose = () => {
    live--;
  };
  out.live = () => live;
  return out as unknown as Backend & { live(): number };
}

const rss = (): number => (globalThis.process?.memoryUsage?.().rss ?? 0) / 2 ** 20;

/**
 * Trains `trainSteps` synchronous steps and runs `evalSteps` synchronous eval steps on the
 * `cpu` or `gpu` backend (gpu.js in `mode`), then `fitSteps` steps through `model.fit` and
 * `model.evaluate`, sampling the live-storage count every `every` steps.
 */
export async function syncLoop(
  backendName: 'cpu' | 'gpu',
  trainSteps: number,
  evalSteps: number,
  fitSteps: number,
  every: number,
  mode: 'cpu' | 'webasm' = 'webasm',
): Promise<LoopReport> {
  const previous = getBackend();
  const counted = backendName === 'cpu' ? countingCpu() : gpu({ mode });
  const live = backendName === 'cpu' ? (counted as ReturnType<typeof countingCpu>).live : () => (counted as GpuBackend).liveTensors();
  await setBackend(counted);
  try {
    manualSeed(5);
    const batch = 32;
    const { x, y } = spirals({ n: 960, classes: 3, noise: 0.1 });
    const batches = x.shape[0] / batch;
    const model = new Sequential([
      new Dense(64, { activation: 'relu', inputShape: [2] }),
      new Dense(64, { activation: 'relu' }),
      new Dense(3),
    ]);
    model.build([2]);
    const opt = new Adam(model.parameters(), { lr: 0.01 });
    const train: LoopSample[] = [];
    const losses: number[] = [];
    for (let step = 1; step <= trainSteps; step++) {
      const s = ((step - 1) % batches) * batch;
      const read = step <= 10 || step > trainSteps - 10;
      const value = tidy(() => {
        const loss = crossEntropyLoss(model.forward(x.narrow(0, s, batch)), y.narrow(0, s, batch));
        opt.zeroGrad();
        loss.backward();
        opt.step();
        return read ? loss.item() : 0;
      });
      if (read) losses.push(value);
      if (step % every === 0) train.push({ step, live: live(), rssMB: rss() });
    }
    const evalSamples: LoopSample[] = [];
    model.eval();
    noGrad(() => {
      for (let step = 1; step <= evalSteps; step++) {
        const s = ((step - 1) % batches) * batch;
        tidy(() => {
          crossEntropyLoss(model.forward(x.narrow(0, s, batch)), y.narrow(0, s, batch));
        });
        if (step % every === 0) evalSamples.push({ step, live: live(), rssMB: rss() });
      }
    });
    model.train();
    const fit: LoopSample[] = [];
    if (fitSteps > 0) {
      model.compile({ optimizer: 'adam', loss: 'crossEntropyLoss' });
      let step = 0;
      await model.fit(x, y, {
        epochs: Math.ceil(fitSteps / batches),
        batchSize: batch,
        callbacks: [
          {
            onBatchEnd() {
              step++;
              if (step % every === 0) fit.push({ step, live: live(), rssMB: rss() });
            },
          },
        ],
      });
      const before = live();
      await model.evaluate(x, y, { batchSize: batch });
      fit.push({ step: -1, live: live() - before, rssMB: rss() });
    }
    const mean = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
    return {
      backend: backendName === 'gpu' ? `gpu (${mode})` : 'cpu',
      train,
      eval: evalSamples,
      fit,
      lossFirst: mean(losses.slice(0, 10)),
      lossLast: mean(losses.slice(-10)),
    };
  } finally {
    await setBackend(previous);
    if (backendName === 'gpu') (counted as GpuBackend).destroy();
  }
}
