import { noGrad } from '@bp/autograd';
import { Module, Sequential, disguisedBuiltin, layerToConfig } from '@bp/layers';
import { ARCHITECTURE_KEY } from '../metadata.js';
import { ArgumentError, type Tensor, fmtShape, zeros } from '@bp/tensor';
import { checkOptions } from '@bp/tensor/internal';
import { Normalize } from '../normalize.js';
import { DataType, type ModelProto, type ValueInfoProto, encodeModel } from '../proto/onnx.js';
import { GraphBuilder } from './graph-builder.js';
import { type LayerExportContext, exportableLayerTypes, exporterFor } from './layer-exporters.js';

/** The opset versions `exportOnnx` writes, and the IR version each needs (ONNX's versioning table). */
const IR_VERSION_FOR_OPSET: Record<number, number> = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

/** The opset `exportOnnx` writes by default. */
export const DEFAULT_OPSET = 17;

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /**
   * The shape of one example, without the batch axis (as layers'
   * `inputShape`): `[1, 28, 28]` for MNIST images, `[784]` for flat
   * vectors. Defaults to the model's own `inputShape` when it declares one.
   * The graph's input is `[batch, ...inputShape]` with a dynamic batch.
   */
  inputShape?: number[];
  /** ONNX opset version, 17 (default) to 21. */
  opset?: number;
  /** Name of the graph input (default `'input'`). */
  inputName?: string;
  /** Name of the graph output (default `'output'`). */
  outputName?: string;
  /**
   * Puts `(x - mean) / std` in front of the model (a {@link Normalize}
   * layer), so the graph takes raw data, e.g. MNIST pixels in [0, 1] with
   * `{ mean: 0.1307, std: 0.3081 }`. Numbers, or one value per channel.
   */
  normalize?: { mean: number | number[]; std: number | number[] };
  /** Text stored as the model's `doc_string` (default: the model's description). */
  docString?: string;
}

