/**
 * How each ONNX op becomes a bp layer: one entry per op type. An entry reads
 * the node's attributes and constant inputs and returns the layer with its
 * weights, or null for an op that is the identity in bp (Identity).
 */
import {
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  Dropout,
  Embedding,
  Flatten,
  GELU,
  LayerNorm,
  LeakyReLU,
  Linear,
  LogSoftmax,
  MaxPool2d,
  type Module,
  ReLU,
  SiLU,
  Sigmoid,
  Softmax,
  Tanh,
  MAX_WINDOW_SETTING,
  weightValuesProblem,
} from '@bp/layers';
import { ArgumentError, FormatError, tensor } from '@bp/tensor';
import { Normalize } from '../normalize.js';
import { type AttributeProto, DataType, type NodeProto } from '../proto/onnx.js';
import { type Constant, shortestFloat32 } from './constants.js';

/** What a node importer gets. */
export interface NodeImportContext {
  /** The file's name, for error messages. */
  source: string;
  /** The node's input shape for a batch of one, when the graph input has fixed per-example dims (else null). */
  inputShape: number[] | null;
  /** The node, described for messages: `node "/3/Gemm" (Gemm)`. */
  where: string;
  /** The constant behind input `i` of the node (throws if it is not a constant); undefined when the input is absent. */
  constant(i: number): Constant | undefined;
  /** The next node of the chain when it reads this node's output (for two-node patterns such as MatMul + Add). */
  peek(): NodeProto | undefined;
  /** Takes the peeked node into this layer; returns the constant behind its input `i` (none when `i` is omitted). */
  consume(i?: number): Constant | undefined;
  /** Attribute readers (defaults as ONNX defines them). */
  int(name: string, dflt: number): number;
  ints(name: string, dflt: number[]): number[];
  float(name: string, dflt: number): number;
  str(name: string, dflt: string): string;
  /** Refuses an attribute value bp has no layer for. */
  refuse(why: string): never;
}

/** Turns one node (and possibly the next) into a bp layer. */
export type NodeImporter = (node: NodeProto, ctx: NodeImportContext) => Module | null;

/** Reads an attribute, checking its type. */
export function attribute(node: NodeProto, name: string, type: number, source: string, where: string): AttributeProto | undefined {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  if (!a) return undefined;
  if (a.ref_attr_name)
    throw new FormatError(source, `${where}: attribute '${name}' refers to a function attribute; bp imports plain graphs only`);
  if ((a.type ?? 0) !== type) throw new FormatError(source, `${where}: attribute '${name}' has type ${a.type ?? 0}, expected ${type}`);
  return a;
}

function need(c: Constant | undefined, ctx: NodeImportContext, what: string, rank: number | number[]): Constant {
  const ranks = Array.isArray(rank) ? rank : [rank];
  if (!c) return ctx.refuse(`needs ${what} as a constant`);
  if (c.dataType !== DataType.FLOAT) return ctx.refuse(`${what} must be float32`);
  if (!ranks.includes(c.dims.length)) return ctx.refuse(`${what} has shape [${c.dims.join(', ')}], expected rank ${ranks.join(' or ')}`);
  // As `load` refuses in weights: a NaN or infinite weight only makes every output NaN.
  const problem = weightValuesProblem(c.values);
  if (problem !== null) throw new FormatError(ctx.source, `${ctx.where}: ${c.what ?? what} ${problem}`);
  return c;
}

/**
 * Reads a window attribute (kernel_shape, strides, pads, dilations), refusing a value past
 * {@link MAX_WINDOW_SETTING} as `load` does: a few bytes of pads would otherwise make every
 * forward pass compute gigabytes.
 */
function windowInts(ctx: NodeImportContext, name: string, dflt: number[]): number[] {
  const v = ctx.ints(name, dflt);
  const big = v.find((d) => !(Math.abs(d) <= MAX_WINDOW_SETTING));
  if (big !== undefined) ctx.refuse(`has ${name} [${v.join(', ')}]: ${big} is larger than the ${MAX_WINDOW_SETTING} bp reads`);
  return v;
}

