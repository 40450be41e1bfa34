import type { Tensor } from '@bp/tensor';

/** The numbers a training loop reports to callbacks: `loss`, `accuracy`, `val_loss`... */
export type Logs = Record<string, number>;

/** What a callback may do with the model: stop training, read and restore its weights. */
export interface CallbackModel {
  /** Set to true to stop `fit` after the current batch. */
  stopTraining: boolean;
  /** The current weights by name. */
  stateDict(): Record<string, Tensor>;
  /** Copies weights back into the model. */
  loadStateDict(sd: Record<string, Tensor>): unknown;
}

/**
 * Hooks into `fit` (Keras' callbacks). Every method is optional and may be
 * async; `fit` awaits it before going on. Epochs and batches count from 0.
 * Batch logs carry the batch's `loss` and `size`; epoch logs carry the
 * epoch means of the loss and metrics, and `val_*` entries when validating.
 */
export interface Callback {
  /** Called once before training with the model being trained. */
  setModel?(model: CallbackModel): void;
  /** Before the first epoch. */
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  /** After the last epoch (or the one that stopped training), with its logs. */
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  /** Before each epoch. */
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  /** After each epoch (and its validation), with the epoch's mean loss and metrics. */
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  /** Before each batch, with its `batch` index and `size`. */
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  /** After each optimizer step, with the batch's `loss` and `size`. */
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
}
