import { noGrad } from '@bp/autograd';
import type { GPT } from '@bp/layers';
import { crossEntropyLoss } from '@bp/losses';
import { AdamW, LinearWarmupCosineLR, clipGradNorm } from '@bp/optim';
import { ArgumentError, tidy, type Tensor } from '@bp/tensor';
import { checkOptions } from '@bp/tensor/internal';
import { type Batch, batchAt, checkTokens, sampleBatch } from './data.js';

/** Hyperparameters of {@link trainGPT} (nanoGPT's names, camelCase). */
export interface TrainGPTOptions {
  /** Optimizer steps. */
  steps: number;
  /** Sequences per step. */
  batchSize: number;
  /** Peak learning rate (after warmup). */
  lr: number;
  /** Linear warmup steps (default 10% of `steps`). */
  warmupSteps?: number;
  /** The rate the cosine decays to (default lr / 10). */
  minLr?: number;
  /** AdamW's decoupled weight decay on matrices and embeddings; biases and LayerNorm weights get none (default 0.1). */
  weightDecay?: number;
  /** AdamW's betas (default [0.9, 0.99], as nanoGPT's character models). */
  betas?: [number, number];
  /** Clip the gradient's total norm to this (default 1; 0 turns clipping off). */
  gradClip?: number;
  /** Evaluate on validation data every this many steps (and at the end); 0 for never (default 0). */
  evalEvery?: number;
  /** Batches (of `batchSize` windows) per validation estimate (default 8). */
  evalBatches?: number;
  /**
   * Called after each step (`step` counting from 0) with its loss, learning rate, the gradient's total
   * norm before clipping (NaN with clipping off) and the batch's offsets.
   */
  onStep?: (info: { step: number; loss: number; lr: number; gradNorm: number; offsets: number[] }) => void;
  /** Called after each evaluation, with the number of steps done (as in `valLosses`). */
  onEval?: (info: { step: number; valLoss: number }) => void;
}

function positiveInteger(op: string, name: string, v: unknown): void {
  if (!(Number.isInteger(v) && (v as number) >= 1)) throw new ArgumentError(op, `${name} must be a positive integer, got ${String(v)}`);
}

/** Refuses a token id of `data` that is not in `[0, vocabSize)`, naming the stream, the position and the id. */
function checkIds(op: string, name: string, data: Int32Array, vocabSize: number): void {
  for (let i = 0; i < data.length; i++) {
    const id = data[i];
    if (id < 0 || id >= vocabSize) {
      throw new ArgumentError(
        op,
        `${name} holds token id ${id} at position ${i}, outside the model's vocabulary of ${vocabSize} (ids 0 to ${vocabSize - 1})`,
      );
    }
  }
}

/** The next-token cross-entropy of `model` on `batch` (mean over every position). */
export function lossOf(model: GPT, batch: Batch): Tensor {
  const logits = model.forward(batch.x);
  const [B, T, V] = logits.shape;
  return crossEntropyLoss(logits.reshape([B * T, V]), batch.y.reshape([B * T]));
}

/**
 * The mean validation loss over consecutive non-overlapping windows of
 * `data` (no randomness, so a twin computes the same windows), at most
 * `maxBatches` batches of `batchSize`. Runs in eval mode without gradients.
 */
export function evaluate(model: GPT, data: Int32Array, batchSize: number, maxBatches = 8): number {
  checkTokens('evaluate', 'data', data);
  positiveInteger('evaluate', 'batchSize', batchSize);
  positiveInteger('evaluate', 'maxBatches', maxBatches);
  const T = model.config.blockSize;
  const windows = Math.min(Math.floor((data.length - 1) / T), batchSize * maxBatches);
  if (windows < 1) throw new ArgumentError('evaluate', `a stream of ${data.length} tokens has no full window of ${T + 1}`);
  const wasTraining = model.training;
  model.eval();
  try {
    let total = 0;
    let count = 0;
    for (let start = 0; start < windows; start += batchSize) {
      const offsets = Array.from({ length: Math.min(batchSize, windows - start) }, (_, i) => (start + i) * T);
      total += noGrad(() => tidy(() => lossOf(model, batchAt(data, T, offsets)).item())) * offsets.length;
      count += offsets.length;
    }
    return total / count;
  } finally {
    model.train(wasTraining);
  }
}

/**
 * AdamW over `model`'s parameters in two groups, as nanoGPT: weight decay
 * on every parameter with 2 or more dimensions (matrices, embeddings), none
 * on biases and LayerNorm weights.
 */
export function gptOptimizer(model: GPT, lr: number, weightDecay = 0.1, betas: [number, number] = [0.9, 0.99]): AdamW {
  const params = model.parameters();
  return new AdamW(
    [
      { params: params.filter((p) => p.rank >= 2), weightDecay },
      { params: params.filter((p) => p.rank < 2), weightDecay: 0 },
    ],
    { lr, betas },
  );
}

/** What {@link trainGPT} returns. */
export interface TrainGPTResult {
  /** The training loss of each step. */
  losses: number[];
  /** `[step, valLoss]` of each evaluation. */
  valLosses: [number, number][];
}