function floatTensor(c: Constant, shape = c.dims) {
  return tensor(c.values as Float32Array, { shape });
}

/** Moves `values` [rows, cols] to [cols, rows]. */
function transpose2d(c: Constant): Constant {
  const [r, k] = c.dims;
  const src = c.values as Float32Array;
  const out = new Float32Array(src.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) out[j * r + i] = src[i * k + j];
  return { dims: [k, r], values: out, dataType: c.dataType };
}

function linearFrom(weight: Constant, bias: Constant | undefined, ctx: NodeImportContext): Linear {
  const [out, inF] = weight.dims;
  if (out === 0 || inF === 0) ctx.refuse(`has an empty weight [${weight.dims.join(', ')}]`);
  let b: Constant | undefined;
  if (bias) {
    b = need(bias, ctx, 'the bias', [1, 2]);
    const n = b.values.length;
    if (n !== out || (b.dims.length === 2 && b.dims[0] !== 1)) ctx.refuse(`has a bias of shape [${b.dims.join(', ')}] for ${out} outputs`);
  }
  const layer = new Linear(inF, out, { bias: b !== undefined });
  layer.loadStateDict(b ? { weight: floatTensor(weight), bias: floatTensor(b, [out]) } : { weight: floatTensor(weight) });
  return layer;
}

function importGemm(node: NodeProto, ctx: NodeImportContext): Module {
  if (ctx.int('transA', 0) !== 0 || ctx.float('alpha', 1) !== 1 || ctx.float('beta', 1) !== 1) {
    ctx.refuse('uses transA, alpha or beta; bp reads Gemm as a Linear layer (x W^T + b)');
  }
  let w = need(ctx.constant(1), ctx, 'the weight (input B)', 2);
  if (ctx.int('transB', 0) === 0) w = transpose2d(w);
  return linearFrom(w, ctx.constant(2), ctx);
}

function importMatMul(node: NodeProto, ctx: NodeImportContext): Module {
  const w = transpose2d(need(ctx.constant(1), ctx, 'the weight (input B)', 2));
  const next = ctx.peek();
  // The bias is Add's other input, on either side.
  const bias = next?.op_type === 'Add' ? ctx.consume((next.input ?? [])[0] === (node.output ?? [])[0] ? 1 : 0) : undefined;
  return linearFrom(w, bias, ctx);
}

/** Conv2d's padding from ONNX pads: equal sides as numbers, or PyTorch's 'same' split (stride 1); else null. */
function convPadding(pads: number[], kernel: number[], dil: number[], strides: number[]): [number, number] | 'same' | null {
  if (pads.length !== 4) return null;
  if (pads[0] === pads[2] && pads[1] === pads[3]) return [pads[0], pads[1]];
  if (strides.some((s) => s !== 1)) return null;
  const same = [0, 1].map((a) => dil[a] * (kernel[a] - 1));
  return pads[0] === Math.floor(same[0] / 2) &&
    pads[1] === Math.floor(same[1] / 2) &&
    pads[2] === same[0] - pads[0] &&
    pads[3] === same[1] - pads[1]
    ? 'same'
    : null;
}

