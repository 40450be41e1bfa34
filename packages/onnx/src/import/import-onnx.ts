import {
  AvgPool2d,
  Conv2d,
  Embedding,
  type LayerConfig,
  Linear,
  MaxPool2d,
  type Module,
  Sequential,
  checkArchitectureSize,
  layerFromConfig,
  weightValuesProblem,
} from '@bp/layers';
import { noGrad } from '@bp/autograd';
import { ArgumentError, FormatError, type Tensor, fmtShape, tensor, zeros } from '@bp/tensor';
import { shapesEqual } from '@bp/tensor/internal';
import { exportOnnx } from '../export/export-onnx.js';
import { ARCHITECTURE_KEY } from '../metadata.js';
import { AttributeType, DataType, type ModelProto, type NodeProto, decodeModel, int64 } from '../proto/onnx.js';
import { type Constant, readTensor, shortestFloat32, shown } from './constants.js';
import { type NodeImportContext, attribute, importableOpTypes, importerFor } from './node-importers.js';

/** The opsets whose semantics for the ops bp reads are the ones the importers implement. */
const MIN_OPSET = 13;
const MAX_OPSET = 23;

/** Options of {@link importOnnx}. */
export interface ImportOnnxOptions {
  /** The file's name, used in error messages (default `'model.onnx'`). */
  source?: string;
}

/**
 * Reads an ONNX model into a bp `Sequential` with its weights, in eval mode.
 * The graph must be a chain of the ops bp has layers for (Gemm or
 * MatMul[+Add], Conv, MaxPool, Flatten, Relu, Sigmoid, Tanh, LeakyRelu,
 * Softmax, LogSoftmax, Dropout, BatchNormalization, Identity, Sub + Div
 * as `Normalize`, Gather of a constant table at the ids as `Embedding`,
 * LayerNormalization as `LayerNorm`) in the default domain, opset 13 to 23; anything else is
 * refused with a `FormatError` naming the node and its op type. A corrupt
 * or truncated file is refused with a `FormatError` naming the file, and so
 * is one that would decode into more protobuf messages than any model bp
 * reads has (over a million), before it is decoded.
 * Importing only reads data: nothing in the file is executed, and external
 * data files are never opened.
 *
 * A file that `exportOnnx` wrote for a model that is not a chain (a GPT, with
 * its attention and residual paths) carries bp's architecture as metadata
 * (`bp.architecture`, the JSON of `layerToConfig`): such a model is rebuilt
 * from it, as `load` rebuilds a saved model, inside a one-layer `Sequential`
 * (`model.at(0)` is the GPT), and every weight is read from the graph's
 * initializers by its state-dict name.
 *
 * @example
 * const model = importOnnx(await readFile('model.onnx'), { source: 'model.onnx' });
 * model.forward(x);
 */
