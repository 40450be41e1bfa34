/**
 * The character-level GPT behind `bp train names --model gpt` and
 * `bp sample`: the names corpus cut into fixed windows (so the epochs,
 * permutations, checkpoints and resumption of `bp train` apply unchanged),
 * the model's size, its loss over every position, and nanoGPT's recipe
 * (AdamW with decay on matrices only, linear warmup then cosine decay,
 * gradient clipping) as one optimizer whose state dict carries the schedule.
 */
import { CharTokenizer } from '@bp/gpt';
import { loadNames } from '@bp/gpt/node';
import { GPT, type Module } from '@bp/layers';
import { crossEntropyLoss } from '@bp/losses';
import { AdamW, LinearWarmupCosineLR, clipGradNorm, type OptimizerStateDict } from '@bp/optim';
import { FormatError, randomPermutation, tensor, type Tensor } from '@bp/tensor';
import type { TensorPair } from '@bp/datasets';
import type { TrainFlags, TrainSettings } from './settings.js';
import type { LossFn } from './trainer.js';
import { UsageError } from './usage-error.js';

/** The model name `--model` accepts for the GPT. */
export const GPT_MODEL = 'gpt';
/** The dataset the GPT trains on. */
export const NAMES_DATASET = 'names';

/**
 * The GPT's size: the model of `examples/src/gpt-names.ts` and the PyTorch
 * twin in `bench/` (about 100,000 parameters; a few seconds an epoch).
 */
export const GPT_SIZE = { blockSize: 16, nLayer: 2, nHead: 4, nEmbd: 64, dropout: 0 } as const;

/** The share of the names held out as the test split (the validation split comes out of the rest). */
export const NAMES_TEST_FRACTION = 0.1;

/** Learning-rate warmup steps (fewer when a run has fewer than 100 steps). */
const WARMUP_STEPS = 10;

/** Whether the run trains the GPT. */
export function isGPTRun(settings: Pick<TrainSettings, 'model'>): boolean {
  return settings.model === GPT_MODEL;
}

/**
 * Refuses flags that do not go with the GPT, or a GPT on data that is not
 * text, before anything is loaded.
 */
export function checkGPTFlags(dataset: string, flags: Pick<TrainFlags, 'model' | 'optimizer' | 'loss'>): void {
  const gpt = flags.model === GPT_MODEL;
  if (gpt && dataset !== NAMES_DATASET) {
    throw new UsageError(`--model gpt is a language model: train it on ${NAMES_DATASET}, not ${dataset}`);
  }
  if (!gpt && dataset === NAMES_DATASET) {
    throw new UsageError(`${NAMES_DATASET} is text, not a classification set: train it with --model gpt`);
  }
  if (gpt && flags.optimizer !== undefined && flags.optimizer !== 'adamw') {
    throw new UsageError(
      `--model gpt trains with AdamW (warmup, cosine decay, clipping); leave --optimizer out instead of --optimizer ${flags.optimizer}`,
    );
  }
  if (gpt && flags.loss !== 'cross-entropy') {
    throw new UsageError(`--model gpt trains on the cross-entropy of the next character; leave --loss out instead of --loss ${flags.loss}`);
  }
}

/** Ids `[n, blockSize]` of the consecutive windows of `ids`, and the next characters as targets. */
function windows(ids: Int32Array, T: number): TensorPair {
  const n = Math.floor((ids.length - 1) / T);
  const x = new Int32Array(n * T);
  const y = new Int32Array(n * T);
  for (let i = 0; i < n; i++) {
    x.set(ids.subarray(i * T, i * T + T), i * T);
    y.set(ids.subarray(i * T + 1, i * T + T + 1), i * T);
  }
  return { x: tensor(x, { shape: [n, T] }), y: tensor(y, { shape: [n, T] }) };
}

/**
 * The names corpus as windows of `GPT_SIZE.blockSize` characters: the
 * names are shuffled with the seeded generator, the last
 * {@link NAMES_TEST_FRACTION} become the test split, and each split is one
 * stream of names each ended by a newline, cut into consecutive windows whose
 * targets are the next characters. The classes are the vocabulary (newline
 * first, then the letters).
 */
export function loadNamesData(): { train: TensorPair; test: TensorPair; classes: string[]; inputShape: number[] } {
  const names = loadNames();
  const order = randomPermutation(names.length);
  const shuffled = Array.from(order, (i) => names[i]);
  const nTest = Math.round(names.length * NAMES_TEST_FRACTION);
  const text = (list: string[]) => list.map((n) => `${n}\n`).join('');
  const trainText = text(shuffled.slice(0, names.length - nTest));
  const testText = text(shuffled.slice(names.length - nTest));
  const tokenizer = CharTokenizer.fromText(trainText + testText);
  const T = GPT_SIZE.blockSize;
  return {
    train: windows(tokenizer.encode(trainText), T),
    test: windows(tokenizer.encode(testText), T),
    classes: tokenizer.chars,
    inputShape: [T],
  };
}

