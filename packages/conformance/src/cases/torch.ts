// The JSON module declaration travels with this file to packages that compile it from source.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../json-module.d.ts" />
import {
  add,
  avgPool2d,
  clamp,
  conv2d,
  div,
  exp,
  gather,
  log,
  logSoftmax,
  matmul,
  max,
  maxPool2d,
  mean,
  mul,
  pow,
  relu,
  sigmoid,
  softmax,
  sqrt,
  sub,
  sum,
  tanh,
  tensor,
  where,
  sin,
  cos,
  log1p,
  expm1,
  reciprocal,
  floor,
  ceil,
  round,
  layerNorm,
  scaledDotProductAttention,
  linear,
  type DType,
  type LinearOpOptions,
  type Tensor,
  flip,
  roll,
  repeat,
  repeatInterleave,
  tril,
  triu,
  diag,
  diagonal,
  unflatten,
  view,
  unfold,
  index,
  scatterAdd,
  scatter,
  indexSelect,
  maskedFill,
  einsum,
  pad,
  type IndexSpec,
  type PadMode,
  conv1d,
  convTranspose2d,
  adaptiveAvgPool2d,
  adaptiveMaxPool2d,
  type ConvOptions,
  type Conv1dOptions,
  type ConvTranspose2dOptions,
  type MaxPool2dOptions,
  type AvgPool2dOptions,
} from '@bp/tensor';
import {
  probabilityNll,
  reluMaxPool2d,
  conv2dReluMaxPool2d,
  softmaxCrossEntropy,
  type ProbabilityNllOptions,
  type SoftmaxCrossEntropyOptions,
} from '@bp/tensor/internal';
import { ConformanceError, expectClose } from '../assert.js';
import { group, type CaseBuilder } from '../context.js';
import refsJson from '../fixtures/torch-refs.json';
import { mathOps } from './torch-math.js';

const c = group('torch');

/** A tensor as the generator script stores it. */
interface RefTensor {
  shape: number[];
  dtype: DType;
  /** Numbers, with NaN and the infinities as the strings `'NaN'`, `'Infinity'`, `'-Infinity'` (JSON has none). */
  data: (number | string)[];
}

const values = (r: RefTensor): number[] => r.data.map(Number);

/** One op evaluated by PyTorch: inputs, output, weights w and d(sum(out * w))/d(input). */
interface RefCase {
  name: string;
  op: string;
  attrs: Record<string, unknown>;
  inputs: RefTensor[];
  output: RefTensor;
  weight: RefTensor;
  grads: (RefTensor | null)[];
}

const refs = refsJson as { torch: string; cases: RefCase[] };