export function importOnnx(bytes: Uint8Array | ArrayBuffer, options: ImportOnnxOptions = {}): Sequential {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('importOnnx', `options must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  const source = options.source ?? 'model.onnx';
  try {
    return importChain(bytes, options);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    // Not a chain: a model bp exported with its architecture is rebuilt from it.
    const model = decodeModel(bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes, source);
    const arch = (model.metadata_props ?? []).find((p) => p.key === ARCHITECTURE_KEY)?.value;
    if (arch === undefined) throw e;
    return fromArchitecture(arch, model, source, e, bytes.byteLength);
  }
}

/** The most parameter values a rebuilt architecture may declare (as `load` allows). */
const MAX_PARAMETERS = 1e8;

function fromArchitecture(json: string, file: ModelProto, source: string, chainError: FormatError, fileBytes: number): Sequential {
  let config: unknown;
  try {
    config = JSON.parse(json);
  } catch {
    throw new FormatError(source, `its ${ARCHITECTURE_KEY} metadata is not valid JSON`);
  }
  // A chain of layers is read from its graph alone (the error above says what is wrong with it).
  if (config !== null && typeof config === 'object' && (config as { type?: unknown }).type === 'Sequential') throw chainError;
  checkArchitectureSize(config, MAX_PARAMETERS, source, fileBytes);
  const initializers = file.graph?.initializer ?? [];
  let module: Module;
  try {
    module = layerFromConfig(config as LayerConfig);
  } catch (e) {
    throw new FormatError(source, `its ${ARCHITECTURE_KEY} metadata does not describe a bp model: ${(e as Error).message}`);
  }
  const byName = new Map<string, Constant>();
  for (const [i, t] of initializers.entries()) byName.set(t.name ?? '', readTensor(t, source, `initializer ${shown(t.name || `#${i}`)}`));
  const sd: Record<string, Tensor> = {};
  for (const [name, param] of Object.entries(module.stateDict())) {
    const exact = byName.get(name);
    // Same count but other dims: ONNX Runtime would read the graph with those dims, so bp must not reshape them silently.
    if (exact && !shapesEqual(exact.dims, param.shape)) {
      throw new FormatError(
        source,
        `initializer ${shown(name)} has dims [${exact.dims.join(', ')}] but the parameter of its ${ARCHITECTURE_KEY} metadata has shape ${fmtShape(param.shape)}`,
      );
    }
    const values = weightFor(name, param.shape, byName);
    if (values === null) throw new FormatError(source, `has no initializer for the parameter ${shown(name)} ${fmtShape(param.shape)}`);
    checkWeightValues(values, name, byName.get(name)?.values === values, source);
    sd[name] = tensor(values, { shape: param.shape.slice(), dtype: param.dtype });
  }
  module.loadStateDict(sd);
  module.eval();
  checkGraphMatches(module, file, source);
  return new Sequential([module]).eval();
}

/**
 * Refuses, as `load` does, a NaN or infinite weight, and a negative running variance (either
 * makes the outputs NaN). `exact` says the values are the initializer named `name`, else they
 * were assembled from its pieces.
 */
function checkWeightValues(values: Float32Array | number[], name: string, exact: boolean, source: string): void {
  const problem = weightValuesProblem(values, /(^|\.)running_var$/.test(name));
  if (problem !== null) {
    throw new FormatError(
      source,
      `${exact ? `initializer ${shown(name)}` : `the initializers of the parameter ${shown(name)}`} ${problem}`,
    );
  }
}

/**
 * The graph must be exactly what `exportOnnx` writes for the rebuilt model (same nodes, in order,
 * with the same inputs, outputs and attributes): the metadata never stands in for a graph that
 * says something else.
 */
function checkGraphMatches(module: Module, file: ModelProto, source: string): void {
  const graph = file.graph!;
  const main = (file.opset_import ?? []).find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  const input = (graph.input ?? [])[0];
  const dims = input?.type?.tensor_type?.shape?.dim ?? [];
  const inputShape = dims.slice(1).map((d) => (d.dim_param ? -1 : int64(d.dim_value)));
  const mismatch = () =>
    new FormatError(source, `its graph is not the one bp writes for its ${ARCHITECTURE_KEY} metadata (was it edited?)`);
  if (!main || inputShape.some((d) => !Number.isSafeInteger(d) || d < 1)) throw mismatch();
  let again: ModelProto;
  try {
    again = decodeModel(
      exportOnnx(module, {
        opset: int64(main.version),
        inputShape,
        inputName: input.name ?? 'input',
        outputName: (graph.output ?? [])[0]?.name ?? 'output',
      }),
      source,
    );
  } catch {
    throw mismatch();
  }
  if (canonicalNodes(again.graph?.node ?? []) !== canonicalNodes(graph.node ?? [])) throw mismatch();
}

/** A graph's nodes as comparable text (names, op types, edges and attribute values). */
function canonicalNodes(nodes: NodeProto[]): string {
  return JSON.stringify(nodes, (_k, v: unknown) =>
    v instanceof Uint8Array
      ? Array.from(v)
      : typeof v === 'bigint'
        ? String(v)
        : v !== null && typeof v === 'object' && 'low' in v && 'high' in v
          ? String(int64(v as never))
          : v,
  );
}

/**
 * The values of the parameter `name` of `shape` from the initializers: by its name, or rebuilt
 * from the pieces the exporter wrote (attention's projections split per q, k, v and transposed).
 */
function weightFor(name: string, shape: number[], byName: Map<string, Constant>): Float32Array | number[] | null {
  const size = shape.reduce((a, b) => a * b, 1);
  const exact = byName.get(name);
  if (exact && exact.values.length === size) return exact.values;
  const parts = ['q', 'k', 'v'];
  if (name.endsWith('in_proj_weight') && shape.length === 2 && shape[0] % 3 === 0) {
    const c = shape[0] / 3;
    const k = shape[1];
    const out = new Float32Array(size);
    for (let p = 0; p < 3; p++) {
      const t = byName.get(`${name}.${parts[p]}_t`);
      if (!t || t.values.length !== c * k) return null;
      // Stored transposed ([in, out]) for MatMul: back to PyTorch's [out, in] rows.
      for (let i = 0; i < c; i++) for (let j = 0; j < k; j++) out[(p * c + i) * k + j] = t.values[j * c + i];
    }
    return out;
  }
  if (name.endsWith('in_proj_bias') && shape.length === 1 && shape[0] % 3 === 0) {
    const c = shape[0] / 3;
    const out = new Float32Array(size);
    for (let p = 0; p < 3; p++) {
      const t = byName.get(`${name}.${parts[p]}`);
      if (!t || t.values.length !== c) return null;
      out.set(t.values, p * c);
    }
    return out;
  }
  return null;
}

function importChain(bytes: Uint8Array | ArrayBuffer, options: ImportOnnxOptions = {}): Sequential {
  const source = options.source ?? 'model.onnx';
  if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
  if (!(bytes instanceof Uint8Array))
    throw new ArgumentError('importOnnx', `expected the file's bytes as a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  if (bytes.length === 0) throw new FormatError(source, 'is empty');
  const model = decodeModel(bytes, source);
  const graph = model.graph;
  if (!graph || (graph.node ?? []).length === 0) throw new FormatError(source, 'has no graph (is it an ONNX model?)');
  const opsets = model.opset_import ?? [];
  const main = opsets.find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  const opset = main ? int64(main.version) : 0;
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new FormatError(source, `uses opset ${opset} of the ONNX domain; bp reads opsets ${MIN_OPSET} to ${MAX_OPSET}`);
  }
  if ((graph.sparse_initializer ?? []).length > 0) throw new FormatError(source, 'has sparse initializers, which bp does not read');

  const constants = new Map<string, Constant>();
  for (const [i, t] of (graph.initializer ?? []).entries()) {
    constants.set(t.name ?? '', readTensor(t, source, `initializer ${shown(t.name || `#${i}`)}`));
  }
  const inputs = (graph.input ?? []).map((v) => v.name ?? '').filter((n) => !constants.has(n));
  if (inputs.length !== 1)
    throw new FormatError(source, `has ${inputs.length} graph inputs besides its weights; bp reads models with exactly one`);
  const outputs = graph.output ?? [];
  if (outputs.length !== 1) throw new FormatError(source, `has ${outputs.length} graph outputs; bp reads models with exactly one`);

  // Follow shapes with a batch-of-one sample when the input has fixed per-example dims (Reshape needs them).
  const inputInfo = (graph.input ?? []).find((v) => v.name === inputs[0]);
  const dims = inputInfo?.type?.tensor_type?.shape?.dim ?? [];
  // Integer ids (a model that starts with an Embedding): the sample is int32, as bp's Embedding takes.
  const elemType = inputInfo?.type?.tensor_type?.elem_type;
  const tokenIds = elemType === DataType.INT64 || elemType === DataType.INT32;
  const perExample = dims.slice(1).map((d) => (d.dim_param ? -1 : int64(d.dim_value)));
  let sample: Tensor | null =
    dims.length >= 2 && perExample.every((d) => Number.isSafeInteger(d) && d > 0) && perExample.reduce((a, b) => a * b, 1) <= 1 << 24
      ? zeros([1, ...perExample], { dtype: tokenIds ? 'int32' : 'float32' })
      : null;

  const nodes = graph.node ?? [];
  const layers: Module[] = [];
  let current = inputs[0];
  // Following shapes stops once the layers so far have cost this much (a long chain of cheap nodes adds up).
  let sampleWorkLeft = MAX_SAMPLE_TOTAL_WORK;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    const op = node.op_type ?? '';
    const where = `node ${shown(node.name || `#${i}`)} (${shown(op)})`;
    if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') {
      throw new FormatError(source, `${where} is in domain ${shown(node.domain)}; bp reads only standard ONNX ops`);
    }
    const outs = node.output ?? [];
    if (outs.length === 0 || !outs[0]) throw new FormatError(source, `${where} has no output`);
    if (foldConstant(node, constants, source, where)) continue;
    const ins = node.input ?? [];
    // Gather reads the chain as its indices (input 1); its data (input 0) is the embedding table.
    if ((op === 'Gather' ? ins[1] : ins[0]) !== current) {
      throw new FormatError(
        source,
        `${where} does not read the output of the layer before it; bp imports a chain of layers (a Sequential), not a general graph`,
      );
    }
    const importer = importerFor(op);
    if (!importer) {
      throw new FormatError(source, `${where} is not supported; bp imports these op types: ${importableOpTypes().join(', ')}`);
    }
    let consumed: NodeProto | null = null;
    let consumedAt = i;
    /**
     * The node after this one that reads its output, and its index. Constant nodes in between are
     * folded on the way: PyTorch writes the constant a node reads right before it, so
     * `(x - mean) / std` comes out as Constant, Sub, Constant, Div.
     */
    const readerAfter = (): { node: NodeProto; at: number } | undefined => {
      let j = i + 1;
      while (j < nodes.length && nodes[j].op_type === 'Constant') {
        foldConstant(nodes[j], constants, source, `node ${shown(nodes[j].name || `#${j}`)} (Constant)`);
        j++;
      }
      const next = nodes[j];
      const ins = next?.input ?? [];
      // Add and Mul commute: PyTorch writes a Linear's bias as Add(bias, x) and SiLU as Mul(x, sigmoid).
      const reads = ins[0] === outs[0] || ((next?.op_type === 'Add' || next?.op_type === 'Mul') && ins.length === 2 && ins[1] === outs[0]);
      return next && reads ? { node: next, at: j } : undefined;
    };
    const constantOf = (n: NodeProto, k: number, w: string): Constant | undefined => {
      const name = (n.input ?? [])[k];
      if (!name) return undefined;
      const c = constants.get(name);
      if (!c)
        throw new FormatError(source, `${w}: input ${k} (${shown(name)}) must be a constant (a weight), but it is computed by the graph`);
      return c;
    };
    const ctx: NodeImportContext = {
      source,
      inputShape: sample ? sample.shape.slice() : null,
      where,
      constant: (k) => constantOf(node, k, where),
      peek: () => readerAfter()?.node,
      consume: (k) => {
        const next = readerAfter();
        if (!next) throw new FormatError(source, `${where} expects a following node that reads its output`);
        consumed = next.node;
        consumedAt = next.at;
        return k === undefined
          ? undefined
          : constantOf(next.node, k, `node ${shown(next.node.name || `#${next.at}`)} (${shown(next.node.op_type)})`);
      },
      int: (name, dflt) => {
        const a = attribute(node, name, AttributeType.INT, source, where);
        return a ? int64(a.i) : dflt;
      },
      ints: (name, dflt) => {
        const a = attribute(node, name, AttributeType.INTS, source, where);
        return a ? (a.ints ?? []).map(int64) : dflt;
      },
      str: (name, dflt) => {
        const a = attribute(node, name, AttributeType.STRING, source, where);
        return a ? new TextDecoder('utf-8', { fatal: false }).decode(a.s ?? new Uint8Array()) : dflt;
      },
      float: (name, dflt) => {
        const a = attribute(node, name, AttributeType.FLOAT, source, where);
        return a ? shortestFloat32(a.f ?? 0) : dflt;
      },
      refuse: (why) => {
        throw new FormatError(source, `${where} ${why}`);
      },
    };
    let layer: Module | null;
    try {
      layer = importer(node, ctx);
    } catch (e) {
      if (e instanceof FormatError) throw e;
      // A layer constructor refusing a value from the file: say which node it came from.
      throw new FormatError(source, `${where} cannot be built as a bp layer: ${(e as Error).message}`);
    }
    if (layer) {
      layers.push(layer);
      const cost = sample ? sampleCost(layer, sample.shape) : 0;
      if (sample && !(cost <= MAX_SAMPLE_WORK && cost <= sampleWorkLeft && sampleOutputBound(layer, sample.shape) <= MAX_SAMPLE_VALUES)) {
        sample = null;
      }
      sampleWorkLeft -= cost;
      if (sample) {
        const x = sample;
        try {
          sample = noGrad(() => layer.eval().forward(x));
        } catch (e) {
          throw new FormatError(source, `${where} does not fit the shape it receives: ${(e as Error).message}`);
        }
      }
    }
    current = outs[0];
    if (consumed) {
      // On past the node it consumed (and the constants folded before it).
      i = consumedAt;
      current = ((consumed as NodeProto).output ?? [])[0] ?? '';
    }
  }
  if (outputs[0].name !== current) {
    throw new FormatError(source, `the graph output ${shown(outputs[0].name)} is not the output of its last layer`);
  }
  return new Sequential(layers).eval();
}

/** The most multiply-adds (or values computed) spent following shapes through one layer while importing. */
const MAX_SAMPLE_WORK = 1 << 26;
/** The most spent following shapes through the whole chain. */
const MAX_SAMPLE_TOTAL_WORK = 1 << 28;
/** The most values (64 MB of float32, as the sample input) one layer's output may have while following shapes. */
const MAX_SAMPLE_VALUES = 1 << 24;

/** An upper bound of the values `layer` outputs for a batch-of-one input of `shape`. */
function sampleOutputBound(layer: Module, shape: number[]): number {
  const size = shape.reduce((a, b) => a * b, 1);
  if (layer instanceof Conv2d) {
    const [, , h, w] = shape;
    const p = layer.padding;
    const [ph, pw] = p === 'valid' ? [0, 0] : p === 'same' ? [0, 1].map((a) => layer.dilation[a] * (layer.kernelSize[a] - 1)) : p;
    return layer.outChannels * (h + 2 * ph) * (w + 2 * pw);
  }
  if (layer instanceof Linear) return (size / Math.max(1, layer.inFeatures ?? 1)) * layer.outFeatures;
  if (layer instanceof Embedding) return size * layer.embeddingDim;
  // A pooling pads at most half its kernel: at most (h + 1) x (w + 1) windows.
  if (layer instanceof MaxPool2d || layer instanceof AvgPool2d) return 4 * size;
  return size;
}

/**
 * An upper bound of the work of `layer` on a batch-of-one input of `shape`, and of the values it
 * allocates (so a forged file cannot make import slow or take gigabytes).
 */
function sampleCost(layer: Module, shape: number[]): number {
  const size = shape.reduce((a, b) => a * b, 1);
  if (layer instanceof Conv2d) {
    const [, , h, w] = shape;
    const p = layer.padding;
    const [ph, pw] = p === 'valid' ? [0, 0] : p === 'same' ? [0, 1].map((a) => layer.dilation[a] * (layer.kernelSize[a] - 1)) : p;
    return layer.outChannels * (h + 2 * ph) * (w + 2 * pw) * (layer.inChannels / layer.groups) * layer.kernelSize[0] * layer.kernelSize[1];
  }
  if (layer instanceof Linear) return (size / Math.max(1, layer.inFeatures ?? 1)) * layer.outFeatures * (layer.inFeatures ?? 1);
  if (layer instanceof MaxPool2d || layer instanceof AvgPool2d) return size * layer.kernelSize[0] * layer.kernelSize[1];
  // One row of the table per id: a few ids declared in the graph input would otherwise become gigabytes.
  if (layer instanceof Embedding) return size * layer.embeddingDim;
  return size;
}

/** Folds a node computed from constants alone (Constant, a 2-D Transpose of a weight) into `constants`. */
function foldConstant(node: NodeProto, constants: Map<string, Constant>, source: string, where: string): boolean {
  const out = (node.output ?? [])[0];
  if (node.op_type === 'Constant') {
    const a = attribute(node, 'value', AttributeType.TENSOR, source, where);
    if (!a?.t) throw new FormatError(source, `${where} has no tensor 'value'; bp reads only tensor constants`);
    constants.set(out, readTensor(a.t, source, where));
    return true;
  }
  const ins = node.input ?? [];
  if (node.op_type === 'Transpose' && ins.length === 1 && constants.has(ins[0])) {
    const c = constants.get(ins[0])!;
    const perm = attribute(node, 'perm', AttributeType.INTS, source, where)?.ints?.map(int64) ?? [1, 0];
    if (c.dims.length !== 2 || perm.length !== 2 || perm[0] !== 1 || perm[1] !== 0) {
      throw new FormatError(
        source,
        `${where} transposes a constant of shape [${c.dims.join(', ')}] with perm [${perm}]; bp reads only 2-D weight transposes`,
      );
    }
    const [r, k] = c.dims;
    const src = c.values;
    const values = c.values instanceof Float32Array ? new Float32Array(src.length) : new Array<number>(src.length);
    for (let a = 0; a < r; a++) for (let b = 0; b < k; b++) values[b * r + a] = src[a * k + b];
    constants.set(out, { dims: [k, r], values, dataType: c.dataType, what: where });
    return true;
  }
  return false;
}
