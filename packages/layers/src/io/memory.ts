import { ArgumentError, FormatError, NotAvailableError, type Tensor, fmtShape } from '@bp/tensor';
import { Module } from '../module.js';
import { Sequential } from '../sequential.js';
import { MAX_NESTING, layerFromConfig, layerToConfig, unloadableTypes } from './architecture.js';
import { withParameterBudget } from '../parameter-budget.js';
import { decodeSafetensors, encodeSafetensors, jsonErrorWhere, quoteName } from './safetensors.js';

/** The version of the model.json layout this package writes. */
export const MODEL_FORMAT_VERSION = 1;

/** The contents of `model.json`: the architecture, and how to find the weights. */
export interface ModelJson {
  format: 'bp-model';
  formatVersion: number;
  /** The model as nested `{ type, config }` layer descriptions. */
  model: { type: string; config: Record<string, unknown> };
  /** The file (beside model.json) holding the state dict. */
  weights: string;
  /** `compile` settings given by name, restored by `load` (absent when functions or objects were used). */
  trainingConfig?: { optimizer: string; loss: string; metrics: string[] };
}

/** A model in memory: what `save` writes to disk, for browsers or custom storage. */
export interface ModelArtifacts {
  modelJson: ModelJson;
  /** The state dict in safetensors format. */
  weights: Uint8Array;
}

/**
 * Names of integer buffers PyTorch keeps as int64, stored as I64 so `load_state_dict` sees PyTorch's
 * dtype: every name of the state dict, so a module registered twice has both of its entries so stored.
 */
function int64Buffers(stateDict: Record<string, Tensor>): string[] {
  return Object.entries(stateDict)
    .filter(([name, b]) => b.dtype === 'int32' && name.endsWith('num_batches_tracked'))
    .map(([name]) => name);
}

/**
 * The model as `{ modelJson, weights }`: the architecture as JSON and the
 * state dict as safetensors bytes. Store them anywhere (IndexedDB, a
 * download) and rebuild with {@link fromMemory}.
 */
export function toMemory(model: Module): ModelArtifacts {
  return modelArtifacts(model, 'toMemory');
}

/**
 * {@link toMemory}, with errors naming `op` (`save` when it writes files). Weights that `load` would
 * refuse are refused here, before anything is encoded or written: a model whose training diverged
 * must not replace an earlier good save with a file that cannot be read back. @internal
 */
export function modelArtifacts(model: Module, op: string): ModelArtifacts {
  if (!(model instanceof Module))
    throw new ArgumentError(op, `expected a Module (a layer or a Sequential), got ${model === null ? 'null' : typeof model}`);
  const stateDict = model.stateDict();
  for (const [name, t] of Object.entries(stateDict)) {
    const problem = tensorValuesProblem(name, t);
    if (problem !== null) {
      throw new ArgumentError(op, `${problem}; not saved, since load would refuse it`);
    }
  }
  const modelJson: ModelJson = {
    format: 'bp-model',
    formatVersion: MODEL_FORMAT_VERSION,
    model: layerToConfig(model),
    weights: 'model.safetensors',
  };
  // Saved anyway (the weights are the work): but say now, not at load, what load will lack.
  for (const { type, where } of unloadableTypes(modelJson.model)) {
    console.warn(
      `save: ${where} is a custom layer '${type}' that no registerLayer('${type}', factory) call has made loadable here: ` +
        `load will refuse this file until one has (the layer needs a layerType and a getConfig() with its constructor ` +
        `arguments, if it has not got them, so the factory can rebuild it: the docs' guide "Writing a custom layer" (guides/custom-layer), section "Saving a custom layer")`,
    );
  }
  if (model instanceof Sequential && model.compiled) {
    const c = model.compiled;
    if (c.optimizerName && c.lossName && c.metricNames.every((m) => m !== null)) {
      modelJson.trainingConfig = { optimizer: c.optimizerName, loss: c.lossName, metrics: c.metricNames as string[] };
    }
  }
  const weights = encodeSafetensors(stateDict, {
    metadata: { format: 'pt', producer: 'bp' },
    int64: int64Buffers(stateDict),
  });
  return { modelJson, weights };
}

