import {
  ArgumentError,
  ShapeError,
  adaptiveAvgPool2d,
  adaptiveMaxPool2d,
  arange,
  avgPool2d,
  conv1d,
  conv2d,
  convTranspose2d,
  maxPool2d,
  ones,
  tensor,
  zeros,
  type Tensor,
} from '@bp/tensor';
import { conv2dReluMaxPool2d } from '@bp/tensor/internal';
import { expectClose, expectExact, expectMeta } from '../assert.js';
import { expectGradcheck, group, normal, type CaseBuilder } from '../context.js';

const c = group('window');

/** Convolution and pooling options beyond the plain window: hand-derived values, shapes and gradchecks. */
export const convCases: CaseBuilder = (ctx) => {
  const { tol } = ctx;
  const grad = (name: string, fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]) => expectGradcheck(ctx, fn, inputs, name);
  const img = (h: number, w: number) =>
    arange(h * w)
      .cast('float32')
      .reshape([1, 1, h, w]);
  return [
    c('conv2d groups and dilation (hand-derived)', () => {
      // Two channels, two groups: each output channel sees only its own input channel.
      const x = tensor([
        [
          [
            [1, 2],
            [3, 4],
          ],
          [
            [10, 20],
            [30, 40],
          ],
        ],
      ]);
      expectExact(
        conv2d(x, tensor([[[[1]]], [[[2]]]]), null, { groups: 2 }),
        [
          [
            [
              [1, 2],
              [3, 4],
            ],
            [
              [20, 40],
              [60, 80],
            ],
          ],
        ],
        'float32',
        'groups 2, 1x1',
      );
      // A 2x2 kernel of ones dilated by 2 over a 3x3 image reads the four corners.
      expectExact(
        conv2d(img(3, 3), ones([1, 1, 2, 2]), null, { dilation: 2 }),
        [[[[0 + 2 + 6 + 8]]]],
        'float32',
        'dilation 2 reads corners',
      );
      expectMeta(
        conv2d(zeros([1, 1, 5, 6]), zeros([2, 1, 3, 3]), null, { padding: 'same', dilation: 2 }),
        [1, 2, 5, 6],
        'float32',
        "padding 'same'",
      );
      expectMeta(conv2d(zeros([1, 1, 5, 6]), zeros([2, 1, 3, 3]), null, { padding: 'valid' }), [1, 2, 3, 4], 'float32', "padding 'valid'");
    }),
    c('conv1d and convTranspose2d (hand-derived)', () => {
      expectExact(conv1d(tensor([[[1, 2, 3, 4]]]), tensor([[[1, -1]]]), tensor([10])), [[[9, 9, 9]]], 'float32', 'conv1d differences');
      expectExact(
        conv1d(tensor([[[1, 2, 3, 4, 5]]]), tensor([[[1, 1]]]), null, { stride: 2, padding: 1 }),
        [[[1, 5, 9]]],
        'float32',
        'conv1d stride 2 padding 1',
      );
      // One unbatched sample [C, L], as torch.nn.functional.conv1d:
      // F.conv1d(torch.arange(12.).reshape(2, 6), torch.arange(12.).reshape(3, 2, 2) * 0.1) -> [3, 5]
      expectClose(
        conv1d(arange(12).cast('float32').reshape([2, 6]), arange(12).cast('float32').reshape([3, 2, 2]).mul(0.1)),
        [
          [3.4, 4.0, 4.6, 5.2, 5.8],
          [9.0, 11.2, 13.4, 15.6, 17.8],
          [14.6, 18.4, 22.2, 26.0, 29.8],
        ],
        tol,
        'conv1d of [C, L]',
      );
      // A kernel of ones spreads every input pixel over a 2x2 block; with stride 2 the blocks do not overlap.
      expectExact(
        convTranspose2d(tensor([[[[1, 2]]]]), ones([1, 1, 2, 2])),
        [
          [
            [
              [1, 3, 2],
              [1, 3, 2],
            ],
          ],
        ],
        'float32',
        'convTranspose2d stride 1 overlaps add',
      );
      expectExact(
        convTranspose2d(tensor([[[[1, 2]]]]), ones([1, 1, 2, 2]), null, { stride: 2 }),
        [
          [
            [
              [1, 1, 2, 2],
              [1, 1, 2, 2],
            ],
          ],
        ],
        'float32',
        'convTranspose2d stride 2',
      );
      expectMeta(
        convTranspose2d(zeros([2, 4, 5, 5]), zeros([4, 3, 3, 3]), null, { stride: 2, padding: 1, outputPadding: 1 }),
        [2, 3, 10, 10],
        'float32',
        'convTranspose2d doubles with outputPadding 1',
      );
      expectMeta(
        convTranspose2d(zeros([1, 2, 3, 3]), zeros([2, 1, 2, 2]), zeros([1]), { stride: 1, dilation: 3, outputPadding: 2 }),
        [1, 1, 8, 8],
        'float32',
        'outputPadding below the dilation',
      );
    }),
    c('maxPool2d ceilMode and dilation, avgPool2d options (hand-derived)', () => {
      const x = img(3, 3); // 0..8
      expectExact(
        maxPool2d(x, 2, { ceilMode: true }),
        [
          [
            [
              [4, 5],
              [7, 8],
            ],
          ],
        ],
        'float32',
        'maxPool2d ceilMode keeps the partial window',
      );
      expectExact(maxPool2d(x, 2), [[[[4]]]], 'float32', 'maxPool2d floor mode drops it');
      expectExact(maxPool2d(x, 2, { stride: 1, dilation: 2 }), [[[[8]]]], 'float32', 'maxPool2d dilation 2 reads corners');
      expectExact(
        avgPool2d(x, 2, { ceilMode: true }),
        [
          [
            [
              [2, 3.5],
              [6.5, 8],
            ],
          ],
        ],
        'float32',
        'avgPool2d ceilMode divides by the clipped window',
      );
      expectClose(
        avgPool2d(x, 2, { padding: 1 }),
        [
          [
            [
              [0, (1 + 2) / 4],
              [(3 + 6) / 4, (4 + 5 + 7 + 8) / 4],
            ],
          ],
        ],
        tol,
        'avgPool2d counts the padding',
      );
      expectClose(
        avgPool2d(x, 2, { padding: 1, countIncludePad: false }),
        [
          [
            [
              [0, 1.5],
              [4.5, 6],
            ],
          ],
        ],
        tol,
        'avgPool2d countIncludePad false',
      );
      expectClose(avgPool2d(x, 3, { divisorOverride: 2 }), [[[[18]]]], tol, 'avgPool2d divisorOverride');
    }),
    c('one image [c, h, w] is a batch of one without its batch axis (as PyTorch)', async () => {
      const x = normal([2, 5, 6], 410);
      const w = normal([3, 2, 3, 3], 411);
      const wt = normal([2, 3, 2, 2], 412);
      const b = normal([3], 413);
      const one = (t: Tensor) => t.unsqueeze(0);
      const same = async (got: Tensor, batched: Tensor, what: string) => {
        expectMeta(got, batched.shape.slice(1), 'float32', what);
        expectClose(got, await batched.squeeze(0).array(), tol, what);
      };
      await same(conv2d(x, w, b, { padding: 1, stride: 2 }), conv2d(one(x), w, b, { padding: 1, stride: 2 }), 'conv2d');
      await same(convTranspose2d(x, wt, null, { stride: 2 }), convTranspose2d(one(x), wt, null, { stride: 2 }), 'convTranspose2d');
      await same(maxPool2d(x, 2, { padding: 1 }), maxPool2d(one(x), 2, { padding: 1 }), 'maxPool2d');
      await same(avgPool2d(x, 3, { stride: 1 }), avgPool2d(one(x), 3, { stride: 1 }), 'avgPool2d');
      await same(
        conv2dReluMaxPool2d(x, w, b, { padding: 1 }, 2),
        conv2dReluMaxPool2d(one(x), w, b, { padding: 1 }, 2),
        'conv2d, relu, maxPool2d',
      );
    }),
    c('adaptiveAvgPool2d and adaptiveMaxPool2d (hand-derived)', () => {
      const x = img(3, 4); // rows [0..3], [4..7], [8..11]
      expectClose(adaptiveAvgPool2d(x, 1), [[[[5.5]]]], tol, 'global average');
      // Rows: [0,2) and [1,3); columns: [0,2) and [2,4).
      expectClose(
        adaptiveAvgPool2d(x, 2),
        [
          [
            [
              [2.5, 4.5],
              [6.5, 8.5],
            ],
          ],
        ],
        tol,
        'overlapping row windows',
      );
      expectExact(
        adaptiveMaxPool2d(x, 2),
        [
          [
            [
              [5, 7],
              [9, 11],
            ],
          ],
        ],
        'float32',
        'adaptive max',
      );
      expectExact(adaptiveMaxPool2d(x, [null, 1]), [[[[3], [7], [11]]]], 'float32', 'null keeps the height');
      expectMeta(adaptiveAvgPool2d(zeros([3, 5, 5]), [7, 2]), [3, 7, 2], 'float32', 'unbatched input, upsampling');
      // Ties: the gradient goes to the first maximum of each window in row-major order, as PyTorch
      // 1.13's F.adaptive_max_pool2d (a 7 at (0, 3) and (4, 1): (0, 3); all zeros, overlapping windows
      // of a 5x6 plane pooled to 2x3: flat positions 0, 2, 4, 12, 14, 16).
      const gradOfMax = (x: Tensor, size: number | [number, number]): Tensor => {
        const t = x.detach();
        t.requiresGrad = true;
        adaptiveMaxPool2d(t, size).sum().backward();
        return t.grad!;
      };
      /** A [1, 1, 5, 6] plane: `value` at the flat positions `at`, 0 elsewhere. */
      const plane = (at: number[], value: number): number[][][][] => {
        const v = Array.from({ length: 30 }, (_, i) => (at.includes(i) ? value : 0));
        return [[Array.from({ length: 5 }, (_, r) => v.slice(r * 6, r * 6 + 6))]];
      };
      expectExact(gradOfMax(tensor(plane([3, 25], 7)), 1), plane([3], 1), 'float32', 'adaptive max ties: first in row-major order');
      expectExact(
        gradOfMax(zeros([1, 1, 5, 6]), [2, 3]),
        plane([0, 2, 4, 12, 14, 16], 1),
        'float32',
        'adaptive max ties, overlapping windows',
      );
    }),
    c('conv2d conv1d convTranspose2d: gradcheck', () => {
      grad('conv2d groups dilation', (x, w, b) => conv2d(x, w, b, { groups: 2, dilation: [2, 1], padding: 1, stride: [1, 2] }), [
        normal([1, 4, 5, 5], 400),
        normal([2, 2, 2, 3], 401),
        normal([2], 402),
      ]);
      grad('conv1d', (x, w) => conv1d(x, w, null, { stride: 2, padding: 'valid', dilation: 2 }), [
        normal([2, 2, 8], 403),
        normal([3, 2, 2], 404),
      ]);
      grad('convTranspose2d', (x, w, b) => convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: [1, 0], groups: 2 }), [
        normal([1, 2, 3, 3], 405),
        normal([2, 2, 3, 2], 406),
        normal([4], 407),
      ]);
    }),
    c('conv2dReluPool (conv2dReluMaxPool2d: convolution, ReLU, 2x2 max pooling, one op where fused): gradcheck', () => {
      // Odd convolution outputs (5x7 and 3x4): the last row or column is dropped by the pooling.
      grad('conv2dReluMaxPool2d padding 1', (x, w, b) => conv2dReluMaxPool2d(x, w, b, { padding: 1 }, 2), [
        normal([2, 2, 5, 7], 420),
        normal([3, 2, 3, 3], 421),
        normal([3], 422),
      ]);
      grad('conv2dReluMaxPool2d stride 2 no bias', (x, w) => conv2dReluMaxPool2d(x, w, null, { stride: 2 }, 2), [
        normal([1, 1, 7, 9], 423),
        normal([2, 1, 2, 2], 424),
      ]);
    }),
    c('maxPool2d avgPool2d adaptiveAvgPool2d adaptiveMaxPool2d options: gradcheck', () => {
      const x = normal([1, 2, 5, 6], 410);
      grad('maxPool2d ceilMode dilation', (t) => maxPool2d(t, 2, { stride: 2, dilation: 2, padding: 1, ceilMode: true }), [x]);
      grad('maxPool2d ceilMode', (t) => maxPool2d(t, 3, { stride: 2, ceilMode: true }), [x]);
      grad(
        'avgPool2d ceilMode countIncludePad',
        (t) => avgPool2d(t, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
        [x],
      );
      grad('adaptiveAvgPool2d', (t) => adaptiveAvgPool2d(t, [3, 4]), [x]);
      grad('adaptiveMaxPool2d', (t) => adaptiveMaxPool2d(t, [2, 3]), [x]);
    }),
  ];
};