/**
 * Trains `model` on random windows of `train` (offsets from the `manualSeed`
 * generator) with AdamW, linear warmup then cosine decay, and gradient
 * clipping: the nanoGPT recipe.
 */
export function trainGPT(model: GPT, train: Int32Array, val: Int32Array | null, options: TrainGPTOptions): TrainGPTResult {
  const raw: unknown = options ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ArgumentError(
      'trainGPT',
      `opts must be an options object, got ${Array.isArray(raw) ? 'an array' : `${typeof raw} ${String(raw)}`}`,
    );
  }
  const opts = raw as Partial<TrainGPTOptions>;
  checkOptions('trainGPT', opts, [
    'steps',
    'batchSize',
    'lr',
    'warmupSteps',
    'minLr',
    'weightDecay',
    'betas',
    'gradClip',
    'evalEvery',
    'evalBatches',
    'onStep',
    'onEval',
  ]);
  checkTokens('trainGPT', 'train', train);
  if (val !== null && val !== undefined) checkTokens('trainGPT', 'val', val);
  const { steps, batchSize, lr } = opts as TrainGPTOptions;
  positiveInteger('trainGPT', 'steps', steps);
  positiveInteger('trainGPT', 'batchSize', batchSize);
  if (!(typeof lr === 'number' && Number.isFinite(lr) && lr > 0)) {
    throw new ArgumentError('trainGPT', `lr (the peak learning rate) must be a finite number > 0, got ${String(lr)}`);
  }
  if (opts.minLr !== undefined && !(Number.isFinite(opts.minLr) && opts.minLr >= 0 && opts.minLr <= lr)) {
    throw new ArgumentError('trainGPT', `minLr must be a finite number from 0 to lr (${lr}), got ${String(opts.minLr)}`);
  }
  const clip = opts.gradClip ?? 1;
  if (!(typeof clip === 'number' && Number.isFinite(clip) && clip >= 0)) {
    throw new ArgumentError('trainGPT', `gradClip must be a finite number >= 0 (0 turns clipping off), got ${String(clip)}`);
  }
  const evalEvery = opts.evalEvery ?? 0;
  if (!(Number.isInteger(evalEvery) && evalEvery >= 0)) {
    throw new ArgumentError('trainGPT', `evalEvery must be an integer >= 0 (0 for never), got ${String(evalEvery)}`);
  }
  const evalBatches = opts.evalBatches ?? 8;
  positiveInteger('trainGPT', 'evalBatches', evalBatches);
  // A validation stream too short to evaluate fails now, not after the steps before the first evaluation.
  if (val && evalEvery > 0 && val.length - 1 < model.config.blockSize) {
    throw new ArgumentError(
      'trainGPT',
      `the validation stream of ${val.length} tokens has no full window of ${model.config.blockSize + 1} (blockSize + 1) to evaluate on`,
    );
  }
  for (const name of ['onStep', 'onEval'] as const) {
    const f: unknown = opts[name];
    if (f !== undefined && typeof f !== 'function') {
      throw new ArgumentError('trainGPT', `${name} must be a function, got ${f === null ? 'null' : typeof f}`);
    }
  }
  // An id outside the vocabulary fails now, naming where it is, not at the step whose window first meets it.
  checkIds('trainGPT', 'train', train, model.config.vocabSize);
  if (val) checkIds('trainGPT', 'val', val, model.config.vocabSize);
  const warmupSteps = opts.warmupSteps ?? Math.floor(steps / 10);
  const opt = gptOptimizer(model, lr, opts.weightDecay ?? 0.1, opts.betas ?? [0.9, 0.99]);
  const sched = new LinearWarmupCosineLR(opt, { warmupSteps, totalSteps: Math.max(steps, warmupSteps + 1), etaMin: opts.minLr ?? lr / 10 });
  const losses: number[] = [];
  const valLosses: [number, number][] = [];
  model.train();
  try {
    for (let step = 0; step < steps; step++) {
      const rate = opt.lr;
      // One tidy scope per step: its tensors are released when it ends (on the CPU backend their
      // memory is recycled for the next step's).
      const { offsets, l, gradNorm } = tidy(() => {
        const batch = sampleBatch(train, model.config.blockSize, batchSize);
        opt.zeroGrad();
        const loss = lossOf(model, batch);
        loss.backward();
        const gradNorm = clip > 0 ? clipGradNorm(model.parameters(), clip).item() : NaN;
        opt.step();
        return { offsets: batch.offsets, l: loss.item(), gradNorm };
      });
      sched.step();
      losses.push(l);
      opts.onStep?.({ step, loss: l, lr: rate, gradNorm, offsets });
      if (val && evalEvery > 0 && ((step + 1) % evalEvery === 0 || step === steps - 1)) {
        const v = evaluate(model, val, batchSize, evalBatches);
        valLosses.push([step + 1, v]);
        opts.onEval?.({ step: step + 1, valLoss: v });
      }
    }
  } finally {
    // The optimizer is this call's own: its moments go now, not when the garbage collector finds them.
    opt.dispose();
  }
  return { losses, valLosses };
}
