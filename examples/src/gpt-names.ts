/**
 * From backprop to a GPT: a character-level transformer (token and position
 * embeddings, pre-LayerNorm blocks of causal multi-head self-attention and a
 * GELU MLP, tied output weights) trained on about 8,400 public-domain first
 * names with AdamW, linear warmup then cosine decay and gradient clipping,
 * then asked to invent new names.
 *
 * Run: pnpm --filter @bp/examples gpt [--epochs 600 (optimizer steps) --batch-size 32 --seed 1337]
 */
import '@bp/autograd';
import { evaluate, namesDataset, trainGPT } from '@bp/gpt';
import { loadNames } from '@bp/gpt/node';
import { GPT } from '@bp/layers';
import { manualSeed, tensor } from '@bp/tensor';
import { cliOptions, isMain } from './cli.js';

/** Options for {@link trainNamesGPT}. */
export interface GptNamesOptions {
  /** Optimizer steps (default 600). */
  steps?: number;
  /** Sequences per step (default 32). */
  batchSize?: number;
  /** Seed for initialisation, data order and sampling (default 1337). */
  seed?: number;
  /** Names to sample at the end (default 10). */
  samples?: number;
  /** Print progress (default false). */
  verbose?: boolean;
}

/** Trains the GPT on the names and returns the losses and a few sampled names. */
export function trainNamesGPT(opts: GptNamesOptions = {}): { valBefore: number; valAfter: number; losses: number[]; samples: string[] } {
  const { steps = 600, batchSize = 32, seed = 1337, samples = 10, verbose = false } = opts;
  manualSeed(seed);
  const ds = namesDataset(loadNames());
  const model = new GPT({ vocabSize: ds.tokenizer.size, blockSize: 16, nLayer: 2, nHead: 4, nEmbd: 64, dropout: 0 });
  const valBefore = evaluate(model, ds.val, batchSize);
  if (verbose) console.log(`${model.numParameters()} parameters; validation loss before training ${valBefore.toFixed(4)}`);
  const { losses } = trainGPT(model, ds.train, ds.val, {
    steps,
    batchSize,
    lr: 3e-3,
    warmupSteps: Math.min(10, Math.floor(steps / 10)),
    minLr: 3e-4,
    evalEvery: verbose ? Math.max(1, Math.floor(steps / 6)) : 0,
    onEval: ({ step, valLoss }) => console.log(`step ${step}: validation loss ${valLoss.toFixed(4)}`),
  });
  const valAfter = evaluate(model, ds.val, batchSize);
  // Each name starts after a newline and ends at the next one.
  const nl = ds.tokenizer.idOf('\n')!;
  const start = tensor(new Int32Array(samples).fill(nl), { shape: [samples, 1] });
  const rows = model.generate(start, 20, { temperature: 0.8, topK: 10, stopToken: nl });
  const names = rows.map((r) => ds.tokenizer.decode(r.slice(1)).split('\n')[0]);
  return { valBefore, valAfter, losses, samples: names };
}

if (isMain(import.meta.url)) {
  const o = cliOptions();
  const r = trainNamesGPT({ steps: o.epochs, batchSize: o.batchSize, seed: o.seed, verbose: true });
  console.log(`validation loss ${r.valBefore.toFixed(4)} -> ${r.valAfter.toFixed(4)}`);
  console.log(`sampled names: ${r.samples.join(', ')}`);
}
