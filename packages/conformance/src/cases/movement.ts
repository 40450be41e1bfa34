import {
  arange,
  broadcastTo,
  concat,
  flatten,
  gather,
  narrow,
  pad,
  reshape,
  scatterAdd,
  slice,
  squeeze,
  stack,
  tensor,
  transpose,
  unsqueeze,
  type Tensor,
} from '@bp/tensor';
import { expectClose, expectExact, expectMeta } from '../assert.js';
import { expectGradcheck, group, normal, type CaseBuilder } from '../context.js';
import { strides, unravel } from '../reference.js';

const c = group('movement');

/** Reference transpose: out[idx] = x[idx permuted back]. */
function transposeRef(v: ArrayLike<number>, shape: number[], perm: number[]): number[] {
  const outShape = perm.map((p) => shape[p]);
  const st = strides(shape);
  const n = v.length;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, outShape);
    let off = 0;
    perm.forEach((p, d) => (off += idx[d] * st[p]));
    out.push(v[off]);
  }
  return out;
}

/** Shape ops: reshape, transpose, flatten, (un)squeeze, slice, narrow, pad, concat, stack, gather, scatterAdd, broadcastTo. */
export const movementCases: CaseBuilder = (ctx) => {
  const { tol } = ctx;
  const grad = (name: string, fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]) => expectGradcheck(ctx, fn, inputs, name);
  return [
    c('reshape with -1, flatten, squeeze, unsqueeze', async () => {
      const x = arange(6).cast('float32');
      expectExact(
        reshape(x, [-1, 2]),
        [
          [0, 1],
          [2, 3],
          [4, 5],
        ],
        'float32',
        'reshape([-1,2])',
      );
      expectMeta(x.reshape([2, -1, 1]), [2, 3, 1], 'float32', 'reshape([2,-1,1])');
      expectMeta(x.reshape([6]).reshape([1, 6]), [1, 6], 'float32', 'reshape([1,6])');
      expectExact(tensor(5).reshape([1, 1]), [[5]], 'float32', 'reshape a scalar');
      const y = normal([2, 3, 4], 160);
      expectMeta(flatten(y), [2, 12], 'float32', 'flatten()');
      expectMeta(y.flatten(0), [24], 'float32', 'flatten(0)');
      expectMeta(y.flatten(0, 1), [6, 4], 'float32', 'flatten(0, 1)');
      expectClose(y.flatten(), await y.data(), tol, 'flatten keeps order', [2, 12]);
      const z = tensor([[[1], [2], [3]]]); // [1,3,1]
      expectExact(squeeze(z), [1, 2, 3], 'float32', 'squeeze()');
      expectMeta(z.squeeze(0), [3, 1], 'float32', 'squeeze(0)');
      expectMeta(z.squeeze([0, -1]), [3], 'float32', 'squeeze([0,-1])');
      expectMeta(z.squeeze(1), [1, 3, 1], 'float32', 'squeeze(1) of an axis of size 3 leaves it (as PyTorch)');
      expectMeta(z.squeeze([1, 2]), [1, 3], 'float32', 'squeeze([1,2]) removes only the axis of size 1');
      expectExact(squeeze(tensor(3)), 3, 'float32', 'squeeze of a 0-d tensor (regression)');
      expectExact(tensor(3).squeeze(0), 3, 'float32', 'squeeze(0) of a 0-d tensor');
      expectMeta(tensor(3).squeeze(-1), [], 'float32', 'squeeze(-1) of a 0-d tensor');
      expectExact(unsqueeze(tensor([1, 2]), 0), [[1, 2]], 'float32', 'unsqueeze(0)');
      expectExact(tensor([1, 2]).unsqueeze(-1), [[1], [2]], 'float32', 'unsqueeze(-1)');
    }),
    c('transpose reverses axes or applies a permutation', async () => {
      expectExact(
        transpose(
          tensor([
            [1, 2, 3],
            [4, 5, 6],
          ]),
        ),
        [
          [1, 4],
          [2, 5],
          [3, 6],
        ],
        'float32',
        'transpose()',
      );
      expectExact(
        tensor([
          [1, 2],
          [3, 4],
        ]).T,
        [
          [1, 3],
          [2, 4],
        ],
        'float32',
        '.T',
      );
      const shape = [2, 3, 4];
      const x = normal(shape, 161);
      const v = await x.data();
      for (const perm of [
        [1, 0, 2],
        [2, 0, 1],
        [0, 2, 1],
        [2, 1, 0],
      ]) {
        expectClose(
          x.transpose(perm),
          transposeRef(v, shape, perm),
          tol,
          `transpose([${perm}])`,
          perm.map((p) => shape[p]),
        );
      }
      expectClose(x.transpose([-1, 0, 1]), transposeRef(v, shape, [2, 0, 1]), tol, 'transpose([-1,0,1])', [4, 2, 3]);
      expectClose(x.transpose(), transposeRef(v, shape, [2, 1, 0]), tol, 'transpose() of rank 3', [4, 3, 2]);
      expectExact(tensor([[1, 2]], { dtype: 'int32' }).transpose(), [[1], [2]], 'int32', 'transpose keeps int32');
    }),
    c('slice and narrow, with -1 sizes and negative begins', () => {
      const x = tensor([
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, 9],
      ]);
      expectExact(
        slice(x, [1, 0], [2, 2]),
        [
          [4, 5],
          [7, 8],
        ],
        'float32',
        'slice([1,0],[2,2])',
      );
      expectExact(x.slice([0, 1], [-1, 1]), [[2], [5], [8]], 'float32', 'slice([0,1],[-1,1])');
      expectExact(
        x.slice(1),
        [
          [4, 5, 6],
          [7, 8, 9],
        ],
        'float32',
        'slice(1)',
      );
      expectExact(x.slice([-1]), [[7, 8, 9]], 'float32', 'slice([-1])');
      expectExact(
        x.slice([0, 0], [3, 3]),
        [
          [1, 2, 3],
          [4, 5, 6],
          [7, 8, 9],
        ],
        'float32',
        'slice of everything',
      );
      expectExact(
        narrow(x, 1, 1, 2),
        [
          [2, 3],
          [5, 6],
          [8, 9],
        ],
        'float32',
        'narrow(1, 1, 2)',
      );
      expectExact(x.narrow(0, 2, 1), [[7, 8, 9]], 'float32', 'narrow(0, 2, 1)');
      expectExact(
        x.narrow(1, -2, 2),
        [
          [2, 3],
          [5, 6],
          [8, 9],
        ],
        'float32',
        'narrow with a negative start',
      );
      expectMeta(x.narrow(0, 1, 0), [0, 3], 'float32', 'narrow to zero length');
    }),
    c('pad with zeros and with a value', () => {
      const x = tensor([[1, 2]]);
      expectExact(
        pad(x, [
          [1, 0],
          [0, 2],
        ]),
        [
          [0, 0, 0, 0],
          [1, 2, 0, 0],
        ],
        'float32',
        'pad with 0',
      );
      expectExact(
        x.pad(
          [
            [0, 1],
            [1, 1],
          ],
          -1,
        ),
        [
          [-1, 1, 2, -1],
          [-1, -1, -1, -1],
        ],
        'float32',
        'pad with -1',
      );
      expectExact(pad(tensor([1, 2], { dtype: 'int32' }), [[1, 1]]), [0, 1, 2, 0], 'int32', 'pad keeps int32');
      // Negative pads crop that side first (PyTorch: F.pad(arange(12).reshape(3, 4), (-1, 2, 1, -2), value=7)).
      expectExact(
        pad(arange(12).cast('float32').reshape([3, 4]), [-1, 2, 1, -2], 7),
        [
          [7, 7, 7, 7, 7],
          [1, 2, 3, 7, 7],
        ],
        'float32',
        'pad with negative pads',
      );
      expectExact(pad(arange(4).cast('float32'), [-1, 1], { mode: 'reflect' }), [1, 2, 3, 2], 'float32', 'reflect after a crop');
    }),
    c('concat and stack along any axis', () => {
      const a = tensor([
        [1, 2],
        [3, 4],
      ]);
      const b = tensor([[5, 6]]);
      expectExact(
        concat([a, b], 0),
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        'float32',
        'concat axis 0',
      );
      expectExact(
        concat([a, tensor([[7], [8]]), a], 1),
        [
          [1, 2, 7, 1, 2],
          [3, 4, 8, 3, 4],
        ],
        'float32',
        'concat axis 1',
      );
      expectExact(
        concat([a, tensor([[7], [8]])], -1),
        [
          [1, 2, 7],
          [3, 4, 8],
        ],
        'float32',
        'concat axis -1',
      );
      expectExact(concat([tensor([1], { dtype: 'int32' }), tensor([2.5])]), [1, 2.5], 'float32', 'concat promotes int32 + float32');
      expectExact(concat([tensor([1], { dtype: 'int32' }), tensor([2], { dtype: 'int32' })]), [1, 2], 'int32', 'concat of int32');
      expectExact(
        stack([tensor([1, 2]), tensor([3, 4])]),
        [
          [1, 2],
          [3, 4],
        ],
        'float32',
        'stack axis 0',
      );
      expectExact(
        stack([tensor([1, 2]), tensor([3, 4])], 1),
        [
          [1, 3],
          [2, 4],
        ],
        'float32',
        'stack axis 1',
      );
      expectExact(
        stack([tensor([1, 2]), tensor([3, 4]), tensor([5, 6])], -1),
        [
          [1, 3, 5],
          [2, 4, 6],
        ],
        'float32',
        'stack axis -1',
      );
    }),
    c('gather selects along an axis; scatterAdd adds back', () => {
      const x = tensor([
        [1, 2],
        [3, 4],
        [5, 6],
      ]);
      expectExact(
        gather(x, [2, 0, 2]),
        [
          [5, 6],
          [1, 2],
          [5, 6],
        ],
        'float32',
        'gather rows',
      );
      expectExact(x.gather(tensor([1], { dtype: 'int32' }), 1), [[2], [4], [6]], 'float32', 'gather axis 1');
      expectExact(
        x.gather(
          tensor(
            [
              [0, 1],
              [2, 2],
            ],
            { dtype: 'int32' },
          ),
          0,
        ),
        [
          [
            [1, 2],
            [3, 4],
          ],
          [
            [5, 6],
            [5, 6],
          ],
        ],
        'float32',
        'gather with 2-D indices',
      );
      expectExact(x.gather([1], -1), [[2], [4], [6]], 'float32', 'gather axis -1');
      expectExact(gather(tensor([10, 20, 30], { dtype: 'int32' }), [2, 1]), [30, 20], 'int32', 'gather keeps int32');
      const src = tensor([
        [1, 2],
        [3, 4],
        [5, 6],
      ]);
      expectExact(
        scatterAdd(src, [0, 2, 0], 0, [3, 2]),
        [
          [6, 8],
          [0, 0],
          [3, 4],
        ],
        'float32',
        'scatterAdd repeated rows',
      );
      expectExact(scatterAdd(tensor([[1, 2]]), [2, 0], 1, [1, 3]), [[2, 0, 1]], 'float32', 'scatterAdd axis 1');
    }),
    c('broadcastTo repeats size-1 and missing axes', () => {
      expectExact(
        broadcastTo(tensor([1, 2, 3]), [2, 3]),
        [
          [1, 2, 3],
          [1, 2, 3],
        ],
        'float32',
        '[3] to [2,3]',
      );
      expectExact(
        tensor([[1], [2]]).broadcastTo([2, 3]),
        [
          [1, 1, 1],
          [2, 2, 2],
        ],
        'float32',
        '[2,1] to [2,3]',
      );
      expectExact(tensor(7).broadcastTo([2]), [7, 7], 'float32', '[] to [2]');
      expectExact(
        tensor([[1], [2]], { dtype: 'int32' }).broadcastTo([2, 2]),
        [
          [1, 1],
          [2, 2],
        ],
        'int32',
        'broadcastTo keeps int32',
      );
      // torch.tensor([[1.], [2.]]).expand(-1, 3) -> [[1, 1, 1], [2, 2, 2]]: -1 keeps the size of an axis x has.
      expectExact(
        broadcastTo(tensor([[1], [2]]), [-1, 3]),
        [
          [1, 1, 1],
          [2, 2, 2],
        ],
        'float32',
        '[2,1] to [-1,3]',
      );
      expectMeta(broadcastTo(tensor([1, 2, 3]), [2, -1]), [2, 3], 'float32', '[3] to [2,-1]');
      expectMeta(broadcastTo(tensor([[1], [2]]), [4, -1, -1]), [4, 2, 1], 'float32', '[2,1] to [4,-1,-1]');
    }),
    c('reshape transpose flatten unsqueeze squeeze broadcastTo: gradcheck', () => {
      const x = normal([2, 3, 4], 170);
      grad('reshape', (t) => t.reshape([4, -1]), [x]);
      grad('transpose([2,0,1])', (t) => t.transpose([2, 0, 1]), [x]);
      grad('transpose([1,0,2])', (t) => t.transpose([1, 0, 2]), [x]);
      grad('transpose()', (t) => transpose(t), [normal([3, 4], 171)]);
      grad('flatten', (t) => flatten(t, 0, 1), [x]);
      grad('unsqueeze', (t) => unsqueeze(t, 1), [normal([3, 2], 172)]);
      grad('squeeze', (t) => squeeze(t), [normal([3, 1, 2], 173)]);
      grad('broadcastTo', (t) => broadcastTo(t, [2, 3, 4]), [normal([3, 1], 174)]);
    }),
    c('slice narrow pad: gradcheck', () => {
      const x = normal([3, 4], 175);
      grad('slice', (t) => slice(t, [1, 1], [2, -1]), [x]);
      grad('narrow', (t) => narrow(t, 1, 1, 2), [x]);
      grad(
        'pad',
        (t) =>
          pad(
            t,
            [
              [1, 0],
              [2, 1],
            ],
            0.5,
          ),
        [x],
      );
      grad('pad with negative pads', (t) => pad(t, [-1, 2, 1, -1], { mode: 'replicate' }), [x]);
    }),
    c('concat stack: gradcheck', () => {
      grad('concat', (a, b, d) => concat([a, b, d], 1), [normal([2, 1], 176), normal([2, 3], 177), normal([2, 2], 178)]);
      grad('stack', (a, b) => stack([a, b], 1), [normal([2, 3], 179), normal([2, 3], 180)]);
    }),
    c('gather scatterAdd: gradcheck with repeated indices', () => {
      grad('gather axis 0', (t) => gather(t, [2, 0, 2, 1]), [normal([3, 2], 181)]);
      grad(
        'gather axis 1',
        (t) =>
          gather(
            t,
            tensor(
              [
                [1, 0],
                [1, 1],
              ],
              { dtype: 'int32' },
            ),
            1,
          ),
        [normal([2, 3], 182)],
      );
      grad('scatterAdd', (t) => scatterAdd(t, [0, 2, 0], 0, [3, 2]), [normal([3, 2], 183)]);
    }),
  ];
};