/** A GPT of {@link GPT_SIZE} over `vocabSize` characters. */
export function buildGPT(vocabSize: number, inputShape: number[]): GPT {
  return new GPT({ vocabSize, ...GPT_SIZE, blockSize: inputShape[0] });
}

/** The mean next-character cross-entropy over every position of logits `[B, T, V]` and targets `[B, T]`. */
export const sequenceLoss: LossFn = (logits: Tensor, targets: Tensor) => {
  const V = logits.shape[logits.rank - 1];
  return crossEntropyLoss(logits.reshape([-1, V]), targets.reshape([-1]));
};

/**
 * nanoGPT's recipe as one optimizer: each `step()` clips the gradient's
 * total norm to 1, applies AdamW (weight decay 0.1 on parameters with 2 or
 * more dimensions, none on biases and LayerNorm weights; betas 0.9, 0.99)
 * and advances a linear warmup then cosine decay to lr / 10 over the run's
 * steps. Its state dict holds the schedule, so a resumed run continues it
 * exactly; setting `lr` sets the peak rate of the schedule.
 */
export class GPTRecipe extends AdamW {
  /** The learning-rate schedule, stepped after each update. */
  readonly schedule: LinearWarmupCosineLR;
  private readonly params: Tensor[];

  constructor(model: Module, lr: number, totalSteps: number) {
    const params = model.parameters();
    super(
      [
        { params: params.filter((p) => p.rank >= 2), weightDecay: 0.1 },
        { params: params.filter((p) => p.rank < 2), weightDecay: 0 },
      ],
      { lr, betas: [0.9, 0.99] },
    );
    this.params = params;
    const warmupSteps = Math.min(WARMUP_STEPS, Math.floor(totalSteps / 10));
    this.schedule = new LinearWarmupCosineLR(this, { warmupSteps, totalSteps: Math.max(totalSteps, warmupSteps + 1), etaMin: lr / 10 });
  }

  /** The rate of the current step. Setting it sets the schedule's peak (what `--lr` means for the GPT). */
  override get lr(): number {
    return this.paramGroups[0].lr;
  }
  override set lr(value: number) {
    if (this.schedule === undefined) {
      super.lr = value;
      return;
    }
    this.schedule.baseLrs = this.schedule.baseLrs.map(() => value);
    for (const g of this.paramGroups) g.lr = this.schedule.lrAt(this.schedule.lastEpoch, value);
  }

  override step(): undefined {
    clipGradNorm(this.params, 1);
    super.step();
    this.schedule.step();
    return undefined;
  }

  override stateDict(): OptimizerStateDict {
    return { ...super.stateDict(), schedule: this.schedule.stateDict() } as OptimizerStateDict;
  }

  override loadStateDict(sd: OptimizerStateDict): void {
    const schedule = (sd as OptimizerStateDict & { schedule?: unknown }).schedule;
    if (schedule === null || typeof schedule !== 'object') {
      throw new FormatError('checkpoint', "the GPT's optimizer state lacks its learning-rate schedule");
    }
    super.loadStateDict(sd);
    this.schedule.loadStateDict(schedule as Parameters<LinearWarmupCosineLR['loadStateDict']>[0]);
  }
}

/** The recipe for a run of `epochs` epochs of `stepsPerEpoch` steps. */
export function gptRecipe(model: Module, settings: Pick<TrainSettings, 'lr' | 'epochs'>, stepsPerEpoch: number): GPTRecipe {
  return new GPTRecipe(model, settings.lr, settings.epochs * stepsPerEpoch);
}

/**
 * The tokenizer of a GPT run from its run.json classes, checked against the
 * model: one character each, a newline among them, as many as the model's vocabulary.
 */
export function runTokenizer(classes: readonly string[], vocabSize: number, path: string): CharTokenizer {
  let tokenizer: CharTokenizer;
  try {
    tokenizer = new CharTokenizer([...classes]);
  } catch {
    throw new FormatError(path, 'classes must be distinct single characters (the vocabulary of a GPT run)');
  }
  if (tokenizer.size !== vocabSize)
    throw new FormatError(path, `lists ${tokenizer.size} characters, the model's vocabulary has ${vocabSize}`);
  if (tokenizer.idOf('\n') === undefined) throw new FormatError(path, 'classes lack the newline that ends each name');
  return tokenizer;
}
