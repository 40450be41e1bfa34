import {
  ArgumentError,
  AxisError,
  DTypeError,
  IndexError,
  NotAvailableError,
  ShapeError,
  arange,
  diag,
  diagonal,
  einsum,
  flip,
  gather,
  index,
  indexSelect,
  logSoftmax,
  softmax,
  maskedFill,
  maskedSelect,
  gt,
  numel,
  pad,
  repeat,
  repeatInterleave,
  roll,
  scatter,
  scatterAdd,
  tensor,
  tril,
  triu,
  unflatten,
  unfold,
  view,
  zeros,
  type Tensor,
} from '@bp/tensor';
import { expectExact, expectMeta, expectThrows, readsSync } from '../assert.js';
import { expectGradcheck, group, normal, type CaseBuilder } from '../context.js';
import { gradsOf } from './elementwise-math.js';

const c = group('movement');
const i32 = (v: number[] | number[][]) => tensor(v, { dtype: 'int32' });

/** Shape and indexing ops composed from gathers: hand-derived values, edge cases and gradchecks. */
export const indexingCases: CaseBuilder = (ctx) => {
  const grad = (name: string, fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]) => expectGradcheck(ctx, fn, inputs, name);
  const m34 = () => arange(12).cast('float32').reshape([3, 4]);
  return [
    c('zero-dimensional inputs as PyTorch: index-select, softmax; concat and stack as methods', () => {
      // torch.index_select(torch.tensor(3.), 0, [0]) is tensor(3.): a scalar's one entry is index 0.
      expectExact(indexSelect(tensor(3), 0, [0]), 3, 'float32', 'indexSelect of a scalar');
      expectExact(gather(tensor(3), [0, 0]), 3, 'float32', 'gather of a scalar');
      expectExact(softmax(tensor(3)), 1, 'float32', 'softmax of a scalar');
      expectExact(logSoftmax(tensor(3), -1), 0, 'float32', 'logSoftmax of a scalar');
      expectExact(tensor([1]).concat([tensor([2]), tensor([3])]), [1, 2, 3], 'float32', 'x.concat([b, c])');
      expectExact(
        tensor([[1], [2]]).concat(tensor([[3], [4]]), 1),
        [
          [1, 3],
          [2, 4],
        ],
        'float32',
        'x.concat(b, 1)',
      );
      expectExact(
        tensor([1, 2]).stack(tensor([3, 4]), 1),
        [
          [1, 3],
          [2, 4],
        ],
        'float32',
        'x.stack(b, 1)',
      );
      expectExact(tensor(1).stack([tensor(2)]), [1, 2], 'float32', 'scalars stack');
    }),
    c('numel view unflatten', () => {
      const x = m34();
      if (numel(x) !== 12 || x.numel() !== 12 || numel(tensor(3)) !== 1 || numel(zeros([2, 0])) !== 0) {
        throw new Error('numel: expected 12, 12, 1, 0');
      }
      expectExact(view(x, [4, -1]).slice([0, 0], [1, 3]), [[0, 1, 2]], 'float32', 'view([4,-1])');
      expectMeta(x.view(2, 3, 2), [2, 3, 2], 'float32', 'view(2, 3, 2)');
      expectMeta(unflatten(zeros([2, 12, 5]), 1, [3, -1]), [2, 3, 4, 5], 'float32', 'unflatten(1, [3,-1])');
      expectMeta(x.unflatten(-1, [2, 2]), [3, 2, 2], 'float32', 'unflatten(-1, [2,2])');
    }),
    c('flip and roll, with negative dims and shifts', () => {
      const x = m34();
      expectExact(
        flip(x, 0),
        [
          [8, 9, 10, 11],
          [4, 5, 6, 7],
          [0, 1, 2, 3],
        ],
        'float32',
        'flip(0)',
      );
      expectExact(x.flip([-1]).slice([0, 0], [1, -1]), [[3, 2, 1, 0]], 'float32', 'flip([-1])');
      expectExact(flip(tensor([1, 2, 3], { dtype: 'int32' }), 0), [3, 2, 1], 'int32', 'flip keeps int32');
      expectExact(roll(tensor([1, 2, 3, 4, 5]), 2), [4, 5, 1, 2, 3], 'float32', 'roll(2)');
      expectExact(roll(tensor([1, 2, 3, 4, 5]), -7), [3, 4, 5, 1, 2], 'float32', 'roll(-7) wraps');
      expectExact(
        roll(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          1,
        ),
        [
          [4, 1],
          [2, 3],
        ],
        'float32',
        'roll without dims flattens',
      );
      expectExact(
        roll(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          [1, 1],
          [0, -1],
        ),
        [
          [4, 3],
          [2, 1],
        ],
        'float32',
        'roll two dims',
      );
    }),
    c('repeat and repeatInterleave', () => {
      expectExact(
        repeat(tensor([1, 2]), [2, 2]),
        [
          [1, 2, 1, 2],
          [1, 2, 1, 2],
        ],
        'float32',
        'repeat([2,2]) of [2]',
      );
      expectExact(
        tensor([[1], [2]]).repeat(1, 3),
        [
          [1, 1, 1],
          [2, 2, 2],
        ],
        'float32',
        'repeat(1, 3)',
      );
      expectMeta(repeat(zeros([2, 3]), [0, 2]), [0, 6], 'float32', 'repeat with a 0');
      expectExact(repeatInterleave(tensor([1, 2]), 2), [1, 1, 2, 2], 'float32', 'repeatInterleave(2)');
      expectExact(
        repeatInterleave(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          [1, 2],
          0,
        ),
        [
          [1, 2],
          [3, 4],
          [3, 4],
        ],
        'float32',
        'repeatInterleave([1,2], 0)',
      );
      const m22 = () =>
        tensor([
          [1, 2],
          [3, 4],
        ]);
      // With outputSize nothing is read: this runs on every backend.
      expectExact(
        repeatInterleave(m22(), i32([0, 3]), -1, { outputSize: 3 }),
        [
          [2, 2, 2],
          [4, 4, 4],
        ],
        'float32',
        'repeatInterleave(tensor, -1, { outputSize: 3 })',
      );
      expectExact(
        repeatInterleave(tensor([5, 6, 7, 8]), i32([2, 0, 1, 3]), 0, { outputSize: 6 }),
        [5, 5, 7, 8, 8, 8],
        'float32',
        'repeatInterleave: a zero count in the middle',
      );
      expectExact(repeatInterleave(m22(), i32([2]), null, { outputSize: 8 }), [1, 1, 2, 2, 3, 3, 4, 4], 'float32', 'one count for all');
      expectMeta(repeatInterleave(m22(), i32([0, 0]), 0, { outputSize: 0 }), [0, 2], 'float32', 'all counts zero');
      if (readsSync()) {
        expectExact(
          repeatInterleave(m22(), i32([0, 3]), -1),
          [
            [2, 2, 2],
            [4, 4, 4],
          ],
          'float32',
          'repeatInterleave(tensor, -1) reads the counts',
        );
      } else {
        expectThrows(() => repeatInterleave(m22(), i32([0, 3]), -1), NotAvailableError, [
          'repeatInterleave:',
          'cannot read the counts',
          'outputSize',
        ]);
      }
      expectExact(
        repeatInterleave(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          2,
        ),
        [1, 1, 2, 2, 3, 3, 4, 4],
        'float32',
        'repeatInterleave flattens without dim',
      );
    }),
    c('tril triu diag diagonal', () => {
      const x = m34();
      expectExact(
        tril(x),
        [
          [0, 0, 0, 0],
          [4, 5, 0, 0],
          [8, 9, 10, 0],
        ],
        'float32',
        'tril()',
      );
      expectExact(
        triu(x, 2),
        [
          [0, 0, 2, 3],
          [0, 0, 0, 7],
          [0, 0, 0, 0],
        ],
        'float32',
        'triu(2)',
      );
      expectExact(
        x.tril(-5),
        [
          [0, 0, 0, 0],
          [0, 0, 0, 0],
          [0, 0, 0, 0],
        ],
        'float32',
        'tril below everything',
      );
      expectExact(
        tril(
          tensor([
            [Infinity, Infinity],
            [1, NaN],
          ]),
        ),
        [
          [Infinity, 0],
          [1, NaN],
        ],
        'float32',
        'tril zeroes Inf outside',
      );
      expectExact(
        diag(tensor([1, 2])),
        [
          [1, 0],
          [0, 2],
        ],
        'float32',
        'diag of a vector',
      );
      expectExact(
        diag(tensor([1, 2]), -1),
        [
          [0, 0, 0],
          [1, 0, 0],
          [0, 2, 0],
        ],
        'float32',
        'diag(-1) of a vector',
      );
      expectExact(diag(x, 1), [1, 6, 11], 'float32', 'diag(1) of a matrix');
      expectExact(diagonal(x), [0, 5, 10], 'float32', 'diagonal()');
      expectMeta(diagonal(x, 4), [0], 'float32', 'diagonal past the corner is empty');
      expectExact(
        diagonal(arange(8).reshape([2, 2, 2]), 0, -2, -1),
        [
          [0, 3],
          [4, 7],
        ],
        'int32',
        'diagonal of the last two axes',
      );
    }),
    c('unfold slides windows along a dim', () => {
      expectExact(
        unfold(arange(5), 0, 2, 2),
        [
          [0, 1],
          [2, 3],
        ],
        'int32',
        'unfold(0, 2, 2)',
      );
      expectExact(
        arange(6).reshape([2, 3]).unfold(1, 2, 1),
        [
          [
            [0, 1],
            [1, 2],
          ],
          [
            [3, 4],
            [4, 5],
          ],
        ],
        'int32',
        'unfold(1, 2, 1)',
      );
      expectMeta(unfold(zeros([3, 7]), 0, 3, 5), [1, 7, 3], 'float32', 'unfold whole dim');
      expectMeta(unfold(zeros([4]), 0, 0, 1), [5, 0], 'float32', 'unfold size 0');
    }),
    c('index: slices with steps, integers, new axes, ellipsis, index tensors', () => {
      const x = m34();
      expectExact(index(x, 1), [4, 5, 6, 7], 'float32', 'x[1]');
      expectExact(index(x, -1, '::3'), [8, 11], 'float32', 'x[-1, ::3]');
      expectExact(
        x.index(':', [1, null, 2]),
        [
          [1, 3],
          [5, 7],
          [9, 11],
        ],
        'float32',
        'x[:, 1::2]',
      );
      expectExact(x.index([-2], [5, 1]), [[], []], 'float32', 'x[-2:, 5:1] is empty');
      expectExact(
        index(x, '0:100:2', '-2:'),
        [
          [2, 3],
          [10, 11],
        ],
        'float32',
        'x[0:100:2, -2:] clamps',
      );
      expectMeta(index(x, null, '...', null), [1, 3, 4, 1], 'float32', 'x[None, ..., None]');
      expectExact(index(x, '...', 2), [2, 6, 10], 'float32', 'x[..., 2]');
      expectExact(index(tensor(5), null), [5], 'float32', 'a scalar with a new axis');
      expectExact(index(x, i32([2, 0]), i32([-1, 1])), [11, 1], 'float32', 'x[[2,0],[-1,1]]');
      expectExact(
        index(x, i32([[0], [2]]), i32([0, 3])),
        [
          [0, 3],
          [8, 11],
        ],
        'float32',
        'index tensors broadcast',
      );
      expectExact(
        index(x, ':', i32([3, 3])),
        [
          [3, 3],
          [7, 7],
          [11, 11],
        ],
        'float32',
        'x[:, [3,3]]',
      );
      const y = arange(24).reshape([2, 3, 4]);
      expectMeta(index(y, i32([0, 1]), ':', i32([1, 2])), [2, 3], 'int32', 'separated index tensors go first');
      expectExact(
        index(y, i32([0, 1]), ':', i32([1, 2])),
        [
          [1, 5, 9],
          [14, 18, 22],
        ],
        'int32',
        'x[[0,1], :, [1,2]]',
      );
      expectMeta(index(zeros([2, 3, 4, 5]), ':', i32([0, 1, 2]), 0, i32([1])), [2, 3], 'float32', 'x[:, i, 0, j] stays in place');
    }),
    c('gather along a dim (torch.gather), indexSelect, scatter and scatterAdd along a dim', () => {
      const x = tensor([
        [1, 2],
        [3, 4],
      ]);
      expectExact(
        gather(
          x,
          1,
          i32([
            [0, 0],
            [1, 0],
          ]),
        ),
        [
          [1, 1],
          [4, 3],
        ],
        'float32',
        'gather(x, 1, index)',
      );
      expectExact(x.gather(0, i32([[1, 1]])), [[3, 4]], 'float32', 'gather(0) with a smaller index');
      expectExact(gather(x, -1, i32([[1], [0]])), [[2], [3]], 'float32', 'gather(-1)');
      expectExact(
        gather(x, [1, 0]),
        [
          [3, 4],
          [1, 2],
        ],
        'float32',
        'gather with indices first is indexSelect',
      );
      expectExact(
        indexSelect(x, 1, [1, 1, 0]),
        [
          [2, 2, 1],
          [4, 4, 3],
        ],
        'float32',
        'indexSelect(x, 1, [1,1,0])',
      );
      expectExact(x.indexSelect(-2, i32([1])), [[3, 4]], 'float32', 'indexSelect(-2)');
      const z = zeros([2, 3]);
      expectExact(
        scatterAdd(
          z,
          1,
          i32([
            [0, 0, 2],
            [1, 1, 1],
          ]),
          tensor([
            [1, 2, 3],
            [4, 5, 6],
          ]),
        ),
        [
          [3, 0, 3],
          [0, 15, 0],
        ],
        'float32',
        'scatterAdd(x, 1, index, src) adds repeats',
      );
      expectExact(
        scatterAdd(
          z,
          0,
          i32([[1]]),
          tensor([
            [5, 6],
            [7, 8],
          ]),
        ),
        [
          [0, 0, 0],
          [5, 0, 0],
        ],
        'float32',
        'scatterAdd uses the part of src the index covers',
      );
      expectExact(
        scatter(
          z,
          1,
          i32([
            [0, 2],
            [1, 1],
          ]),
          7,
        ),
        [
          [7, 0, 7],
          [0, 7, 0],
        ],
        'float32',
        'scatter a number',
      );
      expectExact(
        scatter(z, 1, i32([[0, 0]]), tensor([[1, 2]])),
        [
          [2, 0, 0],
          [0, 0, 0],
        ],
        'float32',
        'scatter: the last write wins',
      );
      expectExact(
        scatter(
          zeros([3, 2]),
          0,
          i32([
            [2, 0],
            [0, 0],
            [2, 1],
            [1, 0],
          ]),
          tensor([
            [1, 2],
            [3, 4],
            [5, 6],
            [7, 8],
          ]),
        ),
        [
          [3, 8],
          [7, 6],
          [5, 0],
        ],
        'float32',
        'scatter along dim 0: the last write of each column wins',
      );
      expectExact(scatter(zeros([2], { dtype: 'int32' }), 0, i32([1]), tensor([2.7])), [0, 2], 'int32', 'scatter keeps the input dtype');
    }),
    c('maskedFill and where with full broadcasting', () => {
      const x = m34();
      expectExact(maskedFill(x, i32([1, 0, 0, 1]), -1).slice([0, 0], [1, -1]), [[-1, 1, 2, -1]], 'float32', 'maskedFill with a row mask');
      expectExact(
        maskedFill(tensor([1, 2], { dtype: 'int32' }), i32([0, 1]), 7.9),
        [1, 7],
        'int32',
        'maskedFill keeps int32 (value truncated)',
      );
      expectExact(
        x.maskedFill(tensor([[0], [1], [0]]), -Infinity).slice([1, 0], [1, -1]),
        [[-Infinity, -Infinity, -Infinity, -Infinity]],
        'float32',
        'a float mask, -Infinity',
      );
    }),
    c('maskedSelect (PyTorch masked_select, x[x > 0]): broadcasting, gradient into the picked entries', () => {
      const x = tensor([
        [5, -1],
        [7, -3],
      ]);
      if (!readsSync()) {
        expectThrows(() => maskedSelect(x, gt(x, 0)), NotAvailableError, ['maskedSelect:', 'mask', 'await']);
        return;
      }
      expectExact(maskedSelect(x, gt(x, 0)), [5, 7], 'float32', 'x[x > 0]');
      expectExact(x.maskedSelect(i32([0, 1])), [-1, -3], 'float32', 'a row mask broadcast over the rows');
      // x broadcast to the mask's shape (PyTorch 1.13: masked_select([1, 2], [[1, 0], [1, 1]]) = [1, 1, 2]).
      expectExact(
        maskedSelect(
          tensor([1, 2]),
          i32([
            [1, 0],
            [1, 1],
          ]),
        ),
        [1, 1, 2],
        'float32',
        'x broadcast',
      );
      expectMeta(maskedSelect(x, zeros([2, 2], { dtype: 'int32' })), [0], 'float32', 'nothing selected');
      expectExact(maskedSelect(tensor([3, 4], { dtype: 'int32' }), i32([1, 0])), [3], 'int32', 'int32 stays int32');
      const g = gradsOf([tensor([1, 2])], (t) =>
        maskedSelect(
          t,
          i32([
            [1, 0],
            [1, 1],
          ]),
        ),
      )[0];
      expectExact(g, [2, 1], 'float32', 'gradient, summed over the broadcast copies (PyTorch: [2, 1])');
    }),
    c('pad modes reflect, replicate, circular and the flat PyTorch pad list', () => {
      const x = tensor([[1, 2, 3]]);
      expectExact(
        pad(
          x,
          [
            [0, 0],
            [2, 1],
          ],
          { mode: 'reflect' },
        ),
        [[3, 2, 1, 2, 3, 2]],
        'float32',
        'reflect',
      );
      expectExact(
        pad(
          x,
          [
            [1, 0],
            [1, 2],
          ],
          { mode: 'replicate' },
        ),
        [
          [1, 1, 2, 3, 3, 3],
          [1, 1, 2, 3, 3, 3],
        ],
        'float32',
        'replicate',
      );
      expectExact(pad(x, [3, 2], { mode: 'circular' }), [[1, 2, 3, 1, 2, 3, 1, 2]], 'float32', 'circular, flat list');
      expectExact(
        pad(x, [1, 0, 0, 1], 9),
        [
          [9, 1, 2, 3],
          [9, 9, 9, 9],
        ],
        'float32',
        'constant, flat list (last axis first)',
      );
      expectExact(pad(tensor([4], { dtype: 'int32' }), [[2, 2]], { mode: 'replicate' }), [4, 4, 4, 4, 4], 'int32', 'replicate keeps int32');
    }),
    c('einsum contractions', () => {
      const a = tensor([
        [1, 2],
        [3, 4],
      ]);
      const b = tensor([
        [5, 6],
        [7, 8],
      ]);
      expectExact(
        einsum('ij,jk->ik', a, b),
        [
          [19, 22],
          [43, 50],
        ],
        'float32',
        'ij,jk->ik',
      );
      expectExact(einsum('ij,ij->', a, b), 70, 'float32', 'ij,ij-> (full contraction)');
      expectExact(einsum('ii', a), 5, 'float32', 'trace');
      expectExact(
        einsum('ij', a),
        [
          [1, 2],
          [3, 4],
        ],
        'float32',
        'implicit identity',
      );
      expectExact(
        einsum('ji', a),
        [
          [1, 3],
          [2, 4],
        ],
        'float32',
        'implicit output is alphabetical: ji transposes',
      );
      expectExact(einsum('i,i->i', tensor([1, 2]), tensor([3, 4])), [3, 8], 'float32', 'elementwise product');
      expectExact(einsum('ij->i', a), [3, 7], 'float32', 'row sums');
      expectExact(einsum('b i , b i -> b', a, b), [17, 53], 'float32', 'spaces are ignored');
      expectMeta(einsum('...ij,jk->...ik', zeros([2, 3, 4, 5]), zeros([5, 6])), [2, 3, 4, 6], 'float32', '...ij,jk->...ik');
    }),
    c('flip roll repeat repeatInterleave tril triu diag diagonal unfold unflatten view: gradcheck', () => {
      const x = normal([3, 4], 300);
      grad('flip', (t) => flip(t, [0, 1]), [x]);
      grad('roll', (t) => roll(t, [2, -1], [1, 0]), [x]);
      grad('repeat', (t) => repeat(t, [2, 1, 2]), [x]);
      grad('repeatInterleave', (t) => repeatInterleave(t, [2, 0, 1], 0), [x]);
      grad('repeatInterleave with a counts tensor and outputSize', (t) => repeatInterleave(t, i32([2, 0, 1]), 0, { outputSize: 3 }), [x]);
      grad('tril', (t) => tril(t, 1), [x]);
      grad('triu', (t) => triu(t, -1), [x]);
      grad('diag of a vector', (t) => diag(t, 1), [normal([3], 301)]);
      grad('diag of a matrix', (t) => diag(t), [x]);
      grad('diagonal', (t) => diagonal(t, -1, 1, 0), [normal([4, 3, 2], 302)]);
      grad('unfold', (t) => unfold(t, 1, 2, 1), [x]);
      grad('unflatten', (t) => unflatten(t, 1, [2, 2]), [x]);
      grad('view', (t) => view(t, [6, 2]), [x]);
    }),
    c('index gather scatter scatterAdd indexSelect maskedFill einsum pad modes: gradcheck', () => {
      const x = normal([3, 4], 310);
      grad('index with steps and tensors', (t) => index(t, i32([2, 0, 2]), '::2'), [x]);
      grad('index with two tensors', (t) => index(t, i32([[0], [2]]), i32([1, 1, 3])), [x]);
      grad(
        'gather along a dim',
        (t) =>
          gather(
            t,
            1,
            i32([
              [0, 0],
              [3, 1],
              [2, 2],
            ]),
          ),
        [x],
      );
      grad('scatterAdd along a dim', (t, s) => scatterAdd(t, 0, i32([[1, 1, 0, 2]]), s), [x, normal([1, 4], 311)]);
      grad(
        'scatter along a dim',
        (t, s) =>
          scatter(
            t,
            1,
            i32([
              [3, 0],
              [1, 2],
              [0, 3],
            ]),
            s,
          ),
        [x, normal([3, 2], 312)],
      );
      grad(
        'scatter with repeated positions: only the last write gets a gradient',
        (t, s) =>
          scatter(
            t,
            0,
            i32([
              [2, 0],
              [0, 0],
              [2, 1],
              [1, 0],
              [2, 0],
            ]),
            s,
          ),
        [normal([3, 2], 316), normal([5, 2], 317)],
      );
      grad('indexSelect', (t) => indexSelect(t, 1, [3, 3, 0]), [x]);
      grad('maskedFill', (t, v) => maskedFill(t, i32([0, 1, 1, 0]), v), [x, normal([], 313)]);
      grad('einsum', (a, b) => einsum('bij,bkj->bik', a, b), [normal([2, 3, 4], 314), normal([2, 2, 4], 315)]);
      grad('pad reflect', (t) => pad(t, [1, 2, 2, 0], { mode: 'reflect' }), [x]);
      grad(
        'pad replicate',
        (t) =>
          pad(
            t,
            [
              [1, 1],
              [0, 2],
            ],
            { mode: 'replicate' },
          ),
        [x],
      );
      grad('pad circular', (t) => pad(t, [4, 0], { mode: 'circular' }), [x]);
    }),
  ];
};

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Bad-input rows for the indexing ops, in the form of the `errors` group's table: [op, call,
 * error class, message parts, and `true` where the error comes from reading index values].
 */
