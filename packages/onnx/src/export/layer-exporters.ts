/**
 * How each bp layer becomes ONNX nodes: one entry per layer type (the
 * `layerType` a layer reports, which survives minification). Adding a layer
 * to the exporter is adding one entry here, or calling
 * {@link registerOnnxExporter} from outside the package.
 */
import { activationByName } from '@bp/layers';
import type {
  AvgPool2d,
  BatchNorm1d,
  Conv2d,
  Dense,
  Flatten,
  GELU,
  LeakyReLU,
  Linear,
  MaxPool2d,
  Module,
  Softmax,
  LogSoftmax,
  Dropout,
} from '@bp/layers';
import { ArgumentError, fmtShape } from '@bp/tensor';
import type { Normalize } from '../normalize.js';
import { exportEmbedding, exportLayerNorm, gptExporter } from './gpt-exporters.js';
import { type Attr, type GraphBuilder, float, int, ints, str } from './graph-builder.js';

/** What a layer exporter gets: the layer, where it sits, and its input. */
export interface LayerExportContext {
  /** The graph being built: add initializers and nodes to it. */
  graph: GraphBuilder;
  /** The layer's dotted path in the model (`'3'`, `'features.0'`), used for node and initializer names. */
  path: string;
  /** The name of the ONNX value the layer reads. */
  input: string;
  /** The layer's input shape for a batch of one (the batch axis is dynamic in the graph). */
  inputShape: number[];
  /** The layer's output shape for a batch of one. */
  outputShape: number[];
  /** The target opset version. */
  opset: number;
  /** Exports another layer at the same place (used by `Dense` for its activation). */
  exportLayer(layer: Module, input: string): string;
}

/** Turns one layer into ONNX nodes and returns the name of the value it outputs. */
export type LayerExporter = (layer: Module, ctx: LayerExportContext) => string;

/** A node name for `op` of the layer at `path` (PyTorch's exporter style: `/3/Gemm`). */
function nodeName(ctx: LayerExportContext, op: string): string {
  return `/${ctx.path}/${op}`;
}

/** A single-input op with attributes. */
function unary(op: string, attrs: (layer: Module) => Record<string, Attr> = () => ({})): LayerExporter {
  return (layer, ctx) => ctx.graph.addNode(nodeName(ctx, op), op, [ctx.input], attrs(layer));
}

function exportLinear(layer: Module, ctx: LayerExportContext): string {
  const l = layer as Linear;
  const { graph, path } = ctx;
  const w = graph.addFloat(`${path}.weight`, l.weight.dataSync(), l.weight.shape);
  const b = l.bias ? graph.addFloat(`${path}.bias`, l.bias.dataSync(), l.bias.shape) : null;
  if (ctx.inputShape.length === 2) {
    // y = x W^T + b in one node, with the weight in PyTorch's [out, in] layout.
    return graph.addNode(nodeName(ctx, 'Gemm'), 'Gemm', b ? [ctx.input, w, b] : [ctx.input, w], { transB: int(1) });
  }
  // Inputs [..., in]: MatMul broadcasts over the leading axes; the transpose of a constant folds away in runtimes.
  const wt = graph.addNode(nodeName(ctx, 'Transpose'), 'Transpose', [w], { perm: ints([1, 0]) });
  const y = graph.addNode(nodeName(ctx, 'MatMul'), 'MatMul', [ctx.input, wt]);
  return b ? graph.addNode(nodeName(ctx, 'Add'), 'Add', [y, b]) : y;
}

function exportDense(layer: Module, ctx: LayerExportContext): string {
  const y = exportLinear(layer, ctx);
  // A Dense used on its own still applies its activation (inside a Sequential it is a layer of its own).
  const act = activationByName((layer as Dense).activation);
  return act ? ctx.exportLayer(act, y) : y;
}

/**
 * ONNX `pads` ([top, left, bottom, right]) of a Conv2d: its numbers on both
 * sides, none for 'valid', and PyTorch's split for 'same' (the smaller half first).
 */
export function conv2dPads(c: Conv2d): number[] {
  if (c.padding === 'valid') return [0, 0, 0, 0];
  if (c.padding === 'same') {
    const th = c.dilation[0] * (c.kernelSize[0] - 1);
    const tw = c.dilation[1] * (c.kernelSize[1] - 1);
    return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
  }
  const [ph, pw] = c.padding;
  return [ph, pw, ph, pw];
}

function exportConv2d(layer: Module, ctx: LayerExportContext): string {
  const c = layer as Conv2d;
  const { graph, path } = ctx;
  const w = graph.addFloat(`${path}.weight`, c.weight.dataSync(), c.weight.shape);
  const inputs = [ctx.input, w];
  if (c.bias) inputs.push(graph.addFloat(`${path}.bias`, c.bias.dataSync(), c.bias.shape));
  return graph.addNode(nodeName(ctx, 'Conv'), 'Conv', inputs, {
    kernel_shape: ints(c.kernelSize),
    strides: ints(c.stride),
    pads: ints(conv2dPads(c)),
    dilations: ints(c.dilation),
    group: int(c.groups),
  });
}