type Axis = number | number[];
const ops: Record<string, (xs: Tensor[], a: Record<string, unknown>) => Tensor> = {
  add: ([a, b]) => add(a, b),
  sub: ([a, b]) => sub(a, b),
  mul: ([a, b]) => mul(a, b),
  div: ([a, b]) => div(a, b),
  pow: ([a, b]) => pow(a, b),
  exp: ([x]) => exp(x),
  log: ([x]) => log(x),
  sqrt: ([x]) => sqrt(x),
  tanh: ([x]) => tanh(x),
  sigmoid: ([x]) => sigmoid(x),
  relu: ([x]) => relu(x),
  sin: ([x]) => sin(x),
  cos: ([x]) => cos(x),
  log1p: ([x]) => log1p(x),
  expm1: ([x]) => expm1(x),
  reciprocal: ([x]) => reciprocal(x),
  floor: ([x]) => floor(x),
  ceil: ([x]) => ceil(x),
  round: ([x]) => round(x),
  sum: ([x], a) => sum(x, a.axis as Axis, a.keepDims as boolean),
  mean: ([x], a) => mean(x, a.axis as Axis, a.keepDims as boolean),
  max: ([x], a) => max(x, a.axis as Axis, a.keepDims as boolean),
  matmul: ([a, b]) => matmul(a, b),
  softmax: ([x], a) => softmax(x, a.axis as number),
  logSoftmax: ([x], a) => logSoftmax(x, a.axis as number),
  conv2d: ([x, w, b], a) => conv2d(x, w, b ?? null, a as ConvOptions),
  linear: ([x, w, b], a) => linear(x, w, b ?? null, a as LinearOpOptions),
  softmaxCrossEntropy: ([x, y], a) => softmaxCrossEntropy(x, y, a as SoftmaxCrossEntropyOptions),
  probabilityNll: ([p, y], a) => probabilityNll(p, y, a as ProbabilityNllOptions),
  conv1d: ([x, w, b], a) => conv1d(x, w, b ?? null, a as Conv1dOptions),
  convTranspose2d: ([x, w, b], a) => convTranspose2d(x, w, b ?? null, a as ConvTranspose2dOptions),
  maxPool2d: ([x], a) => maxPool2d(x, a.kernel as number, a as MaxPool2dOptions),
  reluMaxPool2d: ([x], a) => reluMaxPool2d(x, a.kernel as number, a as MaxPool2dOptions),
  conv2dReluMaxPool2d: ([x, w, b], a) => conv2dReluMaxPool2d(x, w, b ?? null, a.conv as ConvOptions, a.kernel as number),
  avgPool2d: ([x], a) => avgPool2d(x, a.kernel as number, a as AvgPool2dOptions),
  adaptiveAvgPool2d: ([x], a) => adaptiveAvgPool2d(x, a.outputSize as number),
  adaptiveMaxPool2d: ([x], a) => adaptiveMaxPool2d(x, a.outputSize as number),
  gather: ([x, i], a) => (a.dim !== undefined ? gather(x, a.dim as number, i) : gather(x, i, a.axis as number)),
  flip: ([x], a) => flip(x, a.dims as Axis),
  roll: ([x], a) => roll(x, a.shifts as Axis, a.dims as Axis | undefined),
  repeat: ([x], a) => repeat(x, a.sizes as number[]),
  repeatInterleave: ([x], a) => repeatInterleave(x, a.repeats as number | number[], a.dim as number | undefined),
  tril: ([x], a) => tril(x, a.diagonal as number),
  triu: ([x], a) => triu(x, a.diagonal as number),
  diag: ([x], a) => diag(x, a.diagonal as number),
  diagonal: ([x], a) => diagonal(x, a.offset as number | undefined, a.dim1 as number | undefined, a.dim2 as number | undefined),
  unflatten: ([x], a) => unflatten(x, a.dim as number, a.sizes as number[]),
  view: ([x], a) => view(x, a.shape as number[]),
  unfold: ([x], a) => unfold(x, a.dim as number, a.size as number, a.step as number),
  // Index tensors are given as { t: k }, input k.
  index: (xs, a) =>
    index(
      xs[0],
      ...(a.specs as unknown[]).map((s) => (s !== null && typeof s === 'object' && 't' in s ? xs[(s as { t: number }).t] : s) as IndexSpec),
    ),
  scatterAdd: ([x, i, src], a) => scatterAdd(x, a.dim as number, i, src),
  scatter: ([x, i, src], a) => scatter(x, a.dim as number, i, src),
  indexSelect: ([x, i], a) => indexSelect(x, a.axis as number, i),
  maskedFill: ([x, m], a) => maskedFill(x, m, a.value as number),
  einsum: (xs, a) => einsum(a.equation as string, ...xs),
  pad: ([x], a) => pad(x, a.pads as number[], { mode: a.mode as PadMode, value: a.value as number | undefined }),
  where: ([cond, a, b]) => where(cond, a, b),
  clamp: ([x], a) => clamp(x, a.min as number | undefined, a.max as number | undefined),
  ...mathOps,
  layerNorm: ([x, w, b], a) => layerNorm(x, a.normalizedShape as number[], w ?? null, b ?? null, a.eps as number),
  scaledDotProductAttention: ([q, k, v, m], a) =>
    scaledDotProductAttention(q, k, v, {
      attnMask: m ?? null,
      isCausal: a.isCausal as boolean | undefined,
      scale: a.scale as number | undefined,
    }),
};

const toTensor = (r: RefTensor, requiresGrad = false) => tensor(values(r), { shape: r.shape, dtype: r.dtype, requiresGrad });

/**
 * Forward values and gradients of each input against PyTorch, generated by
 * `scripts/gen_torch_refs.py`: 1e-4 relative with a small absolute floor.
 */
export const torchCases: CaseBuilder = ({ tol }) => {
  const t = { atol: Math.max(1e-5, tol.atol), rtol: Math.max(1e-4, tol.rtol) };
  return refs.cases.map((ref) =>
    c(`${ref.op}: matches PyTorch ${refs.torch}: ${ref.name}`, () => {
      const f = ops[ref.op];
      if (!f) throw new ConformanceError(`no bp op is mapped to the reference op '${ref.op}'`);
      const xs = ref.inputs.map((r) => toTensor(r, r.dtype === 'float32'));
      const out = f(xs, ref.attrs);
      expectClose(out, values(ref.output), t, `${ref.name}: output`, ref.output.shape);
      if (ref.output.dtype !== out.dtype) throw new ConformanceError(`${ref.name}: dtype ${out.dtype}, PyTorch's ${ref.output.dtype}`);
      if (ref.grads.every((g) => !g)) return;
      out.mul(toTensor(ref.weight)).sum().backward();
      ref.grads.forEach((g, i) => {
        if (!g) return;
        // An input PyTorch gives an all-zero gradient may get none at all (copysign's sign source).
        if (!xs[i].grad && values(g).every((v) => v === 0)) return;
        if (!xs[i].grad) throw new ConformanceError(`${ref.name}: input ${i} received no gradient`);
        expectClose(xs[i].grad!, values(g), t, `${ref.name}: gradient of input ${i}`, g.shape);
      });
    }),
  );
};