export function indexingErrorRows(): [string, () => unknown, ErrorClass, string[], boolean?][] {
  const t23 = () => zeros([2, 3]);
  const bad = <T>(v: unknown) => v as T;
  const list: [string, () => unknown, ErrorClass, string[], boolean?][] = [
    ['numel', () => numel(bad(null)), ArgumentError, ['Tensor']],
    ['view', () => view(t23(), [4, 2]), ShapeError, ['[2,3]', '[4,2]']],
    ['unflatten', () => unflatten(t23(), 1, [2, 2]), ShapeError, ['[3]', '[2,2]']],
    ['flip', () => flip(t23(), [0, -2]), AxisError, ['[0,-2]', 'repeat']],
    ['flip', () => flip(t23(), 2), AxisError, ['axis 2', 'rank 2']],
    ['roll', () => roll(t23(), [1, 2], 0), ArgumentError, ['[1,2]', 'length']],
    ['roll', () => roll(t23(), 1.5), ArgumentError, ['shifts', '1.5']],
    ['repeat', () => repeat(t23(), [2]), ArgumentError, ['at least 2', '[2,3]']],
    ['repeat', () => repeat(t23(), [1, -1]), ArgumentError, ['non-negative']],
    ['repeatInterleave', () => repeatInterleave(t23(), [1, 2], 1), ShapeError, ['2 entries', '[2,3]']],
    ['repeatInterleave', () => repeatInterleave(t23(), -1), ArgumentError, ['repeats', '-1']],
    ['repeatInterleave', () => repeatInterleave(t23(), 1, 0, { outputSize: -1 }), ArgumentError, ['outputSize', '-1']],
    ['repeatInterleave', () => repeatInterleave(t23(), [1, 2, 1], 1, { outputSize: 3 }), ArgumentError, ['outputSize 3', 'sum', '4']],
    [
      'repeatInterleave',
      () => repeatInterleave(t23(), i32([1, 1, 1]), 1, { outputSize: 4 }),
      ArgumentError,
      ['outputSize 4', 'sum', '3'],
      true,
    ],
    ['repeatInterleave', () => repeatInterleave(t23(), i32([1, -1, 1]), 1, { outputSize: 1 }), ArgumentError, ['non-negative', '-1'], true],
    ['tril', () => tril(zeros([3])), ShapeError, ['[3]', 'rank']],
    ['triu', () => triu(t23(), 0.5), ArgumentError, ['diagonal', '0.5']],
    ['diag', () => diag(zeros([2, 2, 2])), ShapeError, ['[2,2,2]']],
    ['diagonal', () => diagonal(t23(), 0, 1, -1), AxisError, ['differ', '[2,3]']],
    ['unfold', () => unfold(t23(), 1, 4, 1), ShapeError, ['size 4', '[2,3]']],
    ['unfold', () => unfold(t23(), 1, 2, 0), ArgumentError, ['step', '>= 1']],
    ['index', () => index(t23(), 0, 0, 0), IndexError, ['3 indices', '[2,3]']],
    ['index', () => index(t23(), 2), IndexError, ['index 2', 'axis 0']],
    ['index', () => index(t23(), ':', [0, 3, -1]), ArgumentError, ['step', '-1', 'flip']],
    ['index', () => index(t23(), tensor([0])), DTypeError, ['int32', 'float32']],
    ['index', () => index(t23(), i32([0, 5])), IndexError, ['index 5', 'axis 0'], true],
    ['index', () => index(t23(), i32([0, 1]), i32([0, 1, 2])), ShapeError, ['[2]', '[3]']],
    ['index', () => index(t23(), 'a:b'), ArgumentError, ['"a:b"']],
    ['index', () => index(t23(), '...', '...'), IndexError, ["'...'"]],
    ['gather', () => gather(t23(), 1, i32([[3]])), IndexError, ['index 3', 'dim 1', '[2,3]'], true],
    ['gather', () => gather(t23(), 1, i32([-1])), ShapeError, ['[1]', 'rank', '[2,3]']],
    ['gather', () => gather(t23(), 1, i32([[0], [1], [0]])), ShapeError, ['[3,1]', 'larger', '[2,3]']],
    ['gather', () => gather(t23(), 0, tensor([[0]])), DTypeError, ['int32', 'float32']],
    ['indexSelect', () => indexSelect(t23(), 1, [3]), IndexError, ['index 3', 'size 3'], true],
    ['scatterAdd', () => scatterAdd(t23(), 1, i32([[0, 1]]), zeros([1, 1])), ShapeError, ['[1,2]', 'src', '[1,1]']],
    ['scatter', () => scatter(t23(), 1, i32([[-1]]), 0), IndexError, ['index -1', 'dim 1'], true],
    ['scatter', () => scatter(t23(), 0, i32([[0]]), zeros([1])), ShapeError, ['src', '[1]', 'rank']],
    ['maskedFill', () => maskedFill(t23(), zeros([2, 2]), 0), ShapeError, ['[2,2]', '[2,3]']],
    ['maskedSelect', () => maskedSelect(t23(), zeros([2, 2], { dtype: 'int32' })), ShapeError, ['maskedSelect', '[2,3]', '[2,2]']],
    ['maskedFill', () => maskedFill(zeros([3]), zeros([2, 3]), 0), ShapeError, ['[2,3]', 'broadcast', '[3]']],
    ['maskedFill', () => maskedFill(t23(), zeros([3]), zeros([1])), ShapeError, ['0-d', '[1]']],
    ['einsum', () => einsum('ij,jk->ik', t23(), t23()), ShapeError, ["'j'", '3', '2']],
    ['einsum', () => einsum('ij->ik', t23()), ArgumentError, ["'k'"]],
    ['einsum', () => einsum('ijk', t23()), ShapeError, ['ijk', '[2,3]']],
    ['einsum', () => einsum('ij,jk', t23()), ArgumentError, ['2 operand terms', '1 tensors']],
    ['einsum', () => einsum('i1', t23()), ArgumentError, ["'i1'"]],
    ['pad', () => pad(t23(), [3, 3], { mode: 'reflect' }), ArgumentError, ['reflect', 'axis 1', 'at most 2']],
    ['pad', () => pad(t23(), [4, 0], { mode: 'circular' }), ArgumentError, ['circular', 'at most 3']],
    ['pad', () => pad(t23(), [1, 0], { mode: bad('wrap') }), ArgumentError, ['mode', 'wrap']],
    ['pad', () => pad(t23(), [1, 0, 1]), ArgumentError, ['even', '[1,0,1]']],
  ];
  return list.map(([op, fn, cls, parts, reads]) => [op, fn, cls, [`${op}:`, ...parts], reads]);
}