function checkName(what: string, v: unknown): string {
  if (typeof v !== 'string' || v === '')
    throw new ArgumentError('exportOnnx', `${what} must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function tensorType(shape: (number | string)[], elemType: number = DataType.FLOAT): ValueInfoProto['type'] {
  return {
    tensor_type: {
      elem_type: elemType,
      shape: { dim: shape.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) },
    },
  };
}

/**
 * Writes `model` as an ONNX model (protobuf bytes, opset 17 by default)
 * that ONNX Runtime and other ONNX tools run: float32 input
 * `[batch, ...inputShape]` with a dynamic batch, one float32 output. A
 * model that reads token ids (a `GPT`, or a `Sequential` starting with an
 * `Embedding`) takes int64 ids instead; a GPT's `inputShape` defaults to
 * `[blockSize]` and its causal mask is built for that length.
 * Weights are stored under their state-dict names (`0.weight`), Dropout and
 * BatchNorm in their eval form. Containers (`Sequential`, nested or not)
 * are walked layer by layer; a layer without an exporter is refused with
 * an `ArgumentError` naming its type and its path in the model. The model
 * is left as it was (its training/eval mode is restored).
 *
 * @example
 * const bytes = exportOnnx(model, { inputShape: [1, 28, 28], normalize: { mean: 0.1307, std: 0.3081 } });
 * await writeFile('model.onnx', bytes);
 */
export function exportOnnx(model: Module, options: ExportOnnxOptions = {}): Uint8Array {
  if (!(model instanceof Module))
    throw new ArgumentError('exportOnnx', `expected a bp Module, got ${model === null ? 'null' : typeof model}`);
  if (options === null || typeof options !== 'object') throw new ArgumentError('exportOnnx', 'options must be an object');
  // A misspelt option (opsett) would otherwise be ignored without a word.
  checkOptions('exportOnnx', options, ['inputShape', 'opset', 'inputName', 'outputName', 'normalize', 'docString']);
  if (options.docString !== undefined && typeof options.docString !== 'string') {
    throw new ArgumentError('exportOnnx', `docString must be a string, got ${typeof options.docString}`);
  }
  const opset = options.opset ?? DEFAULT_OPSET;
  // A number: the table's keys are strings, so '17' would otherwise pass the lookup.
  const irVersion = typeof opset === 'number' ? IR_VERSION_FOR_OPSET[opset] : undefined;
  if (irVersion === undefined) {
    throw new ArgumentError(
      'exportOnnx',
      `opset ${JSON.stringify(opset)} is not supported; use one of ${Object.keys(IR_VERSION_FOR_OPSET).join(', ')}`,
    );
  }
  const tokens = takesTokenIds(model);
  const inputShape =
    options.inputShape ??
    model.inputShape ??
    (model.layerType === 'GPT' ? [(model as Module & { config: { blockSize: number } }).config.blockSize] : undefined);
  if (!Array.isArray(inputShape) || inputShape.length === 0 || inputShape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new ArgumentError(
      'exportOnnx',
      `inputShape must be the shape of one example without the batch axis (positive integers, e.g. [1, 28, 28]), got ${JSON.stringify(inputShape ?? null)}`,
    );
  }
  const inputName = checkName('inputName', options.inputName ?? 'input');
  const outputName = checkName('outputName', options.outputName ?? 'output');
  if (inputName === outputName) throw new ArgumentError('exportOnnx', `inputName and outputName must differ, both are '${inputName}'`);

  if (tokens && options.normalize !== undefined)
    throw new ArgumentError('exportOnnx', `normalize does not apply to a model that reads token ids (${model.layerType})`);
  const graph = new GraphBuilder([inputName, outputName]);
  const modes = model.namedModules().map(([, m]) => [m, m.training] as const);
  model.eval();
  let output: string;
  let outShape: number[];
  try {
    ({ output, outShape } = noGrad(() => {
      let x: Tensor = zeros([1, ...inputShape], { dtype: tokens ? 'int32' : 'float32' });
      let value = inputName;
      if (options.normalize !== undefined) {
        const { mean, std } = options.normalize ?? {};
        ({ x, value } = exportAt(new Normalize(mean as number, std as number), 'normalize', x, value, graph, opset));
      }
      ({ x, value } = exportAt(model, '', x, value, graph, opset));
      return { output: value, outShape: x.shape };
    }));
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
  if (output === inputName) graph.addNode('/Identity', 'Identity', [inputName]);
  const last = graph.nodes[graph.nodes.length - 1];
  graph.rename(last.output![0], outputName);

  const proto: ModelProto = {
    ir_version: irVersion,
    opset_import: [{ domain: '', version: opset }],
    producer_name: 'bp',
    // The architecture, so that importOnnx rebuilds a model that is not a chain of layers (a GPT).
    metadata_props: [{ key: ARCHITECTURE_KEY, value: JSON.stringify(layerToConfig(model)) }],
    doc_string: options.docString ?? model.toString(),
    graph: {
      name: 'bp',
      node: graph.nodes,
      initializer: graph.initializers,
      input: [{ name: inputName, type: tensorType(['batch', ...inputShape], tokens ? DataType.INT64 : DataType.FLOAT) }],
      output: [{ name: outputName, type: tensorType(['batch', ...outShape.slice(1)]) }],
    },
  };
  return encodeModel(proto);
}

/** Whether `model` reads token ids (a GPT, or an Embedding first): its graph input is then int64. */
function takesTokenIds(model: Module): boolean {
  let first: Module | undefined = model;
  while (first instanceof Sequential) first = first.layers[0];
  return first !== undefined && (first.layerType === 'GPT' || first.layerType === 'Embedding');
}

/** Exports `layer` (at `path`) reading `value`; `x` is a batch-of-one sample used to follow shapes. */
function exportAt(layer: Module, path: string, x: Tensor, value: string, graph: GraphBuilder, opset: number): { x: Tensor; value: string } {
  const disguised = disguisedBuiltin(layer);
  if (disguised !== null) {
    // The built-in's exporter would write the built-in's computation, not this forward's.
    throw new ArgumentError(
      'exportOnnx',
      `layer ${layer.constructor.name || '(anonymous class)'} at ${path === '' ? 'the model itself' : `'${path}'`} extends ${disguised} with a forward of its own, ` +
        `so the ${disguised} exporter would not export what it computes; give it a layerType of its own and register an exporter for it with registerOnnxExporter`,
    );
  }
  if (layer.layerType === 'Sequential' && layer instanceof Sequential) {
    let cur = { x, value };
    layer.layers.forEach((child, i) => {
      cur = exportAt(child, path ? `${path}.${i}` : String(i), cur.x, cur.value, graph, opset);
    });
    return cur;
  }
  const exporter = exporterFor(layer.layerType);
  const where = path === '' ? 'the model itself' : `'${path}'`;
  if (!exporter) {
    throw new ArgumentError(
      'exportOnnx',
      `layer ${layer.layerType} at ${where} has no ONNX exporter; supported: Sequential, ${exportableLayerTypes().join(', ')} (registerOnnxExporter adds one)`,
    );
  }
  let y: Tensor;
  try {
    y = layer.forward(x);
  } catch (e) {
    throw new ArgumentError(
      'exportOnnx',
      `layer ${layer.layerType} at ${where} cannot take input ${fmtShape(x.shape)}: ${(e as Error).message}`,
    );
  }
  const name = path === '' ? layer.layerType : path;
  const ctx: LayerExportContext = {
    graph,
    path: name,
    input: value,
    inputShape: x.shape.slice(),
    outputShape: y.shape.slice(),
    opset,
    exportLayer: (other, input) => {
      const inner = exporterFor(other.layerType);
      if (!inner) throw new ArgumentError('exportOnnx', `layer ${other.layerType} inside ${where} has no ONNX exporter`);
      return inner(other, { ...ctx, input, inputShape: y.shape.slice() });
    },
  };
  return { x: y, value: exporter(layer, ctx) };
}
