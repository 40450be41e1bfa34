/**
 * Memory over a long run: a small MLP (2-64-64-3, Adam) trained with the
 * public API on synthetic spirals, measuring after a full garbage collection
 * at the end of every epoch the process' RSS, the JS heap and (on the GPU
 * backend) the count of live device tensors. Leaks show up as growth from an
 * early epoch to the last. Used by `src/memory.test.ts` (a few epochs) and by
 * `scripts/reliability/memory-flat.mjs` (20 epochs, both backends).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import '@bp/autograd';
import '@bp/losses';
import '@bp/optim';
import { spirals } from '@bp/datasets';
import { Dense, Sequential } from '@bp/layers';
import { getBackend, manualSeed, setBackend, type Backend } from '@bp/tensor';
import { gpu } from '../src/index.js';

/** One epoch's measurements. */
export interface MemorySample {
  epoch: number;
  rssMB: number;
  heapMB: number;
  /** Live device tensors (GPU backend only). */
  liveTensors: number | null;
  loss: number;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collects garbage until finalizers (which free device tensors) have run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Trains for `epochs` epochs on `backend` ('cpu', or 'gpu' for gpu.js in `mode`) and returns a sample per epoch. */
export async function measureTraining(backendName: 'cpu' | 'gpu', epochs: number, mode: 'cpu' | 'webasm' = 'cpu'): Promise<MemorySample[]> {
  const previous = getBackend();
  const backend: Backend | null = backendName === 'gpu' ? gpu({ mode }) : null;
  await setBackend(backend ?? 'cpu');
  try {
    manualSeed(11);
    const { x, y } = spirals({ n: 300, classes: 3, noise: 0.1 });
    const model = new Sequential([
      new Dense(64, { activation: 'relu', inputShape: [2] }),
      new Dense(64, { activation: 'relu' }),
      new Dense(3),
    ]);
    model.compile({ optimizer: 'adam', loss: 'crossEntropyLoss' });
    const samples: MemorySample[] = [];
    const info = backend as unknown as { info?: () => { liveTensors: number } } | null;
    await model.fit(x, y, {
      epochs,
      batchSize: 32,
      verbose: 0,
      callbacks: [
        {
          async onEpochEnd(epoch, logs) {
            await settle();
            const m = process.memoryUsage();
            samples.push({
              epoch: epoch + 1,
              rssMB: m.rss / 2 ** 20,
              heapMB: m.heapUsed / 2 ** 20,
              liveTensors: info?.info ? info.info().liveTensors : null,
              loss: logs?.loss ?? NaN,
            });
          },
        },
      ],
    });
    return samples;
  } finally {
    await setBackend(previous);
    (backend as unknown as { destroy?: () => void } | null)?.destroy?.();
  }
}

/** Relative growth from epoch `from` to the last sample, for each measure. */
export function growth(samples: MemorySample[], from = 2): { rss: number; heap: number; liveTensors: number | null } {
  const a = samples.find((s) => s.epoch === from)!;
  const b = samples[samples.length - 1];
  return {
    rss: b.rssMB / a.rssMB - 1,
    heap: b.heapMB / a.heapMB - 1,
    liveTensors: a.liveTensors === null || b.liveTensors === null ? null : b.liveTensors / Math.max(1, a.liveTensors) - 1,
  };
}