function importConv(node: NodeProto, ctx: NodeImportContext): Module {
  const w = need(ctx.constant(1), ctx, 'the weight (input W)', 4);
  const [outC, inPerGroup, kh, kw] = w.dims;
  const kernel = windowInts(ctx, 'kernel_shape', [kh, kw]);
  const strides = windowInts(ctx, 'strides', [1, 1]);
  const pads = windowInts(ctx, 'pads', [0, 0, 0, 0]);
  const dil = windowInts(ctx, 'dilations', [1, 1]);
  const groups = ctx.int('group', 1);
  if (kernel.length !== 2 || kernel[0] !== kh || kernel[1] !== kw)
    ctx.refuse(`kernel_shape [${kernel}] does not match the weight [${w.dims}]`);
  if (strides.length !== 2) ctx.refuse(`has strides [${strides}]; Conv2d needs two`);
  if (dil.length !== 2) ctx.refuse(`has dilations [${dil}]; Conv2d needs two`);
  if (ctx.str('auto_pad', 'NOTSET') !== 'NOTSET') ctx.refuse(`uses auto_pad ${ctx.str('auto_pad', '')}; bp reads explicit pads`);
  if (!Number.isInteger(groups) || groups < 1 || outC % groups !== 0) ctx.refuse(`has group ${groups} for ${outC} output channels`);
  const padding = convPadding(pads, kernel, dil, strides);
  if (!padding) ctx.refuse(`has pads [${pads}], neither equal on both sides nor PyTorch's 'same'`);
  const b = ctx.constant(2);
  if (b) need(b, ctx, 'the bias', 1);
  if (b && b.dims[0] !== outC) ctx.refuse(`has a bias of ${b.dims[0]} values for ${outC} channels`);
  const layer = new Conv2d(inPerGroup * groups, outC, [kh, kw], {
    stride: [strides[0], strides[1]],
    padding: padding!,
    dilation: [dil[0], dil[1]],
    groups,
    bias: b !== undefined,
  });
  layer.loadStateDict(b ? { weight: floatTensor(w), bias: floatTensor(b) } : { weight: floatTensor(w) });
  return layer;
}

/** kernel_shape, strides and symmetric pads of a 2-D pooling node. */
function poolArgs(node: NodeProto, ctx: NodeImportContext, layer: string) {
  const kernel = windowInts(ctx, 'kernel_shape', []);
  const strides = windowInts(ctx, 'strides', [1, 1]);
  const pads = windowInts(ctx, 'pads', [0, 0, 0, 0]);
  if (kernel.length !== 2) ctx.refuse(`has kernel_shape [${kernel}]; ${layer} needs two sizes`);
  if (ctx.str('auto_pad', 'NOTSET') !== 'NOTSET') ctx.refuse(`uses auto_pad ${ctx.str('auto_pad', '')}; bp reads explicit pads`);
  if (pads.length !== 4 || pads[0] !== pads[2] || pads[1] !== pads[3]) ctx.refuse(`has asymmetric pads [${pads}]`);
  if (strides.length !== 2) ctx.refuse(`has strides [${strides}]; ${layer} needs two`);
  const ceil = ctx.int('ceil_mode', 0);
  if (ceil !== 0 && ceil !== 1) ctx.refuse(`has ceil_mode ${ceil}`);
  return {
    kernel: [kernel[0], kernel[1]] as [number, number],
    stride: [strides[0], strides[1]] as [number, number],
    padding: [pads[0], pads[1]] as [number, number],
    ceilMode: ceil === 1,
  };
}

function importMaxPool(node: NodeProto, ctx: NodeImportContext): Module {
  const a = poolArgs(node, ctx, 'MaxPool2d');
  const dil = windowInts(ctx, 'dilations', [1, 1]);
  if (dil.length !== 2) ctx.refuse(`has dilations [${dil}]; MaxPool2d needs two`);
  if (ctx.int('storage_order', 0) !== 0) ctx.refuse('uses storage_order, which MaxPool2d does not have');
  if ((node.output ?? []).length > 1 && node.output![1]) ctx.refuse('also outputs indices, which bp does not produce');
  try {
    return new MaxPool2d(a.kernel, a.stride, { padding: a.padding, dilation: [dil[0], dil[1]], ceilMode: a.ceilMode });
  } catch (e) {
    return ctx.refuse((e as Error).message);
  }
}

