// What the GPT twin (gpt-twin.ts) and the GPT step-time benchmark (gpt-bench.ts) share: the
// model, the hyperparameters, the data, and the files the PyTorch side (gpt_twin.py) reads.
import '@bp/autograd';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CharDataset, namesDataset } from '@bp/gpt';
import { loadNames } from '@bp/gpt/node';
import { GPT, encodeSafetensors } from '@bp/layers';
import { manualSeed } from '@bp/tensor';

/** Seed of the initial weights, the split and the batches. */
export const SEED = 1337;
/** The model of examples/src/gpt-names.ts and `bp train names --model gpt`, less its vocabulary. */
export const MODEL = { blockSize: 16, nLayer: 2, nHead: 4, nEmbd: 64, dropout: 0, bias: true, tieWeights: true };
/** nanoGPT's recipe at this size. */
export const HYPER = {
  batchSize: 32,
  lr: 3e-3,
  warmupSteps: 10,
  minLr: 3e-4,
  weightDecay: 0.1,
  betas: [0.9, 0.99] as [number, number],
  gradClip: 1,
  evalBatches: 8,
};

/** The names split and a freshly initialised GPT, from {@link SEED}; the weights are written to `dir/init.safetensors`. */
export function prepare(dir: string): { ds: CharDataset; gpt: GPT } {
  manualSeed(SEED);
  const ds = namesDataset(loadNames());
  const gpt = new GPT({ vocabSize: ds.tokenizer.size, ...MODEL });
  writeFileSync(join(dir, 'init.safetensors'), encodeSafetensors(gpt.stateDict(), { metadata: { format: 'pt' } }));
  return { ds, gpt };
}

/** Writes `dir/run.json`: what the PyTorch twin needs to replay the run (config, hyperparameters, data, each step's batch). */
export function writeRun(dir: string, ds: CharDataset, steps: number, offsets: number[][]): void {
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({
      config: { vocabSize: ds.tokenizer.size, ...MODEL },
      hyper: { ...HYPER, steps },
      train: Array.from(ds.train),
      val: Array.from(ds.val),
      offsets,
    }),
  );
}
