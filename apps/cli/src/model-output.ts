/**
 * What a model's outputs are, so that `bp predict`, `bp eval` and
 * `bp train --model` neither apply a softmax to a model that ends in one
 * (as `save()` writes the Keras MLP: `Dense(10, { activation: 'softmax' })`)
 * nor forget it for one that outputs logits.
 */
import { type Module, type OutputKind, outputKind } from '@bp/layers';
import { crossEntropyLoss, mseLoss, nllLoss, sparseCategoricalCrossentropy } from '@bp/losses';
import { type Tensor, oneHot, softmax } from '@bp/tensor';
import type { TrainSettings } from './settings.js';
import type { LossFn } from './trainer.js';

/** A model's output kind and where it was read from, for messages. */
export interface ModelOutputs {
  kind: OutputKind;
  /** `'Softmax'`, `'LogSoftmax'`, `"the saved loss 'sparse_categorical_crossentropy'"`, or null for plain logits. */
  source: string | null;
}

/**
 * Reads the model's last layer; when that leaves logits but the model was
 * saved compiled with a loss on probabilities or log-probabilities (its saved
 * training config), that loss decides.
 */
export function modelOutputs(model: Module & { compiled?: { lossName: string | null; lossInput: string } | null }): ModelOutputs {
  const last = outputKind(model);
  if (last.kind !== 'logits') return { kind: last.kind, source: last.layer };
  const c = model.compiled;
  if (c && (c.lossInput === 'probabilities' || c.lossInput === 'logProbabilities')) {
    return { kind: c.lossInput, source: `the saved loss '${c.lossName}'` };
  }
  return { kind: 'logits', source: null };
}

/** Class probabilities from outputs of `kind`. */
export function toProbabilities(outputs: Tensor, kind: OutputKind): Tensor {
  if (kind === 'probabilities') return outputs;
  if (kind === 'logProbabilities') return outputs.exp();
  return softmax(outputs, -1);
}

/**
 * The training and evaluation loss for outputs of `kind`: `cross-entropy` is
 * the cross-entropy of the predicted distribution whatever form the model
 * gives it in (logits, probabilities, log-probabilities); `mse` compares the
 * probabilities with one-hot labels.
 */
export function lossFor(name: TrainSettings['loss'], kind: OutputKind, numClasses: number): LossFn {
  if (name === 'mse') return (outputs, labels) => mseLoss(toProbabilities(outputs, kind), oneHot(labels, numClasses));
  if (kind === 'probabilities') return (probs, labels) => sparseCategoricalCrossentropy(probs, labels);
  if (kind === 'logProbabilities') return (logProbs, labels) => nllLoss(logProbs, labels);
  return (logits, labels) => crossEntropyLoss(logits, labels);
}

/** The note `bp train` and `bp eval` print for a model that does not output logits; null for one that does. */
export function outputsNote(out: ModelOutputs): string | null {
  if (out.kind === 'logits') return null;
  const what = out.kind === 'probabilities' ? 'probabilities' : 'log-probabilities';
  return `the model outputs ${what} (from ${out.source}): bp takes them as they are, without a second softmax`;
}
