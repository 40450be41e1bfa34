import { FormatError, fmtShape } from '@bp/tensor';
import { type Module } from '../module.js';
import { Sequential } from '../sequential.js';
import { layerFromConfig, layerToConfig } from './architecture.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

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

/** Names of integer buffers PyTorch keeps as int64, stored as I64 so `load_state_dict` sees PyTorch's dtype. */
function int64Buffers(model: Module): string[] {
  return model.namedBuffers().filter(([name, b]) => b.dtype === 'int32' && name.endsWith('num_batches_tracked')).map(([name]) => name);
}

/**
 * The model as `{ modelJson, weights }`: the architecture as JSON and the
 * state dict as safetensors bytes. Store them anywhere (IndexedDB, a
 * download) and rebuild with {@link fromMemory}.
 */
export function toMemory(model: Module): ModelArtifacts {
  const modelJson: ModelJson = {
    format: 'bp-model',
    formatVersion: MODEL_FORMAT_VERSION,
    model: layerToConfig(model),
    weights: 'model.safetensors',
  };
  if (model instanceof Sequential && model.compiled) {
    const c = model.compiled;
    if (c.optimizerName && c.lossName && c.metricNames.every((m) => m !== null)) {
      modelJson.trainingConfig = { optimizer: c.optimizerName, loss: c.lossName, metrics: c.metricNames as string[] };
    }
  }
  const weights = encodeSafetensors(model.stateDict(), {
    metadata: { format: 'pt', producer: 'bp' },
    int64: int64Buffers(model),
  });
  return { modelJson, weights };
}

function parseModelJson(value: ModelJson | string): ModelJson {
  let json: unknown = value;
  if (typeof value === 'string') {
    try {
      json = JSON.parse(value);
    } catch (e) {
      throw new FormatError('model.json', `not valid JSON: ${(e as Error).message}`);
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

/**
 * Rebuilds a model saved by {@link toMemory} (or `save`): the layers from
 * the JSON, then the weights. Every tensor the model needs must be in the
 * weights with the right shape, and nothing else may be, or a `FormatError`
 * names the tensor.
 */
export function fromMemory<M extends Module = Sequential>(artifacts: { modelJson: ModelJson | string; weights: Uint8Array }): M {
  const modelJson = parseModelJson(artifacts.modelJson);
  const source = typeof modelJson.weights === 'string' ? modelJson.weights : 'model.safetensors';
  const { tensors } = decodeSafetensors(artifacts.weights, { source });
  const model = layerFromConfig(modelJson.model);
  const expected = model.stateDict();
  for (const [name, t] of Object.entries(expected)) {
    const got = tensors[name];
    if (got === undefined) throw new FormatError(source, `tensor '${name}' ${fmtShape(t.shape)} is missing`);
    if (got.shape.length !== t.shape.length || got.shape.some((d, i) => d !== t.shape[i])) {
      throw new FormatError(source, `tensor '${name}' has shape ${fmtShape(got.shape)} but the model in model.json needs ${fmtShape(t.shape)}`);
    }
    if (got.dtype !== t.dtype) throw new FormatError(source, `tensor '${name}' is ${got.dtype} but the model needs ${t.dtype}`);
  }
  for (const name of Object.keys(tensors)) {
    if (!(name in expected)) throw new FormatError(source, `tensor '${name}' does not belong to the model in model.json`);
  }
  model.loadStateDict(tensors);
  if (model instanceof Sequential && modelJson.trainingConfig) {
    const tc = modelJson.trainingConfig;
    model.compile({ optimizer: tc.optimizer as 'adam', loss: tc.loss, metrics: tc.metrics });
  }
  return model as M;
}