type ErrorClass = abstract new (...args: never[]) => Error;

/** Bad-input rows for the convolution and pooling options, in the form of the `errors` group's table. */
export function convErrorRows(): [string, () => unknown, ErrorClass, string[]][] {
  const bad = <T>(v: unknown) => v as T;
  const list: [string, () => unknown, ErrorClass, string[]][] = [
    ['conv2d', () => conv2d(zeros([1, 4, 5, 5]), zeros([6, 3, 3, 3]), null, { groups: 2 }), ShapeError, ['4 channels', '6 (2 groups)']],
    ['conv2d', () => conv2d(zeros([1, 4, 5, 5]), zeros([3, 2, 3, 3]), null, { groups: 2 }), ShapeError, ['3 output channels', '2 groups']],
    ['conv2d', () => conv2d(zeros([1, 1, 5, 5]), zeros([1, 1, 3, 3]), null, { dilation: 0 }), ArgumentError, ['dilation', '0']],
    [
      'conv2d',
      () => conv2d(zeros([1, 1, 5, 5]), zeros([1, 1, 3, 3]), null, { padding: 'same', stride: 2 }),
      ArgumentError,
      ['same', 'stride'],
    ],
    ['conv2d', () => conv2d(zeros([1, 1, 4, 4]), zeros([1, 1, 3, 3]), null, { dilation: 2 }), ShapeError, ['5x5', '[1,1,4,4]']],
    ['conv1d', () => conv1d(zeros([1, 2, 5, 5]), zeros([1, 2, 3])), ShapeError, ['[1,2,5,5]', 'length']],
    ['conv1d', () => conv1d(zeros([1, 2, 5]), zeros([1, 2, 3, 3])), ShapeError, ['[1,2,3,3]']],
    ['conv1d', () => conv1d(zeros([1, 2, 5]), zeros([1, 2, 3]), null, { stride: 0 }), ArgumentError, ['stride']],
    ['conv1d', () => conv1d(bad(null), zeros([1, 2, 3])), ArgumentError, ['Tensor']],
    ['convTranspose2d', () => convTranspose2d(zeros([1, 3, 4, 4]), zeros([2, 2, 3, 3])), ShapeError, ['3 channels', '[2,2,3,3]']],
    [
      'convTranspose2d',
      () => convTranspose2d(zeros([1, 2, 4, 4]), zeros([2, 2, 3, 3]), null, { outputPadding: 2, stride: 2 }),
      ArgumentError,
      ['outputPadding', 'stride'],
    ],
    ['convTranspose2d', () => convTranspose2d(zeros([1, 2, 4, 4]), zeros([2, 2, 3, 3]), zeros([3])), ShapeError, ['bias', '[2]', '[3]']],
    [
      'convTranspose2d',
      () => convTranspose2d(zeros([1, 3, 4, 4]), zeros([3, 2, 3, 3]), null, { groups: 2 }),
      ShapeError,
      ['3 input channels', '2 groups'],
    ],
    [
      'convTranspose2d',
      () => convTranspose2d(zeros([1, 1, 1, 1]), zeros([1, 1, 1, 1]), null, { padding: 1 }),
      ShapeError,
      ['empty output'],
    ],
    ['convTranspose2d', () => convTranspose2d(bad(null), zeros([1, 1, 1, 1])), ArgumentError, ['Tensor']],
    ['maxPool2d', () => maxPool2d(zeros([1, 1, 8, 8]), 2, { dilation: 2, padding: 2 }), ArgumentError, ['padding', 'half the kernel 2']],
    ['maxPool2d', () => maxPool2d(zeros([1, 1, 8, 8]), 2, { ceilMode: bad('yes') }), ArgumentError, ['ceilMode', 'yes']],
    ['avgPool2d', () => avgPool2d(zeros([1, 1, 4, 4]), 2, { divisorOverride: 0 }), ArgumentError, ['divisorOverride', '0']],
    ['avgPool2d', () => avgPool2d(zeros([1, 1, 4, 4]), 2, bad({ dilation: 2 })), ArgumentError, ['dilation']],
    ['avgPool2d', () => avgPool2d(zeros([1, 1, 4, 4]), 3, { padding: 2 }), ArgumentError, ['padding', 'half']],
    ['adaptiveAvgPool2d', () => adaptiveAvgPool2d(zeros([4, 4]), 2), ShapeError, ['[4,4]']],
    ['adaptiveAvgPool2d', () => adaptiveAvgPool2d(zeros([1, 4, 4]), 0), ArgumentError, ['outputSize', '0']],
    ['adaptiveAvgPool2d', () => adaptiveAvgPool2d(bad(null), 1), ArgumentError, ['Tensor']],
    ['adaptiveMaxPool2d', () => adaptiveMaxPool2d(zeros([1, 0, 4]), 1), ShapeError, ['empty', '[1,0,4]']],
    ['adaptiveMaxPool2d', () => adaptiveMaxPool2d(zeros([1, 1, 4, 4]), bad([1, 2, 3])), ArgumentError, ['[1,2,3]']],
  ];
  return list.map(([op, fn, cls, parts]) => [op, fn, cls, [`${op}:`, ...parts]]);
}