function importAveragePool(node: NodeProto, ctx: NodeImportContext): Module {
  const a = poolArgs(node, ctx, 'AvgPool2d');
  if (ctx.ints('dilations', [1, 1]).some((d) => d !== 1)) ctx.refuse('uses dilations, which AvgPool2d does not have');
  const include = ctx.int('count_include_pad', 0);
  try {
    return new AvgPool2d(a.kernel, a.stride, { padding: a.padding, ceilMode: a.ceilMode, countIncludePad: include === 1 });
  } catch (e) {
    return ctx.refuse((e as Error).message);
  }
}

function importGelu(node: NodeProto, ctx: NodeImportContext): Module {
  const approximate = ctx.str('approximate', 'none');
  if (approximate !== 'none' && approximate !== 'tanh')
    ctx.refuse(`has approximate ${JSON.stringify(approximate).slice(0, 40)}; GELU knows 'none' and 'tanh'`);
  return new GELU({ approximate: approximate as 'none' | 'tanh' });
}

/** Sigmoid, or SiLU when the next node multiplies the sigmoid by the sigmoid's own input. */
function importSigmoid(node: NodeProto, ctx: NodeImportContext): Module {
  const next = ctx.peek();
  const x = (node.input ?? [])[0];
  const y = (node.output ?? [])[0];
  const ins = next?.input ?? [];
  // x * sigmoid(x), its operands in either order (PyTorch writes Mul(x, sigmoid)).
  const silu = ins.length === 2 && ((ins[0] === y && ins[1] === x) || (ins[0] === x && ins[1] === y));
  if (next && next.op_type === 'Mul' && silu && (next.domain ?? '') === '') {
    ctx.consume();
    return new SiLU();
  }
  return new Sigmoid();
}

function importFlatten(node: NodeProto, ctx: NodeImportContext): Module {
  if (ctx.int('axis', 1) !== 1) ctx.refuse(`has axis ${ctx.int('axis', 1)}; bp reads Flatten with axis 1 (the batch axis kept)`);
  return new Flatten();
}

function importReshape(node: NodeProto, ctx: NodeImportContext): Module {
  const shape = ctx.constant(1);
  const target = shape && shape.dims.length === 1 ? Array.from(shape.values, Number) : null;
  const s = ctx.inputShape;
  // [-1, n] (PyTorch's x.view(-1, n)) keeps the batch axis when n is the rest of one example: a Flatten.
  if (target?.length === 2 && target[0] === -1 && s && s.slice(1).reduce((a, b) => a * b, 1) === target[1]) return new Flatten();
  if (!target || target[0] !== 0 || ctx.int('allowzero', 0) !== 0) {
    return ctx.refuse('reshapes to something other than a constant [0, ...] (batch axis kept); bp reads a Reshape only as a Flatten');
  }
  // [0, -1]: keep the batch axis, flatten the rest, whatever the input.
  if (target.length === 2 && target[1] === -1) return new Flatten();
  // Otherwise find the axes range of the input that the target collapses into one.
  if (s) {
    for (let a = 1; a < s.length; a++) {
      for (let b = a; b < s.length; b++) {
        const merged = [...s.slice(0, a), s.slice(a, b + 1).reduce((x, y) => x * y, 1), ...s.slice(b + 1)];
        if (merged.length === target.length && merged.every((d, i) => i === 0 || d === target[i]))
          return new Flatten({ startDim: a, endDim: b });
      }
    }
  }
  return ctx.refuse(`reshapes to [${target.join(', ')}], which is no flattening of its input${s ? ` [${s.join(', ')}]` : ''}`);
}

function importDropout(node: NodeProto, ctx: NodeImportContext): Module {
  const ratio = ctx.constant(1);
  const training = ctx.constant(2);
  if (training && training.values[0]) ctx.refuse('runs in training mode');
  if ((node.output ?? []).length > 1 && node.output![1]) ctx.refuse('also outputs its mask, which bp does not produce');
  const p = ratio ? shortestFloat32(Number(ratio.values[0])) : 0.5;
  if (!(p >= 0 && p <= 1)) ctx.refuse(`has ratio ${p}, not a probability`);
  return new Dropout(p);
}