function parseModelJson(value: ModelJson | string): ModelJson {
  let json: unknown = value;
  if (typeof value === 'string') {
    try {
      json = JSON.parse(value);
    } catch (e) {
      throw new FormatError('model.json', `not valid JSON (${jsonErrorWhere(e)})`);
    }
  }
  if (json === null || typeof json !== 'object') throw new FormatError('model.json', 'expected a JSON object');
  const j = json as Partial<ModelJson>;
  if (j.format !== 'bp-model') throw new FormatError('model.json', `format must be 'bp-model', got ${JSON.stringify(j.format)}`);
  if (typeof j.formatVersion !== 'number' || j.formatVersion > MODEL_FORMAT_VERSION || j.formatVersion < 1) {
    throw new FormatError(
      'model.json',
      `formatVersion ${JSON.stringify(j.formatVersion)} is not supported (this version of @bp/layers reads 1..${MODEL_FORMAT_VERSION})`,
    );
  }
  if (j.model === undefined) throw new FormatError('model.json', 'missing the model description');
  return j as ModelJson;
}

const positive = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 1 ? Math.floor(v) : 1);
const product = (v: unknown): number => (Array.isArray(v) ? v.reduce((p: number, d) => p * positive(d), 1) : positive(v) * positive(v));

/**
 * A lower bound on the parameter values the built-in layer described by
 * `value` allocates (0 for layers without parameters and custom types).
 */
function declaredValues(value: unknown, depth = 0): number {
  if (value === null || typeof value !== 'object') return 0;
  if (depth > MAX_NESTING) throw new FormatError('model.json', `layers are nested more than ${MAX_NESTING} levels deep`);
  const { type, config } = value as { type?: unknown; config?: unknown };
  const c = (config !== null && typeof config === 'object' ? config : {}) as Record<string, unknown>;
  switch (type) {
    case 'Linear':
      return positive(c.inFeatures) * positive(c.outFeatures);
    case 'Dense':
      return (
        positive(c.units) *
        (c.inFeatures != null ? positive(c.inFeatures) : Array.isArray(c.inputShape) ? positive(c.inputShape.at(-1)) : 1)
      );
    case 'Conv2d':
    case 'ConvTranspose2d':
      return Math.floor((positive(c.inChannels) * positive(c.outChannels) * product(c.kernelSize)) / positive(c.groups));
    case 'Conv1d':
      return Math.floor((positive(c.inChannels) * positive(c.outChannels) * positive(c.kernelSize)) / positive(c.groups));
    case 'BatchNorm1d':
    case 'BatchNorm2d':
      return c.affine === false && c.trackRunningStats === false ? 0 : positive(c.numFeatures);
    case 'GroupNorm':
      return c.affine === false ? 0 : positive(c.numChannels);
    case 'LayerNorm':
      return c.elementwiseAffine === false ? 0 : product(Array.isArray(c.normalizedShape) ? c.normalizedShape : [c.normalizedShape]);
    case 'Embedding':
      return positive(c.numEmbeddings) * positive(c.embeddingDim);
    case 'MultiheadAttention':
      return 4 * positive(c.embedDim) * positive(c.embedDim);
    case 'GPT': {
      // The token and position tables, and per block at least the attention's 4 and the MLP's 8 n x n matrices.
      const n = positive(c.nEmbd);
      return (positive(c.vocabSize) + positive(c.blockSize)) * n + positive(c.nLayer) * 12 * n * n;
    }
    case 'Sequential':
      return Array.isArray(c.layers) ? c.layers.reduce((n: number, l) => n + declaredValues(l, depth + 1), 0) : 0;
    default:
      return 0;
  }
}

/** The largest per-sample input a loaded model may declare (64 MB of float32): building passes one zero sample through it. */
const MAX_SAMPLE_VALUES = 2 ** 24;

/**
 * Refuses, anywhere in the architecture and before anything is allocated, what would make the
 * build pass compute too much: an `inputShape` too large, or a window layer's kernel, stride,
 * padding or dilation past {@link MAX_WINDOW_SETTING}.
 */
