import { gradcheck } from '@bp/autograd';
import {
  ArgumentError,
  AxisError,
  DTypeError,
  IndexError,
  ShapeError,
  abs,
  add,
  arange,
  argmax,
  argmin,
  avgPool2d,
  broadcastTo,
  cast,
  clamp,
  col2im,
  concat,
  conv1d,
  conv2d,
  einsum,
  linear,
  div,
  eq,
  exp,
  eye,
  flatten,
  full,
  gather,
  ge,
  gt,
  im2col,
  le,
  leakyRelu,
  linspace,
  log,
  logSoftmax,
  logSumExp,
  lt,
  matmul,
  max,
  maxPool2d,
  maximum,
  mean,
  min,
  minimum,
  mul,
  narrow,
  ne,
  neg,
  ones,
  oneHot,
  pad,
  pow,
  prod,
  rand,
  randint,
  randn,
  repeat,
  reshape,
  scatterAdd,
  setBackend,
  sigmoid,
  slice,
  softmax,
  sqrt,
  squeeze,
  stack,
  sub,
  sum,
  tanh,
  tensor,
  transpose,
  uniform,
  unsqueeze,
  where,
  window2d,
  zeros,
  type AdamConstants,
  type Tensor,
  sin,
  cos,
  floor,
  ceil,
  round,
  log1p,
  expm1,
  reciprocal,
} from '@bp/tensor';
import {
  col2imWide,
  conv2dBackward,
  im2colWide,
  reluBackward,
  adamUpdateInPlace,
  probabilityNll,
  scaleInPlace,
  softmaxCrossEntropy,
  sumOfSquares,
} from '@bp/tensor/internal';
import {
  tan,
  asin,
  acos,
  atan,
  sinh,
  cosh,
  asinh,
  acosh,
  atanh,
  erf,
  trunc,
  rsqrt,
  log2,
  log10,
  exp2,
  copysign,
  logaddexp,
  lerp,
  isnan,
  isinf,
  isfinite,
  gelu,
  silu,
  elu,
  celu,
  selu,
  softplus,
  mish,
  hardtanh,
  relu6,
  hardswish,
  hardsigmoid,
  logsigmoid,
  softsign,
  variance,
  std,
  norm,
  cumsum,
  cumprod,
  cummax,
  cummin,
  maxWithIndices,
  minWithIndices,
  all,
  any,
  layerNorm,
  scaledDotProductAttention,
} from '@bp/tensor';
import { expectThrows } from '../assert.js';
import { convErrorRows } from './conv.js';
import { indexingErrorRows } from './indexing.js';
import { group, type CaseBuilder, type ConformanceCase } from '../context.js';

const c = group('errors');

type ErrorClass = abstract new (...args: never[]) => Error;
/**
 * [op, call, error class, parts the message must contain, and `true` where the error comes
 * from a value check that reads the input back (index and label ranges)].
 */
type Row = [string, () => unknown, ErrorClass, string[], boolean?];

const bad = <T>(v: unknown) => v as T;
const adamConstants: AdamConstants = {
  beta1: 0.9,
  beta2: 0.999,
  stepSize: 1e-3,
  epsScaled: 1e-8,
  weightDecay: 0,
  decoupled: false,
  lr: 1e-3,
  first: true,
};
const t23 = () => zeros([2, 3]);

function rows(op: string, list: [() => unknown, ErrorClass, string[], boolean?][]): Row[] {
  return list.map(([fn, cls, parts, reads]) => [op, fn, cls, [`${op}:`, ...parts], reads]);
}

const binaries: [string, (a: Tensor, b: Tensor) => Tensor][] = [
  ['add', add],
  ['sub', sub],
  ['mul', mul],
  ['div', div],
  ['pow', pow],
  ['maximum', maximum],
  ['minimum', minimum],
  ['eq', eq],
  ['ne', ne],
  ['gt', gt],
  ['lt', lt],
  ['ge', ge],
  ['le', le],
];
const unaries: [string, (x: Tensor) => Tensor][] = [
  ['neg', neg],
  ['exp', exp],
  ['log', log],
  ['sqrt', sqrt],
  ['abs', abs],
  ['sigmoid', sigmoid],
  ['tanh', tanh],
  ['sin', sin],
  ['cos', cos],
  ['floor', floor],
  ['ceil', ceil],
  ['round', round],
  ['log1p', log1p],
  ['expm1', expm1],
  ['reciprocal', reciprocal],
];