function importBatchNormalization(node: NodeProto, ctx: NodeImportContext): Module {
  if (ctx.int('training_mode', 0) !== 0) ctx.refuse('runs in training mode');
  if ((node.output ?? []).filter((o) => o).length > 1) ctx.refuse('outputs running statistics (training mode)');
  const parts = [1, 2, 3, 4].map((i) => need(ctx.constant(i), ctx, `input ${i}`, 1));
  const c = parts[0].dims[0];
  if (parts.some((p) => p.dims[0] !== c) || c === 0)
    ctx.refuse(`has per-channel inputs of sizes ${parts.map((p) => p.dims[0]).join(', ')}`);
  // As `load` refuses: a negative running variance makes the channel's outputs NaN.
  const negative = weightValuesProblem(parts[3].values, true);
  if (negative !== null)
    throw new FormatError(ctx.source, `${ctx.where}: ${parts[3].what ?? 'input 4 (the running variance)'} ${negative}`);
  const eps = ctx.float('epsilon', 1e-5);
  if (!(eps >= 0 && Number.isFinite(eps))) ctx.refuse(`has epsilon ${eps}`);
  // Images [n, c, h, w] (a batch of one's shape known from the graph input) go to BatchNorm2d.
  const layer = ctx.inputShape?.length === 4 ? new BatchNorm2d(c, { eps }) : new BatchNorm1d(c, { eps });
  const [weight, bias, runningMean, runningVar] = parts.map((p) => floatTensor(p));
  layer.loadStateDict({
    weight,
    bias,
    running_mean: runningMean,
    running_var: runningVar,
    num_batches_tracked: tensor(0, { dtype: 'int32' }),
  });
  return layer;
}

function statValues(c: Constant | undefined, ctx: NodeImportContext, what: string): number | number[] {
  const k = need(c, ctx, what, [0, 1, 2, 3, 4]);
  if (k.values.length === 1) return shortestFloat32(k.values[0]);
  // One value per channel (axis 1) under ONNX's broadcasting, which aligns the constant's last
  // axis with the input's last: [C, 1, ..., 1] with rank - 2 ones (so [C] only on [n, C]), or
  // that with leading ones ([1, C, 1, 1] on images). A [C] on images would vary along the width.
  const rank = ctx.inputShape?.length;
  const dims = k.dims.slice();
  while (dims.length > 1 && dims[0] === 1 && rank !== undefined && dims.length > rank - 1) dims.shift();
  const perChannel = rank !== undefined && dims.length === rank - 1 && dims.slice(1).every((d) => d === 1);
  if (!perChannel) {
    ctx.refuse(
      `has ${what} of shape [${k.dims.join(', ')}]${rank === undefined ? '' : ` on an input of rank ${rank}`}; bp reads one value or one per channel (axis 1: [C] on [n, C], [C, 1, 1] or [1, C, 1, 1] on images)`,
    );
  }
  return Array.from(k.values, shortestFloat32);
}

function importSub(node: NodeProto, ctx: NodeImportContext): Module {
  // (x - mean) / std, the normalization exportOnnx puts in front of a model.
  const mean = statValues(ctx.constant(1), ctx, 'the subtracted constant');
  if (ctx.peek()?.op_type !== 'Div') ctx.refuse('is not followed by a Div; bp reads Sub + Div as a Normalize layer only');
  const std = statValues(ctx.consume(1), ctx, 'the divisor');
  try {
    return new Normalize(mean, std);
  } catch (e) {
    if (e instanceof ArgumentError) return ctx.refuse(e.message);
    throw e;
  }
}