function checkBuildSizes(value: unknown, where: string, depth = 0): void {
  if (value === null || typeof value !== 'object') return;
  if (depth > MAX_NESTING) throw new FormatError('model.json', `layers are nested more than ${MAX_NESTING} levels deep`);
  const config = (value as { config?: unknown }).config as { inputShape?: unknown; layers?: unknown } | undefined;
  if (config === null || typeof config !== 'object') return;
  if (Array.isArray(config.inputShape)) {
    const n = config.inputShape.reduce((p: number, d) => p * (typeof d === 'number' && d > 0 ? d : 1), 1);
    if (n > MAX_SAMPLE_VALUES) {
      throw new FormatError(
        'model.json',
        `${where}: inputShape ${JSON.stringify(config.inputShape)} has ${n} values per sample, more than the ${MAX_SAMPLE_VALUES} a loaded model may declare`,
      );
    }
  }
  // A window's settings decide the size of what the build pass computes: a dilation of 30000 on a
  // 1x1 input is a 30001x30001 output. Real networks stay far below this.
  const type = (value as { type?: unknown }).type;
  if (typeof type === 'string' && WINDOW_LAYERS.has(type)) {
    for (const key of ['kernelSize', 'stride', 'padding', 'dilation', 'outputPadding']) {
      const v = (config as Record<string, unknown>)[key];
      const values = Array.isArray(v) ? v : [v];
      if (values.some((d) => typeof d === 'number' && !(Math.abs(d) <= MAX_WINDOW_SETTING))) {
        throw new FormatError(
          'model.json',
          `${where} (${type}): ${key} ${JSON.stringify(v)} is larger than the ${MAX_WINDOW_SETTING} a loaded model may declare`,
        );
      }
    }
  }
  if (Array.isArray(config.layers)) config.layers.forEach((l, i) => checkBuildSizes(l, `layers[${i}]`, depth + 1));
}

/** The layers whose kernel, stride, padding and dilation {@link checkBuildSizes} bounds. */
const WINDOW_LAYERS = new Set(['Conv1d', 'Conv2d', 'ConvTranspose2d', 'MaxPool2d', 'AvgPool2d']);
/** The largest kernel size, stride, padding or dilation a loaded model (model.json or ONNX) may declare. */
export const MAX_WINDOW_SETTING = 1024;

/**
 * What a loader refuses in a weight's values, as the end of a message naming the weight (`holds NaN
 * at index 3: …`), or null when there is nothing: a NaN or infinite value (every output would be
 * NaN), or, for a running variance (`variance`), a negative one. The first index with either.
 */
export function weightValuesProblem(values: ArrayLike<number>, variance = false): string | null {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) return `holds ${v} at index ${i}: a model with non-finite weights cannot give meaningful results`;
    if (variance && v < 0) return `holds ${v} at index ${i}: a variance cannot be negative`;
  }
  return null;
}

/**
 * What {@link fromMemory} refuses in the state-dict entry `name`, as a message naming it
 * (`tensor '0.weight' holds NaN at index 3: …`), or null. `toMemory` and `save` run the same check,
 * so they never write a file that `load` refuses.
 */
function tensorValuesProblem(name: string, t: Tensor): string | null {
  // A normalisation's running variance and batch count cannot be negative (its output would be NaN).
  const counts = /(^|\.)(running_var|num_batches_tracked)$/.test(name);
  if (t.dtype !== 'float32') {
    return counts && t.dataSync().some((v) => v < 0) ? `tensor ${quoteName(name)} holds a negative count` : null;
  }
  const problem = weightValuesProblem(t.dataSync(), counts);
  return problem === null ? null : `tensor ${quoteName(name)} ${problem}`;
}

/**
 * Refuses an architecture description before anything is built when it would
 * allocate more than `maxParameters` parameter values (counting the built-in
 * layers' weights), declares an `inputShape` too large to build with, or
 * nests deeper than 64 levels, or (given `fileBytes`, the size of the file
 * that must hold the weights) would need more float32 values than that file
 * holds, plus 4 MB: a `Linear(2, 2e9)` in a file must fail at once, not
 * allocate until the process is killed. Throws a `FormatError` naming `source`;
 * else returns the parameter values the description declares. Layers sized by
 * their first input are not in that count: build within
 * {@link withParameterBudget} to bound them too.
 */
export function checkArchitectureSize(description: unknown, maxParameters: number, source = 'model.json', fileBytes = Infinity): number {
  try {
    checkBuildSizes(description, 'model');
    const total = declaredValues(description);
    if (total > maxParameters) {
      throw new FormatError('model.json', `the model has at least ${total} parameter values, more than the ${maxParameters} allowed`);
    }
    // Every weight must come from the file: a description far larger than the file is refused before building.
    if (total > fileBytes / 4 + DECLARED_SLACK) {
      throw new FormatError(
        'model.json',
        `the model has at least ${total} parameter values, but the file's ${fileBytes} bytes cannot hold them`,
      );
    }
    return total;
  } catch (e) {
    if (e instanceof FormatError && source !== 'model.json' && e.op === 'model.json')
      throw new FormatError(source, e.message.slice('model.json: '.length));
    throw e;
  }
}

/**
 * Slack over the weights' own size before {@link checkDeclaredSize} refuses:
 * a model a little larger than its weights is left to the per-tensor check,
 * whose message names the tensor and both shapes.
 */
const DECLARED_SLACK = 1 << 20;