function exportMaxPool2d(layer: Module, ctx: LayerExportContext): string {
  const p = layer as MaxPool2d;
  const [ph, pw] = p.padding;
  return ctx.graph.addNode(nodeName(ctx, 'MaxPool'), 'MaxPool', [ctx.input], {
    kernel_shape: ints(p.kernelSize),
    strides: ints(p.stride),
    pads: ints([ph, pw, ph, pw]),
    dilations: ints(p.dilation),
    ceil_mode: int(p.ceilMode ? 1 : 0),
  });
}

function exportAvgPool2d(layer: Module, ctx: LayerExportContext): string {
  const p = layer as AvgPool2d;
  if (p.divisorOverride !== null) {
    throw new ArgumentError(
      'exportOnnx',
      `AvgPool2d at '${ctx.path}' has divisorOverride ${p.divisorOverride}, which ONNX AveragePool does not have`,
    );
  }
  const [ph, pw] = p.padding;
  return ctx.graph.addNode(nodeName(ctx, 'AveragePool'), 'AveragePool', [ctx.input], {
    kernel_shape: ints(p.kernelSize),
    strides: ints(p.stride),
    pads: ints([ph, pw, ph, pw]),
    ceil_mode: int(p.ceilMode ? 1 : 0),
    count_include_pad: int(p.countIncludePad ? 1 : 0),
  });
}

/** GELU: ONNX's Gelu from opset 20; before it, the formula in basic ops (which `importOnnx` does not read back). */
function exportGELU(layer: Module, ctx: LayerExportContext): string {
  const approximate = (layer as GELU).approximate;
  const { graph } = ctx;
  if (ctx.opset >= 20) return graph.addNode(nodeName(ctx, 'Gelu'), 'Gelu', [ctx.input], { approximate: str(approximate) });
  const c = (name: string, v: number) => graph.addFloat(`/${ctx.path}/${name}`, [v], []);
  let inner: string;
  if (approximate === 'tanh') {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    const cube = graph.addNode(nodeName(ctx, 'Pow'), 'Pow', [ctx.input, c('three', 3)]);
    const scaled = graph.addNode(nodeName(ctx, 'Mul_cube'), 'Mul', [cube, c('k', 0.044715)]);
    const sum = graph.addNode(nodeName(ctx, 'Add_cube'), 'Add', [ctx.input, scaled]);
    const arg = graph.addNode(nodeName(ctx, 'Mul_arg'), 'Mul', [sum, c('sqrt_2_over_pi', Math.sqrt(2 / Math.PI))]);
    inner = graph.addNode(nodeName(ctx, 'Tanh'), 'Tanh', [arg]);
  } else {
    // 0.5 x (1 + erf(x / sqrt 2))
    const arg = graph.addNode(nodeName(ctx, 'Div'), 'Div', [ctx.input, c('sqrt_2', Math.SQRT2)]);
    inner = graph.addNode(nodeName(ctx, 'Erf'), 'Erf', [arg]);
  }
  const onePlus = graph.addNode(nodeName(ctx, 'Add'), 'Add', [inner, c('one', 1)]);
  const times = graph.addNode(nodeName(ctx, 'Mul'), 'Mul', [ctx.input, onePlus]);
  return graph.addNode(nodeName(ctx, 'Mul_half'), 'Mul', [times, c('half', 0.5)]);
}

/** SiLU as Sigmoid then Mul, the sigmoid first so `importOnnx` reads the pair back as one SiLU. */
function exportSiLU(layer: Module, ctx: LayerExportContext): string {
  const s = ctx.graph.addNode(nodeName(ctx, 'Sigmoid'), 'Sigmoid', [ctx.input]);
  return ctx.graph.addNode(nodeName(ctx, 'Mul'), 'Mul', [s, ctx.input]);
}

function exportFlatten(layer: Module, ctx: LayerExportContext): string {
  const f = layer as Flatten;
  const rank = ctx.inputShape.length;
  const start = f.startDim < 0 ? f.startDim + rank : f.startDim;
  const end = f.endDim < 0 ? f.endDim + rank : f.endDim;
  if (start === 0) {
    throw new ArgumentError(
      'exportOnnx',
      `Flatten at '${ctx.path}' collapses the batch axis (startDim ${f.startDim}); the exported graph keeps the batch size dynamic`,
    );
  }
  // ONNX Flatten always gives a 2-D result: [n, everything else].
  if (start === 1 && end === rank - 1) return ctx.graph.addNode(nodeName(ctx, 'Flatten'), 'Flatten', [ctx.input], { axis: int(1) });
  // Any other range: a Reshape to the per-example shape, batch axis copied (0) from the input.
  const shape = ctx.graph.addInt64(`/${ctx.path}/shape`, [0, ...ctx.outputShape.slice(1)], [ctx.outputShape.length]);
  return ctx.graph.addNode(nodeName(ctx, 'Reshape'), 'Reshape', [ctx.input, shape]);
}