function importGather(node: NodeProto, ctx: NodeImportContext): Module {
  // Rows of a constant [num, dim] table at the incoming ids: an Embedding.
  if (ctx.int('axis', 0) !== 0)
    ctx.refuse(`gathers along axis ${ctx.int('axis', 0)}; bp reads Gather of table rows (axis 0) as an Embedding`);
  const table = need(ctx.constant(0), ctx, 'the table', 2);
  const [num, dim] = table.dims;
  if (num === 0 || dim === 0) ctx.refuse(`has an empty table [${num}, ${dim}]`);
  const layer = new Embedding(num, dim);
  layer.loadStateDict({ weight: floatTensor(table) });
  return layer;
}

function importLayerNormalization(node: NodeProto, ctx: NodeImportContext): Module {
  const scale = need(ctx.constant(1), ctx, 'the scale', [1, 2, 3, 4]);
  const bias = ctx.constant(2);
  const shape = scale.dims;
  const axis = ctx.int('axis', -1);
  if (axis !== -shape.length && !(ctx.inputShape && axis === ctx.inputShape.length - shape.length)) {
    ctx.refuse(
      `normalizes from axis ${axis} with a scale of shape [${shape.join(', ')}]; bp's LayerNorm normalizes the last axes the scale covers`,
    );
  }
  if (ctx.int('stash_type', 1) !== 1) ctx.refuse('computes in a type other than float32 (stash_type)');
  const eps = ctx.float('epsilon', 1e-5);
  if (!(eps >= 0 && Number.isFinite(eps))) ctx.refuse(`has epsilon ${eps}`);
  const layer = new LayerNorm(shape, { eps, bias: bias !== undefined });
  const b = bias ? need(bias, ctx, 'the bias', shape.length) : undefined;
  if (b && b.dims.join(',') !== shape.join(','))
    ctx.refuse(`has a bias of shape [${b.dims.join(', ')}] for a scale of shape [${shape.join(', ')}]`);
  layer.loadStateDict(b ? { weight: floatTensor(scale), bias: floatTensor(b) } : { weight: floatTensor(scale) });
  return layer;
}

function axisOf(ctx: NodeImportContext): number {
  return ctx.int('axis', -1);
}

const BUILTIN_IMPORTERS: Record<string, NodeImporter> = {
  Gemm: importGemm,
  MatMul: importMatMul,
  Conv: importConv,
  MaxPool: importMaxPool,
  AveragePool: importAveragePool,
  Gelu: importGelu,
  Flatten: importFlatten,
  Reshape: importReshape,
  Dropout: importDropout,
  BatchNormalization: importBatchNormalization,
  Sub: importSub,
  Gather: importGather,
  LayerNormalization: importLayerNormalization,
  Identity: () => null,
  Relu: () => new ReLU(),
  Sigmoid: importSigmoid,
  Tanh: () => new Tanh(),
  LeakyRelu: (n, ctx) => new LeakyReLU(ctx.float('alpha', 0.01)),
  Softmax: (n, ctx) => new Softmax(axisOf(ctx)),
  LogSoftmax: (n, ctx) => new LogSoftmax(axisOf(ctx)),
};

const importers = new Map<string, NodeImporter>(Object.entries(BUILTIN_IMPORTERS));

/** Teaches `importOnnx` an op type (of the default ONNX domain). Replaces an existing entry. */
export function registerOnnxImporter(opType: string, importer: NodeImporter): void {
  if (typeof opType !== 'string' || opType === '') throw new ArgumentError('registerOnnxImporter', 'opType must be a non-empty string');
  if (typeof importer !== 'function') throw new ArgumentError('registerOnnxImporter', `the importer of '${opType}' must be a function`);
  importers.set(opType, importer);
}

/** The importer of an op type, or undefined. */
export function importerFor(opType: string): NodeImporter | undefined {
  return importers.get(opType);
}

/** The op types `importOnnx` reads, sorted. */
export function importableOpTypes(): string[] {
  return [...importers.keys()].sort();
}