/**
 * Refuses a model.json whose layers would need far more parameter values than
 * the weights file holds, before building them: a corrupted size
 * (`"units": 1e9`) must not make the loader allocate gigabytes only to report
 * a shape mismatch. Building is thereby bounded by the file's size plus 4 MB.
 */
function checkDeclaredSize(model: unknown, available: number, source: string): number {
  checkBuildSizes(model, 'model');
  const layers = (model as { config?: { layers?: unknown } } | null)?.config?.layers;
  const parts: [string, unknown][] = Array.isArray(layers) ? layers.map((l, i) => [`layers[${i}]`, l]) : [['model', model]];
  let total = 0;
  for (const [where, layer] of parts) {
    total += declaredValues(layer);
    if (total > available + DECLARED_SLACK) {
      const type = (layer as { type?: unknown } | null)?.type;
      throw new FormatError(
        'model.json',
        `${where} (${String(type)}) brings the model to at least ${total} parameter values, but ${source} holds ${available}`,
      );
    }
  }
  return total;
}

/**
 * Rebuilds a model saved by {@link toMemory} (or `save`): the layers from
 * the JSON, then the weights. Every tensor the model needs must be in the
 * weights with the right shape, and nothing else may be, or a `FormatError`
 * names the tensor.
 */
export function fromMemory<M extends Module = Sequential>(artifacts: { modelJson: ModelJson | string; weights: Uint8Array }): M {
  if (artifacts === null || typeof artifacts !== 'object' || !(artifacts.weights instanceof Uint8Array)) {
    throw new ArgumentError('fromMemory', 'expected { modelJson, weights } with the weights as a Uint8Array (what toMemory returns)');
  }
  const modelJson = parseModelJson(artifacts.modelJson);
  const source = typeof modelJson.weights === 'string' && modelJson.weights !== '' ? modelJson.weights : 'model.safetensors';
  const { tensors } = decodeSafetensors(artifacts.weights, { source });
  const available = Object.values(tensors).reduce((n, t) => n + t.size, 0);
  const declared = checkDeclaredSize(modelJson.model, available, source);
  // Layers sized by their input build here too: they may take what the declared ones leave.
  const model = withParameterBudget(
    available + DECLARED_SLACK - declared,
    (layer, need, left) =>
      new FormatError(source, `a ${layer} sized by its input needs ${need} parameter values, but ${source} holds only ${left} more`),
    () => layerFromConfig(modelJson.model),
  );
  const expected = model.stateDict();
  for (const [name, t] of Object.entries(expected)) {
    const got = Object.hasOwn(tensors, name) ? tensors[name] : undefined;
    if (got === undefined) throw new FormatError(source, `tensor '${name}' ${fmtShape(t.shape)} is missing`);
    if (got.shape.length !== t.shape.length || got.shape.some((d, i) => d !== t.shape[i])) {
      throw new FormatError(
        source,
        `tensor '${name}' has shape ${fmtShape(got.shape)} but the model in model.json needs ${fmtShape(t.shape)}`,
      );
    }
    if (got.dtype !== t.dtype) throw new FormatError(source, `tensor '${name}' is ${got.dtype} but the model needs ${t.dtype}`);
  }
  for (const name of Object.keys(tensors)) {
    if (!Object.hasOwn(expected, name))
      throw new FormatError(source, `tensor ${quoteName(name)} does not belong to the model in model.json`);
  }
  for (const [name, t] of Object.entries(tensors)) {
    const problem = tensorValuesProblem(name, t);
    if (problem !== null) throw new FormatError(source, problem);
  }
  model.loadStateDict(tensors);
  if (model instanceof Sequential && modelJson.trainingConfig) {
    const tc = modelJson.trainingConfig;
    if (
      tc === null ||
      typeof tc !== 'object' ||
      typeof tc.optimizer !== 'string' ||
      typeof tc.loss !== 'string' ||
      !Array.isArray(tc.metrics) ||
      !tc.metrics.every((m) => typeof m === 'string')
    ) {
      throw new FormatError('model.json', 'trainingConfig must be { optimizer, loss, metrics } with names as strings');
    }
    try {
      model.compile({ optimizer: tc.optimizer as 'adam', loss: tc.loss, metrics: tc.metrics });
    } catch (e) {
      // Without @bp/optim or @bp/losses imported the names cannot resolve: the model still loads and predicts.
      if (e instanceof NotAvailableError) return model as unknown as M;
      throw new FormatError('model.json', `trainingConfig: ${(e as Error).message}`);
    }
  }
  return model as M;
}