/** Ops called with `null` where a tensor belongs: a BpError naming the op, never a TypeError from deep inside. */
const nullInputs: [string, () => unknown][] = [
  ['sum', () => sum(bad(null))],
  ['mean', () => mean(bad(null))],
  ['max', () => max(bad(null))],
  ['min', () => min(bad(null))],
  ['prod', () => prod(bad(null))],
  ['argmax', () => argmax(bad(null))],
  ['argmin', () => argmin(bad(null), 0)],
  ['softmax', () => softmax(bad(null))],
  ['logSoftmax', () => logSoftmax(bad(null))],
  ['logSumExp', () => logSumExp(bad(null))],
  ['cast', () => cast(bad(null), 'int32')],
  ['clamp', () => clamp(bad(null), 0, 1)],
  ['leakyRelu', () => leakyRelu(bad(null))],
  ['reshape', () => reshape(bad(null), [1])],
  ['transpose', () => transpose(bad(null))],
  ['flatten', () => flatten(bad(null))],
  ['squeeze', () => squeeze(bad(null))],
  ['unsqueeze', () => unsqueeze(bad(null), 0)],
  ['broadcastTo', () => broadcastTo(bad(null), [2])],
  ['slice', () => slice(bad(null), [0])],
  ['narrow', () => narrow(bad(null), 0, 0, 1)],
  ['pad', () => pad(bad(null), [])],
  ['concat', () => concat([bad(null)])],
  ['stack', () => stack([bad(null)])],
  ['gather', () => gather(bad(null), [0])],
  ['scatterAdd', () => scatterAdd(bad(null), [0], 0, [1])],
  ['im2col', () => im2col(bad(null), 2)],
  ['col2im', () => col2im(bad(null), window2d('col2im', [1, 1, 3, 3], 2))],
  ['im2colWide', () => im2colWide(bad(null), 2)],
  ['col2imWide', () => col2imWide(bad(null), window2d('col2imWide', [1, 1, 3, 3], 2))],
  ['conv2d', () => conv2d(bad(null), zeros([1, 1, 2, 2]))],
  ['linear', () => linear(bad(null), zeros([2, 2]))],
  ['maxPool2d', () => maxPool2d(bad(null), 2)],
  ['avgPool2d', () => avgPool2d(bad(null), 2)],
  ['matmul', () => matmul(bad(null), t23())],
];