function exportDropout(layer: Module, ctx: LayerExportContext): string {
  // Without its training_mode input, ONNX Dropout is the identity: the eval form. ONNX wants a
  // ratio below 1: Dropout(1) (also the identity in eval) goes out as the largest float32 below 1.
  const ratio = ctx.graph.addFloat(`/${ctx.path}/ratio`, [Math.min((layer as Dropout).p, 1 - 2 ** -24)], []);
  return ctx.graph.addNode(nodeName(ctx, 'Dropout'), 'Dropout', [ctx.input, ratio]);
}

function exportBatchNorm1d(layer: Module, ctx: LayerExportContext): string {
  const bn = layer as BatchNorm1d;
  const { graph, path } = ctx;
  if (!bn.trackRunningStats) {
    throw new ArgumentError(
      'exportOnnx',
      `${layer.layerType} at '${path}' has no running statistics (trackRunningStats: false), so it has no eval form to export`,
    );
  }
  const c = bn.numFeatures;
  const scale = bn.weight
    ? graph.addFloat(`${path}.weight`, bn.weight.dataSync(), [c])
    : graph.addFloat(`/${path}/scale`, new Float32Array(c).fill(1), [c]);
  const shift = bn.bias
    ? graph.addFloat(`${path}.bias`, bn.bias.dataSync(), [c])
    : graph.addFloat(`/${path}/shift`, new Float32Array(c), [c]);
  const mean = graph.addFloat(`${path}.running_mean`, bn.runningMean!.dataSync(), [c]);
  const variance = graph.addFloat(`${path}.running_var`, bn.runningVar!.dataSync(), [c]);
  return graph.addNode(nodeName(ctx, 'BatchNormalization'), 'BatchNormalization', [ctx.input, scale, shift, mean, variance], {
    epsilon: float(bn.eps),
  });
}

function exportNormalize(layer: Module, ctx: LayerExportContext): string {
  const n = layer as Normalize;
  const rank = ctx.inputShape.length;
  const c = n.channels;
  if (c !== null && ctx.inputShape[1] !== c) {
    throw new ArgumentError(
      'exportOnnx',
      `Normalize at '${ctx.path}' has ${c} per-channel values but its input is ${fmtShape(ctx.inputShape)}`,
    );
  }
  const dims = c === null ? [] : [c, ...new Array<number>(Math.max(0, rank - 2)).fill(1)];
  const mean = ctx.graph.addFloat(`/${ctx.path}/mean`, n.statTensor(n.mean, rank).dataSync(), dims);
  const std = ctx.graph.addFloat(`/${ctx.path}/std`, n.statTensor(n.std, rank).dataSync(), dims);
  const centred = ctx.graph.addNode(nodeName(ctx, 'Sub'), 'Sub', [ctx.input, mean]);
  return ctx.graph.addNode(nodeName(ctx, 'Div'), 'Div', [centred, std]);
}

const BUILTIN_EXPORTERS: Record<string, LayerExporter> = {
  Linear: exportLinear,
  Dense: exportDense,
  Conv2d: exportConv2d,
  MaxPool2d: exportMaxPool2d,
  AvgPool2d: exportAvgPool2d,
  GELU: exportGELU,
  SiLU: exportSiLU,
  Flatten: exportFlatten,
  Dropout: exportDropout,
  BatchNorm1d: exportBatchNorm1d,
  // The same node: ONNX's BatchNormalization takes [n, c, ...] of any rank.
  BatchNorm2d: exportBatchNorm1d,
  Normalize: exportNormalize,
  Embedding: exportEmbedding,
  LayerNorm: exportLayerNorm,
  GPT: gptExporter((type) => exporters.get(type)),
  ReLU: unary('Relu'),
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  LeakyReLU: unary('LeakyRelu', (l) => ({ alpha: float((l as LeakyReLU).negativeSlope) })),
  Softmax: unary('Softmax', (l) => ({ axis: int((l as Softmax).axis) })),
  LogSoftmax: unary('LogSoftmax', (l) => ({ axis: int((l as LogSoftmax).axis) })),
};

const exporters = new Map<string, LayerExporter>(Object.entries(BUILTIN_EXPORTERS));

/**
 * Teaches `exportOnnx` a layer type: `exporter` adds the layer's nodes to
 * the graph and returns the name of its output. Replaces an existing entry.
 *
 * @example
 * registerOnnxExporter('Swish', (layer, ctx) => {
 *   const s = ctx.graph.addNode(`/${ctx.path}/Sigmoid`, 'Sigmoid', [ctx.input]);
 *   return ctx.graph.addNode(`/${ctx.path}/Mul`, 'Mul', [ctx.input, s]);
 * });
 */
export function registerOnnxExporter(layerType: string, exporter: LayerExporter): void {
  if (typeof layerType !== 'string' || layerType === '')
    throw new ArgumentError('registerOnnxExporter', 'layerType must be a non-empty string');
  if (typeof exporter !== 'function') throw new ArgumentError('registerOnnxExporter', `the exporter of '${layerType}' must be a function`);
  exporters.set(layerType, exporter);
}

/** The exporter of a layer type, or undefined. */
export function exporterFor(layerType: string): LayerExporter | undefined {
  return exporters.get(layerType);
}

/** The layer types `exportOnnx` knows, sorted. */
export function exportableLayerTypes(): string[] {
  return [...exporters.keys()].sort();
}
