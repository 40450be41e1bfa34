import { matmul, matmulT, ones, tensor, type Tensor } from '@bp/tensor';
import { check, expectClose, expectMeta } from '../assert.js';
import { expectGradcheck, group, normal, type CaseBuilder } from '../context.js';
import { matmulRef } from '../reference.js';

const c = group('matmul');

/** Matrix products: 2-D, batched, broadcast batch axes, vectors, transposed flags; values and gradients. */
export const matmulCases: CaseBuilder = (ctx) => {
  const { tol } = ctx;
  const shapes: [number[], number[]][] = ctx.quick
    ? [
        [
          [2, 3],
          [3, 2],
        ],
        [
          [2, 2, 3],
          [3, 2],
        ],
      ]
    : [
        [
          [3, 4],
          [4, 2],
        ],
        [
          [2, 3, 4],
          [4, 5],
        ],
        [
          [3, 4],
          [2, 4, 2],
        ],
        [
          [2, 1, 2, 3],
          [3, 3, 2],
        ],
        [[3], [3, 2]],
        [[2, 3], [3]],
        [[3], [3]],
        [[3], [2, 3, 4]],
      ];
  return [
    c('matmul 2-D, batched and vectors (hand-derived)', () => {
      const a = tensor([
        [1, 2],
        [3, 4],
      ]);
      const b = tensor([
        [5, 6],
        [7, 8],
      ]);
      expectClose(
        matmul(a, b),
        [
          [19, 22],
          [43, 50],
        ],
        tol,
        '2-D',
      );
      expectClose(
        a.matmul(b),
        [
          [19, 22],
          [43, 50],
        ],
        tol,
        '2-D as a method',
      );
      const batch = tensor([
        [
          [1, 2],
          [3, 4],
        ],
        [
          [1, 0],
          [0, 1],
        ],
      ]);
      expectClose(
        matmul(batch, b),
        [
          [
            [19, 22],
            [43, 50],
          ],
          [
            [5, 6],
            [7, 8],
          ],
        ],
        tol,
        'batched @ matrix',
      );
      expectClose(matmul(tensor([1, 2]), a), [7, 10], tol, 'vector @ matrix');
      expectClose(matmul(a, tensor([1, 1])), [3, 7], tol, 'matrix @ vector');
      const dot = matmul(tensor([1, 2, 3]), tensor([4, 5, 6]));
      expectMeta(dot, [], 'float32', 'vector @ vector');
      expectClose(dot, 32, tol, 'vector @ vector');
      expectClose(matmul(tensor([[1, 2]], { dtype: 'int32' }), tensor([[3], [4]], { dtype: 'int32' })), [[11]], tol, 'int32 @ int32');
      expectMeta(
        matmul(tensor([[1, 2]], { dtype: 'int32' }), tensor([[3], [4]], { dtype: 'int32' })),
        [1, 1],
        'float32',
        'int32 @ int32 is float32',
      );
    }),
    c('matmul with an empty batch against a single matrix is empty (as PyTorch)', async () => {
      for (const [a, b] of [
        [
          [0, 2, 3],
          [3, 4],
        ],
        [
          [2, 3],
          [0, 3, 4],
        ],
      ]) {
        const out = matmul(ones(a), ones(b));
        expectMeta(out, [0, 2, 4], 'float32', `[${a}] @ [${b}]`);
        const n = (await out.data()).length;
        check(n === 0, () => `[${a}] @ [${b}]: expected no values, got ${n}`);
      }
      const w = ones([3, 4], { requiresGrad: true });
      matmul(ones([0, 2, 3]), w)
        .sum()
        .backward();
      expectClose(
        w.grad!,
        Array.from({ length: 3 }, () => [0, 0, 0, 0]),
        tol,
        'the gradient of the single matrix is zero',
      );
    }),
    c('matmul with broadcast batch axes agrees with an explicit loop', async () => {
      const cases: [number[], number[]][] = [
        [
          [2, 1, 3, 4],
          [3, 4, 2],
        ],
        [
          [5, 2, 3],
          [1, 3, 4],
        ],
        [
          [2, 3, 4],
          [4, 5],
        ],
        [
          [3, 4],
          [2, 4, 3],
        ],
      ];
      for (const [k, [sa, sb]] of cases.entries()) {
        const a = normal(sa, 100 + k);
        const b = normal(sb, 110 + k);
        const want = matmulRef(await a.data(), sa, await b.data(), sb);
        expectClose(matmul(a, b), want.values, tol, `[${sa}] @ [${sb}]`, want.shape);
      }
    }),
    c('matmulT transposes either operand', async () => {
      const a = normal([2, 3, 4], 120);
      const b = normal([4, 5], 121);
      const ab = await matmul(a, b).data();
      const aT = a.transpose([0, 2, 1]);
      const bT = b.transpose();
      expectClose(matmulT(aT, b, true, false), ab, tol, 'A^T flag', [2, 3, 5]);
      expectClose(matmulT(a, bT, false, true), ab, tol, 'B^T flag', [2, 3, 5]);
      expectClose(matmulT(aT, bT, true, true), ab, tol, 'both flags', [2, 3, 5]);
    }),
    c('matmul: gradcheck on 2-D, batched, broadcast batch and vector operands', () => {
      shapes.forEach(([sa, sb], k) => {
        expectGradcheck(ctx, matmul, [normal(sa, 130 + k), normal(sb, 140 + k)], `matmul [${sa}] @ [${sb}]`);
      });
    }),
    c('matmulT: gradcheck with every transpose flag', () => {
      const flags: [boolean, boolean][] = ctx.quick
        ? [[true, true]]
        : [
            [false, true],
            [true, false],
            [true, true],
          ];
      for (const [ta, tb] of flags) {
        const a = normal(ta ? [2, 4, 3] : [2, 3, 4], 150);
        const b = normal(tb ? [5, 4] : [4, 5], 151);
        expectGradcheck(ctx, (x: Tensor, y: Tensor) => matmulT(x, y, ta, tb), [a, b], `matmulT(${ta}, ${tb})`);
      }
    }),
  ];
};