function table(): Row[] {
  return [
    ...nullInputs.flatMap(([op, fn]) => rows(op, [[fn, ArgumentError, ['Tensor']]])),
    ...rows('tensor', [
      [() => tensor([[1, 2], [3]]), ShapeError, ['ragged', '[2]', '[1]']],
      [() => tensor(bad(['a'])), ArgumentError, ['expected numbers', 'string']],
      [() => tensor(bad([1, null])), ArgumentError, ['null']],
      [() => tensor([1, 2, 3], { shape: [2, 2] }), ShapeError, ['3 values', '[2,2]']],
      [() => tensor([1], { dtype: bad('float64') }), DTypeError, ['float64']],
      [() => tensor(new Float32Array(2), { copy: bad('no') }), ArgumentError, ['copy', 'boolean', 'string']],
    ]),
    ...rows('zeros', [[() => zeros([2, -1]), ShapeError, ['[2,-1]']]]),
    ...rows('ones', [[() => ones(bad([1.5])), ShapeError, ['[1.5]']]]),
    ...rows('full', [[() => full([2], bad('x')), ArgumentError, ['number']]]),
    ...rows('randn', [[() => randn([-3]), ShapeError, ['[-3]']]]),
    ...rows('uniform', [[() => uniform([2], 1, 0), ArgumentError, ['high', 'low']]]),
    ...rows('randint', [[() => randint(5, 2, [3]), ArgumentError, ['5', '2']]]),
    ...rows('arange', [
      [() => arange(0, 5, 0), ArgumentError, ['step']],
      // As PyTorch: a step pointing away from stop is an error, not an empty tensor.
      [() => arange(0, 5, -1), ArgumentError, ['(0, 5, -1)', 'sign']],
      [() => arange(5, 0), ArgumentError, ['(5, 0, 1)', 'sign']],
    ]),
    ...rows('pow', [[() => pow(tensor([2, 3], { dtype: 'int32' }), -1), ArgumentError, ['int32', '[2]', '-1']]]),
    ...rows('linspace', [[() => linspace(0, 1, -1), ArgumentError, ['-1']]]),
    ...rows('eye', [[() => eye(-2), ArgumentError, ['-2']]]),
    ...binaries.flatMap(([op, f]) =>
      rows(op, [
        [() => f(t23(), zeros([4])), ShapeError, ['[2,3]', '[4]', 'broadcast']],
        [() => f(t23(), bad('x')), ArgumentError, ['string']],
      ]),
    ),
    ...unaries.flatMap(([op, f]) => rows(op, [[() => f(bad(null)), ArgumentError, ['Tensor']]])),
    ...rows('leakyRelu', [[() => leakyRelu(t23(), NaN), ArgumentError, ['NaN']]]),
    ...rows('cast', [[() => cast(t23(), bad('float64')), DTypeError, ['float64']]]),
    ...rows('where', [[() => where(zeros([2, 2]), t23(), 0), ShapeError, ['[2,2]', '[2,3]']]]),
    ...rows('clamp', [
      [() => clamp(t23(), bad('1'), 2), ArgumentError, ['min', 'string']],
      [() => clamp(t23(), zeros([4]), 1), ShapeError, ['[2,3]', '[4]']],
      [() => clamp(t23(), null, bad([1])), ArgumentError, ['max', 'array']],
    ]),
    ...rows('sum', [
      [() => sum(t23(), 2), AxisError, ['axis 2', 'rank 2']],
      [() => sum(t23(), [1, -1]), AxisError, ['repeated']],
      [() => sum(bad(null)), ArgumentError, ['Tensor']],
    ]),
    ...rows('mean', [[() => mean(t23(), -3), AxisError, ['axis -3', 'rank 2']]]),
    ...rows('max', [
      [() => max(t23(), 5), AxisError, ['axis 5']],
      [() => max(zeros([0, 2]), 0), ArgumentError, ['empty', '[0,2]']],
    ]),
    ...rows('min', [[() => min(t23(), [0, 3]), AxisError, ['axis 3']]]),
    ...rows('prod', [[() => prod(t23(), 2), AxisError, ['axis 2']]]),
    ...rows('argmax', [
      [() => argmax(t23(), 2), AxisError, ['axis 2']],
      [() => argmax(zeros([0])), ArgumentError, ['empty']],
    ]),
    ...rows('argmin', [
      [() => argmin(t23(), -3), AxisError, ['axis -3']],
      [() => argmin(zeros([2, 0]), 1), ArgumentError, ['[2,0]']],
    ]),
    ...rows('softmax', [
      [() => softmax(tensor(1), 1), AxisError, ['axis 1']],
      [() => softmax(t23(), 2), AxisError, ['axis 2']],
    ]),
    ...rows('logSoftmax', [
      [() => logSoftmax(tensor(1), 1), AxisError, ['axis 1']],
      [() => logSoftmax(t23(), -3), AxisError, ['axis -3']],
    ]),
    ...rows('logSumExp', [[() => logSumExp(t23(), 4), AxisError, ['axis 4']]]),
    ...rows('layerNorm', [
      [() => layerNorm(t23(), [2]), ShapeError, ['[2,3]', 'normalizedShape [2]']],
      [() => layerNorm(t23(), 2), ShapeError, ['[2,3]', 'normalizedShape [2]']],
      [() => layerNorm(t23(), 2.5), ArgumentError, ['normalizedShape', '2.5']],
      [() => layerNorm(t23(), [3], zeros([2])), ShapeError, ['weight [2]', '[3]']],
      [() => layerNorm(bad(null), [3]), ArgumentError, ['Tensor']],
    ]),
    ...rows('scaledDotProductAttention', [
      [() => scaledDotProductAttention(zeros([3, 4]), zeros([5, 2]), zeros([5, 4])), ShapeError, ['q [3,4]', 'k [5,2]']],
      [() => scaledDotProductAttention(zeros([3, 4]), zeros([5, 4]), zeros([6, 4])), ShapeError, ['k [5,4]', 'v [6,4]']],
      // Batch axes that do not broadcast: named here, not by the matmul inside.
      [
        () => scaledDotProductAttention(zeros([2, 3, 4]), zeros([3, 5, 4]), zeros([3, 5, 4])),
        ShapeError,
        ['q [2,3,4]', 'k [3,5,4]', 'v [3,5,4]', 'do not broadcast'],
      ],
      [
        () => scaledDotProductAttention(zeros([3, 4]), zeros([5, 4]), zeros([5, 4]), { attnMask: zeros([2, 5]) }),
        ShapeError,
        ['attnMask [2,5]', '[..., 3, 5]'],
      ],
      [() => scaledDotProductAttention(zeros([3, 4]), zeros([5, 4]), zeros([5, 4]), { dropoutP: 2 }), ArgumentError, ['dropoutP', '2']],
    ]),
    ...rows('matmul', [
      [() => matmul(zeros([2, 3, 4]), zeros([3, 4, 5])), ShapeError, ['[2]', '[3]']],
      [() => matmul(tensor(1), t23()), ShapeError, ['[]', '[2,3]']],
      [() => matmul(t23(), bad([1])), ArgumentError, ['Tensor']],
      // A vector's shape as given, not as promoted to a matrix.
      [() => matmul(tensor([1, 2]), tensor([1, 2, 3])), ShapeError, ['[2] @ [3]', '2 != 3']],
      [() => matmul(t23(), tensor([1, 2])), ShapeError, ['[2,3] @ [2]', '3 != 2']],
    ]),
    ...rows('reshape', [
      [() => reshape(t23(), [4]), ShapeError, ['[2,3]', '[4]', '6']],
      [() => reshape(t23(), [-1, -1]), ShapeError, ['[-1,-1]']],
      [() => reshape(t23(), [-1, 4]), ShapeError, ['[2,3]', '[-1,4]']],
    ]),
    ...rows('transpose', [
      [() => transpose(t23(), [0]), ShapeError, ['[0]', '[2,3]']],
      [() => transpose(t23(), [1, 1]), ShapeError, ['[1,1]']],
    ]),
    ...rows('flatten', [
      [() => flatten(zeros([2, 3, 4]), 2, 1), ArgumentError, ['[2,3,4]']],
      [() => flatten(t23(), 3), AxisError, ['axis 3']],
    ]),
    ...rows('squeeze', [[() => squeeze(t23(), 2), AxisError, ['axis 2']]]),
    ...rows('unsqueeze', [[() => unsqueeze(t23(), 4), AxisError, ['axis 4']]]),
    ...rows('broadcastTo', [
      [() => broadcastTo(t23(), [3, 3]), ShapeError, ['[2,3]', '[3,3]']],
      [() => broadcastTo(zeros([3]), [3, 1]), ShapeError, ['[3]', '[3,1]']],
      [() => broadcastTo(zeros([3]), bad(3)), ArgumentError, ['shape']],
      // torch.zeros(3).expand(-1, 3): "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension 0"
      [() => broadcastTo(zeros([3]), [-1, 3]), ShapeError, ['-1', 'axis 0', 'leading']],
      [() => broadcastTo(zeros([3]), [-2, 3]), ArgumentError, ['[-2,3]']],
    ]),
    ...rows('slice', [
      [() => slice(t23(), [1, 1], [2, 1]), IndexError, ['[2,3]', 'axis 0']],
      [() => slice(t23(), [0, 0, 0]), ShapeError, ['[2,3]']],
    ]),
    ...rows('narrow', [[() => narrow(t23(), 1, 2, 2), IndexError, ['[2,3]']]]),
    ...rows('pad', [
      [() => pad(t23(), [[1, 1]]), ArgumentError, ['[2,3]']],
      [() => pad(tensor([1, 2], { dtype: 'int32' }), [1, 1], { value: NaN }), ArgumentError, ['value NaN', 'int32']],
      [
        () =>
          pad(t23(), [
            [0, 0],
            [-2, -2],
          ]),
        ShapeError,
        ['[2,3]', '-1'],
      ],
    ]),
    ...rows('concat', [
      [() => concat([t23(), zeros([2, 2])], 0), ShapeError, ['[2,3]', '[2,2]']],
      [() => concat([]), ArgumentError, ['empty']],
      [() => concat([tensor(1), tensor(2)]), ShapeError, ['zero-dimensional', 'position 0']],
    ]),
    ...rows('stack', [[() => stack([t23(), zeros([3, 2])]), ShapeError, ['[2,3]', '[3,2]']]]),
    ...rows('gather', [
      [() => gather(t23(), [0, 2]), IndexError, ['index 2', 'size 2'], true],
      [() => gather(t23(), tensor([0]), 1), DTypeError, ['int32', 'float32']],
      [() => gather(t23(), [0.5]), ArgumentError, ['[0.5]']],
      [() => gather(tensor(3), [7]), IndexError, ['index 7', 'zero-dimensional'], true],
    ]),
    ...rows('scatterAdd', [
      [() => scatterAdd(t23(), [0, 1], 0, [4, 4]), ShapeError, ['[2,3]', '[2,4]']],
      [() => scatterAdd(t23(), [0, 5], 0, [3, 3]), IndexError, ['index 5'], true],
    ]),
    ...rows('oneHot', [
      [() => oneHot(tensor([1]), 3), DTypeError, ['int32', 'float32']],
      [() => oneHot(tensor([3], { dtype: 'int32' }), 3), IndexError, ['label 3', '3 classes'], true],
      [() => oneHot(tensor([0], { dtype: 'int32' }), 0), ArgumentError, ['numClasses']],
    ]),
    ...rows('im2col', [
      [() => im2col(zeros([1, 3, 3]), 2), ShapeError, ['[1,3,3]']],
      [() => im2col(zeros([1, 1, 3, 3]), 4), ShapeError, ['4x4', '[1,1,3,3]']],
      [() => im2col(zeros([1, 1, 3, 3]), 2, { stride: 0 }), ArgumentError, ['stride']],
    ]),
    ...rows('col2im', [[() => col2im(zeros([1, 4, 3]), window2d('col2im', [1, 1, 3, 3], 2)), ShapeError, ['[1,4,3]', '[1,4,4]']]]),
    ...rows('im2colWide', [[() => im2colWide(zeros([1, 3, 3]), 2), ShapeError, ['[1,3,3]']]]),
    ...rows('col2imWide', [
      [() => col2imWide(zeros([1, 4, 4]), window2d('col2imWide', [2, 1, 3, 3], 2)), ShapeError, ['[1,4,4]', '[4,8]']],
    ]),
    ...rows('window2d', [[() => window2d('window2d', [3, 3], 2), ShapeError, ['[3,3]']]]),
    ...rows('linear', [
      [() => linear(zeros([2, 3]), zeros([4, 5])), ShapeError, ['[2,3]', '[4,5]', '5']],
      [() => linear(zeros([2, 3]), zeros([4, 3, 1])), ShapeError, ['[4,3,1]']],
      [() => linear(zeros([2, 3]), zeros([4, 3]), zeros([3])), ShapeError, ['[4]', '[3]']],
      [() => linear(zeros([2, 3]), zeros([4, 3]), null, { activation: bad('gelu') }), ArgumentError, ['activation', 'gelu']],
    ]),
    ...rows('conv2d', [
      [() => conv2d(zeros([1, 3, 5, 5]), zeros([4, 2, 3, 3])), ShapeError, ['3 channels', '[4,2,3,3]', '[1,3,5,5]']],
      [() => conv2d(zeros([1, 2, 5, 5]), zeros([4, 2, 3])), ShapeError, ['[4,2,3]']],
      [() => conv2d(zeros([1, 2, 5, 5]), zeros([4, 2, 3, 3]), zeros([3])), ShapeError, ['[4]', '[3]']],
      [() => conv2d(zeros([5, 5]), zeros([4, 2, 3, 3])), ShapeError, ['[5,5]']],
      [() => conv2d(zeros([1, 2, 2, 2]), zeros([4, 2, 3, 3])), ShapeError, ['3x3', '[1,2,2,2]']],
      [() => conv2d(zeros([1, 2, 5, 5]), bad(null)), ArgumentError, ['weight', 'Tensor']],
      [() => conv2d(zeros([1, 2, 5, 5]), zeros([4, 2, 3, 3]), bad([1, 2, 3, 4])), ArgumentError, ['bias', 'Tensor']],
    ]),
    // conv1d runs as a 2-D convolution of height 1, but its errors name conv1d and the shapes given.
    ...rows('conv1d', [
      [() => conv1d(zeros([1, 2, 5]), zeros([3, 3, 2])), ShapeError, ['2 channels', '[3,3,2]', '[1,2,5]']],
      [() => conv1d(zeros([1, 2, 5]), zeros([3, 2, 2]), zeros([2])), ShapeError, ['bias', '[3]', '[2]']],
      [() => conv1d(zeros([1, 2, 2]), zeros([3, 2, 3])), ShapeError, ['kernel 3', '[1,2,2]']],
      [() => conv1d(zeros([1, 2, 5]), zeros([3, 2, 3]), null, { padding: 'same', stride: 2 }), ArgumentError, ["'same'", 'stride 1']],
      [() => conv1d(zeros([1, 2, 5]), zeros([3, 2, 3]), null, { padding: bad('full') }), ArgumentError, ['padding', 'full']],
    ]),
    ...rows('einsum', [
      [() => einsum('ij,ij->ij', zeros([2, 3]), zeros([3, 3])), ShapeError, ["label 'i'", '2 and 3']],
      [() => einsum('ii->i', zeros([1, 3])), ShapeError, ["label 'i'", 'repeated', '[1,3]']],
    ]),
    ...rows('repeat', [[() => repeat(t23(), [2 ** 30, 1]), ShapeError, ['[2,3]', 'too large']]]),
    ...rows('rand', [[() => rand([2], { dtype: 'int32' }), DTypeError, ['int32', 'randint']]]),
    ...rows('conv2dBackward', [
      [
        () => conv2dBackward(zeros([1, 4, 3, 3]), zeros([1, 2, 5, 5]), zeros([4, 2, 2, 2]), window2d('conv2d', [1, 2, 5, 5], 3)),
        ShapeError,
        ['weight [4,2,2,2]', '3'],
      ],
      [
        () => conv2dBackward(zeros([1, 4, 3, 3]), zeros([1, 2, 4, 4]), zeros([4, 2, 3, 3]), window2d('conv2d', [1, 2, 5, 5], 3)),
        ShapeError,
        ['input [1,2,4,4]', '[1,2,5,5]'],
      ],
      [
        () => conv2dBackward(zeros([1, 4, 2, 2]), zeros([1, 2, 5, 5]), zeros([4, 2, 3, 3]), window2d('conv2d', [1, 2, 5, 5], 3)),
        ShapeError,
        ['dy [1,4,2,2]', '[1,4,3,3]'],
      ],
      [
        () => conv2dBackward(bad(null), zeros([1, 2, 5, 5]), zeros([4, 2, 3, 3]), window2d('conv2d', [1, 2, 5, 5], 3)),
        ArgumentError,
        ['dy', 'Tensor'],
      ],
    ]),
    ...rows('softmaxCrossEntropy', [
      [() => softmaxCrossEntropy(zeros([2, 3]), zeros([2], { dtype: 'int32' }).reshape([1, 2])), ShapeError, ['[1,2]', '[2,3]']],
      [() => softmaxCrossEntropy(zeros([2, 3]), zeros([2])), DTypeError, ['labels', 'int32', 'float32']],
      [() => softmaxCrossEntropy(zeros([2, 3, 1]), zeros([2], { dtype: 'int32' })), ShapeError, ['[2,3,1]']],
      [
        () => softmaxCrossEntropy(zeros([2, 3]), zeros([2], { dtype: 'int32' }), { reduction: bad('avg') }),
        ArgumentError,
        ['reduction', 'avg'],
      ],
      [
        () => softmaxCrossEntropy(zeros([2, 3]), tensor([1, 3], { dtype: 'int32' })),
        IndexError,
        ['label 3', 'position 1', '3 classes'],
        true,
      ],
    ]),
    ...rows('probabilityNll', [
      [() => probabilityNll(zeros([2, 3]), zeros([3], { dtype: 'int32' })), ShapeError, ['[3]', '[2,3]']],
      [() => probabilityNll(zeros([2, 3]), zeros([2])), DTypeError, ['labels', 'int32', 'float32']],
      [() => probabilityNll(zeros([2, 3], { dtype: 'int32' }), zeros([2], { dtype: 'int32' })), DTypeError, ['probs', 'float32', 'int32']],
      [() => probabilityNll(zeros([6]), zeros([6], { dtype: 'int32' })), ShapeError, ['probs', '[6]']],
      [() => probabilityNll(zeros([2, 3]), zeros([2], { dtype: 'int32' }), { eps: bad(0.5) }), ArgumentError, ['eps', '0.5']],
      [() => probabilityNll(bad(null), zeros([2], { dtype: 'int32' })), ArgumentError, ['probs', 'Tensor']],
    ]),
    ...rows('reluBackward', [
      [() => reluBackward(zeros([2, 3]), zeros([3, 2])), ShapeError, ['dy [2,3]', 'x [3,2]']],
      [() => reluBackward(zeros([2, 3]), bad(null)), ArgumentError, ['x', 'Tensor']],
    ]),
    ...rows('maxPool2d', [
      [() => maxPool2d(zeros([4, 4]), 2), ShapeError, ['[4,4]']],
      [() => maxPool2d(zeros([1, 1, 4, 4]), 2, { padding: 2 }), ArgumentError, ['padding']],
      [() => maxPool2d(zeros([1, 1, 4, 4]), 5), ShapeError, ['5x5', '[1,1,4,4]']],
    ]),
    ...rows('avgPool2d', [[() => avgPool2d(zeros([4, 4]), 2), ShapeError, ['[4,4]']]]),
    ...rows('adamUpdateInPlace', [
      [() => adamUpdateInPlace(t23(), zeros([3, 3]), t23(), t23(), null, adamConstants), ShapeError, ['grad [3,3]', 'param [2,3]']],
      [
        () => adamUpdateInPlace(t23(), t23(), zeros([2, 3], { dtype: 'int32' }), t23(), null, adamConstants),
        DTypeError,
        ['expAvg', 'int32'],
      ],
      [() => adamUpdateInPlace(t23(), t23(), t23(), bad(null), null, adamConstants), ArgumentError, ['expAvgSq']],
    ]),
    ...rows('sumOfSquares', [
      [() => sumOfSquares([t23(), zeros([2], { dtype: 'int32' })]), DTypeError, ['xs[1]', 'int32']],
      [() => sumOfSquares([t23(), bad(null)]), ArgumentError, ['xs[1]', 'Tensor']],
    ]),
    ...rows('scaleInPlace', [
      [() => scaleInPlace([t23()], zeros([2])), ShapeError, ['factor', '[2]']],
      [() => scaleInPlace([zeros([2], { dtype: 'int32' })], zeros([])), DTypeError, ['xs[0]', 'int32']],
    ]),
    // Elementwise math, activations, statistics and scans.
    ...(
      [
        ['tan', tan],
        ['asin', asin],
        ['acos', acos],
        ['atan', atan],
        ['sinh', sinh],
        ['cosh', cosh],
        ['asinh', asinh],
        ['acosh', acosh],
        ['atanh', atanh],
        ['erf', erf],
        ['trunc', trunc],
        ['rsqrt', rsqrt],
        ['log2', log2],
        ['log10', log10],
        ['exp2', exp2],
        ['isnan', isnan],
        ['isinf', isinf],
        ['isfinite', isfinite],
        ['gelu', gelu],
        ['silu', silu],
        ['elu', elu],
        ['celu', celu],
        ['selu', selu],
        ['softplus', softplus],
        ['mish', mish],
        ['hardtanh', hardtanh],
        ['relu6', relu6],
        ['hardswish', hardswish],
        ['hardsigmoid', hardsigmoid],
        ['logsigmoid', logsigmoid],
        ['softsign', softsign],
        ['variance', variance],
        ['std', std],
        ['norm', norm],
        ['all', all],
        ['any', any],
      ] as [string, (x: Tensor) => unknown][]
    ).flatMap(([op, f]) => rows(op, [[() => f(bad(null)), ArgumentError, ['Tensor']]])),
    ...rows('copysign', [
      [() => copysign(t23(), zeros([4])), ShapeError, ['[2,3]', '[4]']],
      [() => copysign(t23(), bad('x')), ArgumentError, ['string']],
    ]),
    ...rows('logaddexp', [[() => logaddexp(t23(), zeros([2, 2])), ShapeError, ['[2,3]', '[2,2]']]]),
    ...rows('lerp', [
      [() => lerp(t23(), zeros([3]), zeros([4])), ShapeError, ['[2,3]', '[4]']],
      [() => lerp(bad(null), t23(), 0.5), ArgumentError, ['start', 'Tensor']],
    ]),
    ...rows('gelu', [[() => gelu(t23(), { approximate: bad('fast') }), ArgumentError, ['approximate', 'fast']]]),
    ...rows('elu', [[() => elu(t23(), NaN), ArgumentError, ['alpha', 'NaN']]]),
    ...rows('celu', [[() => celu(t23(), 0), ArgumentError, ['alpha', '0']]]),
    ...rows('softplus', [
      [() => softplus(t23(), { beta: 0 }), ArgumentError, ['beta']],
      [() => softplus(t23(), { threshold: bad('1') }), ArgumentError, ['threshold']],
    ]),
    ...rows('hardtanh', [[() => hardtanh(t23(), 1, -1), ArgumentError, ['min (1)', 'max (-1)']]]),
    ...rows('variance', [
      [() => variance(t23(), 2), AxisError, ['axis 2', 'rank 2']],
      [() => variance(t23(), 0, { correction: -1 }), ArgumentError, ['correction', '-1']],
    ]),
    ...rows('std', [[() => std(t23(), [0, 0]), AxisError, ['repeated']]]),
    ...rows('norm', [
      [() => norm(t23(), bad('nuc')), ArgumentError, ['p', 'nuc']],
      [() => norm(t23(), NaN), ArgumentError, ['p', 'NaN']],
      [() => norm(t23(), 2, 5), AxisError, ['axis 5']],
      [() => norm(zeros([0, 2]), Infinity, 0), ArgumentError, ['empty', '[0,2]']],
      [() => norm(zeros([0, 2]), -1, 0), ArgumentError, ['-1 norm', 'empty', '[0,2]']],
    ]),
    ...rows('cumsum', [
      [() => cumsum(t23(), 2), AxisError, ['axis 2', 'rank 2']],
      [() => cumsum(bad(null), 0), ArgumentError, ['Tensor']],
    ]),
    ...rows('cumprod', [
      [() => cumprod(t23(), -3), AxisError, ['axis -3']],
      [() => cumprod(bad(null), 0), ArgumentError, ['Tensor']],
    ]),
    ...rows('cummax', [
      [() => cummax(t23(), 2), AxisError, ['axis 2']],
      [() => cummax(bad(null), 0), ArgumentError, ['Tensor']],
    ]),
    ...rows('cummin', [[() => cummin(t23(), bad(0.5)), AxisError, ['axis 0.5']]]),
    ...rows('maxWithIndices', [
      [() => maxWithIndices(t23(), 2), AxisError, ['axis 2']],
      [() => maxWithIndices(t23(), bad(undefined)), ArgumentError, ['axis', 'number']],
    ]),
    ...rows('minWithIndices', [
      [() => minWithIndices(zeros([2, 0]), 1), ArgumentError, ['[2,0]']],
      [() => minWithIndices(bad(null), 0), ArgumentError, ['Tensor']],
    ]),
    ...rows('all', [[() => all(t23(), 3), AxisError, ['axis 3']]]),
    ...rows('any', [[() => any(t23(), [0, 5]), AxisError, ['axis 5']]]),
    ...rows('item', [[() => t23().item(), ShapeError, ['[2,3]']]]),
    ...rows('assign', [[() => t23().assign(zeros([3, 3])), ShapeError, ['[3,3]', '[2,3]']]]),
    ...rows('gradcheck', [[() => gradcheck((x) => x, [bad(1)]), ArgumentError, ['Tensors']]]),
    ...indexingErrorRows(),
    ...convErrorRows(),
  ];
}

