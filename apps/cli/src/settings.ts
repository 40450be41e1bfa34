/**
 * The settings of a training run: what the flags say, completed by
 * per-dataset defaults. They are stored in every checkpoint so `--resume`
 * continues with exactly the same ones.
 */
import { resolve } from 'node:path';
import type { BACKENDS, DatasetName, LOSSES, OPTIMIZERS } from './choices.js';
import { defaultValidationSplit } from './datasets.js';

/** A fully resolved training configuration. */
export interface TrainSettings {
  dataset: DatasetName;
  /** `mlp`, `cnn`, `gpt`, or the absolute path of an architecture file. */
  model: string;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: (typeof OPTIMIZERS)[number];
  loss: (typeof LOSSES)[number];
  backend: (typeof BACKENDS)[number];
  seed: number;
  limit: number | null;
  validationSplit: number;
  /** Absolute path, or null to search the usual places. */
  dataDir: string | null;
}

/** The flags of `bp train` as commander parses them. */
export interface TrainFlags {
  model: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  optimizer?: TrainSettings['optimizer'];
  loss: TrainSettings['loss'];
  backend: TrainSettings['backend'];
  seed: number;
  limit?: number;
  validationSplit?: number;
  dataDir?: string;
  out?: string;
  resume?: string;
  /** Replace the run already in `--out`. */
  overwrite?: boolean;
  json?: boolean;
}

interface Defaults {
  epochs: number;
  batchSize: number;
  optimizer: TrainSettings['optimizer'];
  /** Learning rate per optimizer; optimizers not listed use Keras' default for that optimizer. */
  lr: Partial<Record<TrainSettings['optimizer'], number>>;
}

/** Learning rates when neither the flag nor the dataset names one (Keras' defaults). */
const OPTIMIZER_LR: Record<TrainSettings['optimizer'], number> = { sgd: 0.01, adam: 1e-3, adamw: 1e-3, rmsprop: 1e-3 };

/**
 * Per-dataset defaults. MNIST and Fashion-MNIST follow the Keras MNIST
 * example (Adam 1e-3, batch 32); the toy problems get settings that solve
 * them in seconds; the names corpus trains the GPT (`--model gpt`).
 */
export const DATASET_DEFAULTS: Readonly<Record<DatasetName, Defaults>> = {
  xor: { epochs: 100, batchSize: 4, optimizer: 'adam', lr: { adam: 0.05, adamw: 0.05, sgd: 0.5, rmsprop: 0.02 } },
  spirals: { epochs: 100, batchSize: 32, optimizer: 'adam', lr: { adam: 0.01, adamw: 0.01, sgd: 0.1, rmsprop: 0.005 } },
  moons: { epochs: 50, batchSize: 32, optimizer: 'adam', lr: { adam: 0.01, adamw: 0.01, sgd: 0.1, rmsprop: 0.005 } },
  mnist: { epochs: 5, batchSize: 32, optimizer: 'adam', lr: {} },
  'fashion-mnist': { epochs: 5, batchSize: 32, optimizer: 'adam', lr: {} },
  // The GPT of examples/src/gpt-names.ts: about 600 steps of nanoGPT's recipe at a peak rate of 3e-3.
  names: { epochs: 6, batchSize: 32, optimizer: 'adamw', lr: { adamw: 3e-3 } },
};

/** Settings for a new run from the flags and the dataset's defaults. */
export function resolveSettings(dataset: DatasetName, flags: TrainFlags): TrainSettings {
  const d = DATASET_DEFAULTS[dataset];
  const optimizer = flags.optimizer ?? d.optimizer;
  const model = flags.model === 'mlp' || flags.model === 'cnn' || flags.model === 'gpt' ? flags.model : resolve(flags.model);
  return {
    dataset,
    model,
    epochs: flags.epochs ?? d.epochs,
    batchSize: flags.batchSize ?? d.batchSize,
    lr: flags.lr ?? d.lr[optimizer] ?? OPTIMIZER_LR[optimizer],
    optimizer,
    loss: flags.loss,
    backend: flags.backend,
    seed: flags.seed,
    limit: flags.limit ?? null,
    validationSplit: flags.validationSplit ?? defaultValidationSplit(dataset),
    dataDir: flags.dataDir === undefined ? null : resolve(flags.dataDir),
  };
}
