/**
 * The networks `bp train --model` builds: `mlp` (per dataset: @bp/layers'
 * `presets.mnistMlp` for images, a small tanh/ReLU net for the 2-d toy
 * problems), `cnn` (`presets.mnistCnn`: two Conv2d + MaxPool blocks, then
 * Linear, for 28x28 images), or an
 * architecture file in the format `save` writes (`model.json`). Every model
 * outputs logits, one per class; the loss applies the softmax.
 */
import { basename } from 'node:path';
import { noGrad } from '@bp/autograd';
import {
  Linear,
  ReLU,
  Sequential,
  Tanh,
  checkArchitectureSize,
  withParameterBudget,
  layerFromConfig,
  presets,
  readRegularFile,
} from '@bp/layers';
import { FormatError, fmtShape, zeros } from '@bp/tensor';
import { type DatasetName, closestChoice } from './choices.js';
import type { Json } from './state-pack.js';
import { jsonErrorWhere } from './terminal-safe.js';
import { UsageError } from './usage-error.js';

/** Built-in architectures (`gpt`, for the names, is built by gpt-task.ts). */
export const BUILTIN_MODELS = ['mlp', 'cnn', 'gpt'] as const;

/** Whether `spec` names a built-in model rather than an architecture file. */
export function isBuiltinModel(spec: string): boolean {
  return (BUILTIN_MODELS as readonly string[]).includes(spec);
}

/** The most parameter values a model file may declare for training (400 MB of float32, three times that with Adam's state). */
export const MAX_TRAIN_PARAMETERS = 100_000_000;

/** The largest architecture file read (a real one is a few kilobytes). */
const MAX_ARCHITECTURE_BYTES = 16 * 1024 * 1024;

/**
 * Reads an architecture file (`--model FILE.json`): a whole model.json
 * written by `save`, or just its `{ type, config }` model description.
 * Returns the description, which the run then keeps in its checkpoint and
 * run.json so that a resumed run trains what it started with.
 */
export async function readArchitecture(spec: string): Promise<Json> {
  if (!spec.endsWith('.json')) {
    const near = closestChoice(basename(spec), BUILTIN_MODELS);
    throw new UsageError(
      `--model '${spec}' is not a model: expected ${BUILTIN_MODELS.join(', ')}, or a .json architecture file${near ? `. Did you mean ${near}?` : ''}`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(spec, { maxBytes: MAX_ARCHITECTURE_BYTES, what: 'architecture file' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new FormatError(spec, 'not found: --model names an architecture file that does not exist');
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new FormatError(spec, `is not valid JSON (${jsonErrorWhere(e)})`);
  }
  const description = json !== null && typeof json === 'object' && Object.hasOwn(json, 'model') ? (json as { model: unknown }).model : json;
  if (description === null || typeof description !== 'object' || Array.isArray(description)) {
    throw new FormatError(spec, 'must describe a model as a { type, config } object');
  }
  return description as Json;
}

/**
 * Builds the model `spec` names for a dataset with `inputShape` per example
 * and `numClasses` outputs. For a model file, `architecture` (what
 * {@link readArchitecture} returned when the run started) is built instead of
 * reading the file again.
 */
export async function buildModel(
  spec: string,
  dataset: DatasetName,
  inputShape: number[],
  numClasses: number,
  architecture: Json | null = null,
): Promise<Sequential> {
  const images = inputShape.length === 3;
  if (spec === 'mlp') {
    // The MNIST MLP: Flatten, Linear 784-128, ReLU, Linear 128-10 (softmax inside the loss).
    if (images) return presets.mnistMlp({ inputShape, classes: numClasses });
    const inF = inputShape[0];
    if (dataset === 'xor') return new Sequential([new Linear(inF, 8), new Tanh(), new Linear(8, numClasses)]);
    const h = dataset === 'spirals' ? 64 : 16;
    return new Sequential([new Linear(inF, h), new ReLU(), new Linear(h, h), new ReLU(), new Linear(h, numClasses)]);
  }
  if (spec === 'cnn') {
    if (!images) {
      throw new UsageError(
        `--model cnn needs image data (mnist, fashion-mnist); '${dataset}' has ${inputShape[0]} features per example. Use --model mlp.`,
      );
    }
    return presets.mnistCnn({ inputShape, classes: numClasses });
  }
  if (architecture === null && !spec.endsWith('.json')) {
    throw new UsageError(`--model '${spec}' is not a model: expected ${BUILTIN_MODELS.join(', ')}, or a .json architecture file`);
  }
  const model = modelFromArchitecture(architecture ?? (await readArchitecture(spec)), spec, inputShape);
  checkFits(model, spec, dataset, inputShape, numClasses);
  return model;
}

/**
 * Refuses, before a run starts, a model file that cannot take the dataset's examples or whose
 * outputs are not one score per class: one zero example through it in eval mode.
 */
function checkFits(model: Sequential, spec: string, dataset: DatasetName, inputShape: number[], numClasses: number): void {
  const wasTraining = model.training;
  model.eval();
  let out: number[];
  try {
    // Within the bound a loader builds with: a layer without parameters (an adaptive pooling to a
    // billion cells) is refused by the size of its output rather than running out of memory.
    out = noGrad(() =>
      withParameterBudget(
        0,
        (layer, need) => new FormatError(spec, `a ${layer} sized by its input needs ${need} more parameter values`),
        () => model.forward(zeros([1, ...inputShape])).shape,
      ),
    );
  } catch (e) {
    throw new UsageError(`--model ${spec} does not fit ${dataset}, whose examples are ${fmtShape(inputShape)}: ${(e as Error).message}`);
  } finally {
    model.train(wasTraining);
  }
  if (out.length !== 2 || out[1] !== numClasses) {
    throw new UsageError(
      `--model ${spec} gives outputs ${fmtShape(out.slice(1))} per example, but ${dataset} needs one score per class (${numClasses} classes)`,
    );
  }
}

/**
 * Builds a Sequential from an architecture description (from a file, or kept
 * in a checkpoint), refusing one that would allocate more than
 * {@link MAX_TRAIN_PARAMETERS} before building it; `source` names it in errors.
 */
export function modelFromArchitecture(description: Json, source: string, inputShape: number[]): Sequential {
  const declared = checkArchitectureSize(description, MAX_TRAIN_PARAMETERS, source);
  // Layers sized by their first input (Dense without inputShape) build now, so the optimizer sees every
  // parameter: within what the declared ones leave of the bound, checked before each allocates.
  return withParameterBudget(
    MAX_TRAIN_PARAMETERS - declared,
    (layer, need) =>
      new FormatError(source, `a ${layer} sized by its input needs ${need} parameter values, past the ${MAX_TRAIN_PARAMETERS} bp trains`),
    () => {
      const model = layerFromConfig(description, source);
      if (!(model instanceof Sequential)) throw new FormatError(source, `must describe a Sequential model, got ${model.layerType}`);
      if (!model.built) noGrad(() => model.forward(zeros([1, ...inputShape])));
      return model;
    },
  );
}