/** Bad input to every op throws the right BpError subclass with a message naming the op and the shapes. */
export const errorCases: CaseBuilder = () => {
  const byOp = new Map<string, Row[]>();
  for (const row of table()) {
    const list = byOp.get(row[0]) ?? [];
    list.push(row);
    byOp.set(row[0], list);
  }
  const cases: ConformanceCase[] = [];
  for (const [op, list] of byOp) {
    const shapes = list.filter((r) => !r[4]);
    const values = list.filter((r) => r[4]);
    if (shapes.length > 0) {
      cases.push(
        c(`${op}: bad input throws a BpError naming ${op} and the shapes`, () => {
          shapes.forEach(([, fn, cls, parts], i) => expectThrows(fn, cls, parts, `${op} (check ${i + 1})`));
        }),
      );
    }
    if (values.length > 0) {
      cases.push({
        ...c(`${op}: an index or label out of range throws a BpError naming ${op} and the value`, () => {
          values.forEach(([, fn, cls, parts], i) => expectThrows(fn, cls, parts, `${op} (value check ${i + 1})`));
        }),
        needsSyncRead: `${op} checks index and label values only where they can be read synchronously (debug value checks)`,
      });
    }
  }
  cases.push(
    c('matmul: the documented message, exactly', () => {
      let msg = '';
      try {
        matmul(zeros([32, 784]), zeros([128, 10]));
      } catch (e) {
        msg = (e as Error).message;
      }
      if (msg !== 'matmul: inner dimensions differ: [32,784] @ [128,10] (784 != 128)') {
        throw new Error(`matmul message was ${JSON.stringify(msg)}`);
      }
      expectThrows(() => matmul(zeros([32, 784]), zeros([128, 10])), ShapeError, ['matmul']);
    }),
    c('setBackend: an unknown name is rejected and changes nothing', async () => {
      let err: unknown = null;
      try {
        await setBackend('no-such-backend');
      } catch (e) {
        err = e;
      }
      expectThrows(
        () => {
          if (err) throw err;
        },
        ArgumentError,
        ['setBackend:', 'no-such-backend'],
      );
    }),
  );
  return cases;
};
