import type { Module } from '../module.js';
import type { Compiled } from './compile.js';

/**
 * What a model's outputs are, read from its last layer:
 * - `'probabilities'`: it ends in `Softmax` or `Sigmoid` (or a `Dense` applying one);
 * - `'logProbabilities'`: it ends in `LogSoftmax`;
 * - `'logits'`: anything else (raw scores; a loss such as `crossEntropyLoss` or a
 *   caller's softmax turns them into probabilities).
 */
export type OutputKind = 'logits' | 'probabilities' | 'logProbabilities';

/** The Keras activation names `Dense` accepts, by output kind. */
const ACTIVATION_KINDS: Readonly<Record<string, OutputKind>> = {
  softmax: 'probabilities',
  sigmoid: 'probabilities',
  log_softmax: 'logProbabilities',
};

/**
 * What `model` outputs, and the layer that decides it: the last layer of a
 * `Sequential` (looking inside a nested one), or a `Dense` with its own
 * activation. Used by `compile` to warn about a softmax applied twice, and
 * by the `bp` command to read a saved model's outputs correctly.
 *
 * @example
 * outputKind(new Sequential([new Dense(10, { inputShape: [784] }), new Softmax()])); // { kind: 'probabilities', layer: 'Softmax' }
 */
export function outputKind(model: Module): { kind: OutputKind; layer: string | null } {
  let last: Module = model;
  for (;;) {
    const layers = (last as Module & { layers?: readonly Module[] }).layers;
    if (!Array.isArray(layers) || layers.length === 0) break;
    last = layers[layers.length - 1];
  }
  const type = last.layerType;
  if (type === 'Softmax' || type === 'Sigmoid') return { kind: 'probabilities', layer: type };
  if (type === 'LogSoftmax') return { kind: 'logProbabilities', layer: type };
  const activation = (last as Module & { activation?: unknown }).activation;
  if (typeof activation === 'string' && Object.hasOwn(ACTIVATION_KINDS, activation)) {
    return { kind: ACTIVATION_KINDS[activation], layer: `${type}({ activation: '${activation}' })` };
  }
  return { kind: 'logits', layer: last === model ? null : type };
}

/**
 * Warns once per `compile` (with `console.warn`) when the model ends in a
 * softmax or sigmoid and the loss applies one again because it expects logits
 * (`crossEntropyLoss`, `bceWithLogitsLoss`): such a model trains, but slowly,
 * and its reported loss is not the cross-entropy of its predictions.
 * @internal Called by `compile` and `fit`.
 */
export function warnIfActivatedTwice(model: Module, c: Compiled): void {
  if (c.warnedOutput || c.lossInput !== 'logits') return;
  const out = outputKind(model);
  if (out.kind !== 'probabilities') return;
  c.warnedOutput = true;
  console.warn(
    `bp: the model ends in ${out.layer}, and the loss ${c.lossLabel} expects logits: it applies the softmax (or sigmoid) again, ` +
      'so training squashes probabilities a second time, learns slowly and reports a loss that is not the cross-entropy of the predictions. ' +
      "Remove the final layer's activation (the loss applies it), or compile with a loss on probabilities: " +
      "'sparseCategoricalCrossentropy' (class ids), 'categoricalCrossentropy' (one-hot) or 'binaryCrossentropy'.",
  );
}
