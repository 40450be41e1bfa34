import { avgPool2d, col2im, concat, conv2d, im2col, maxPool2d, ones, tensor, transpose, window2d, type Tensor } from '@bp/tensor';
import { col2imWide, conv2dBackward, im2colWide, reluMaxPool2d } from '@bp/tensor/internal';
import { check, expectClose, expectExact, expectMeta } from '../assert.js';
import { distinct, expectGradcheck, group, normal, type CaseBuilder } from '../context.js';
import { conv2dRef, poolRef } from '../reference.js';

const c = group('window');

const grid = (h: number, w: number) =>
  tensor(
    Array.from({ length: h * w }, (_, i) => i + 1),
    { shape: [1, 1, h, w] },
  );

/** Sliding windows: im2col, col2im, conv2d, maxPool2d, avgPool2d; values and gradients. */
export const windowCases: CaseBuilder = (ctx) => {
  const { tol, quick } = ctx;
  return [
    c('window2d geometry', () => {
      const w = window2d('conv2d', [2, 3, 7, 7], 3, { stride: 2, padding: 1 });
      check(w.outH === 4 && w.outW === 4 && w.kh === 3 && w.padH === 1 && w.strideW === 2, `window2d gave ${JSON.stringify(w)}`);
      const r = window2d('conv2d', [1, 1, 5, 6], [2, 3]);
      check(r.outH === 4 && r.outW === 4, `window2d [2,3] kernel gave ${JSON.stringify(r)}`);
    }),
    c('im2col unfolds windows and col2im folds them back adding overlaps', () => {
      const x = grid(3, 3);
      const cols = im2col(x, 2);
      expectExact(
        cols,
        [
          [
            [1, 2, 4, 5],
            [2, 3, 5, 6],
            [4, 5, 7, 8],
            [5, 6, 8, 9],
          ],
        ],
        'float32',
        'im2col 2x2',
      );
      const padded = im2col(x, 3, { padding: 1, stride: 2 });
      expectMeta(padded, [1, 9, 4], 'float32', 'im2col padded');
      // Kernel cell (0,0) reads the top-left neighbour of each window centre; only the last one is inside the image.
      expectExact(padded.slice([0, 0, 0], [1, 1, 4]), [[[0, 0, 0, 5]]], 'float32', 'im2col padding reads 0');
      const win = window2d('im2col', [1, 1, 3, 3], 2);
      expectExact(
        col2im(ones([1, 4, 4]), win),
        [
          [
            [
              [1, 2, 1],
              [2, 4, 2],
              [1, 2, 1],
            ],
          ],
        ],
        'float32',
        'col2im counts overlaps',
      );
    }),
    c('im2colWide col2imWide lay the batch side by side', async () => {
      const x = tensor(
        Array.from({ length: 18 }, (_, i) => i + 1),
        { shape: [2, 1, 3, 3] },
      );
      // Image 0's four windows, then image 1's (its cells are image 0's plus 9).
      expectExact(
        im2colWide(x, 2),
        [
          [1, 2, 4, 5, 10, 11, 13, 14],
          [2, 3, 5, 6, 11, 12, 14, 15],
          [4, 5, 7, 8, 13, 14, 16, 17],
          [5, 6, 8, 9, 14, 15, 17, 18],
        ],
        'float32',
        'im2colWide 2x2',
      );
      const y = normal([3, 2, 5, 6], 242);
      const opts = { stride: 2, padding: 1 };
      const wide = await im2colWide(y, 3, opts).data();
      const perImage = await transpose(im2col(y, 3, opts), [1, 0, 2]).data();
      check(
        wide.length === perImage.length && wide.every((v, i) => v === perImage[i]),
        'im2colWide is im2col with the batch moved inside each row',
      );
      const win = window2d('col2imWide', [2, 1, 3, 3], 2);
      expectExact(
        col2imWide(ones([4, 8]), win),
        [
          [
            [
              [1, 2, 1],
              [2, 4, 2],
              [1, 2, 1],
            ],
          ],
          [
            [
              [1, 2, 1],
              [2, 4, 2],
              [1, 2, 1],
            ],
          ],
        ],
        'float32',
        'col2imWide counts overlaps',
      );
    }),
    c('conv2d (hand-derived)', () => {
      const x = grid(3, 3);
      const w = tensor([
        [
          [
            [1, 0],
            [0, -1],
          ],
        ],
      ]);
      expectClose(
        conv2d(x, w),
        [
          [
            [
              [-4, -4],
              [-4, -4],
            ],
          ],
        ],
        tol,
        'conv2d',
      );
      expectClose(
        conv2d(x, w, tensor([1])),
        [
          [
            [
              [-3, -3],
              [-3, -3],
            ],
          ],
        ],
        tol,
        'conv2d with bias',
      );
      const sumK = tensor([
        [
          [
            [1, 1],
            [1, 1],
          ],
        ],
        [
          [
            [0, 0],
            [0, 2],
          ],
        ],
      ]); // two output channels
      expectClose(
        conv2d(x, sumK, null, { stride: 2, padding: 1 }),
        [
          [
            [
              [1, 5],
              [11, 28],
            ],
            [
              [2, 6],
              [14, 18],
            ],
          ],
        ],
        tol,
        'conv2d stride 2 padding 1',
      );
    }),
    c('conv2d agrees with a direct loop (stride, padding, several channels)', async () => {
      const configs: [number[], number[], number, number][] = [
        [[2, 3, 7, 7], [4, 3, 3, 3], 2, 1],
        [[1, 2, 5, 6], [3, 2, 2, 3], 1, 0],
        [[2, 1, 6, 6], [2, 1, 5, 5], 1, 2],
      ];
      for (const [k, [xs, ws, stride, padding]] of configs.entries()) {
        const x = normal(xs, 200 + k);
        const w = normal(ws, 210 + k);
        const b = normal([ws[0]], 220 + k);
        const want = conv2dRef(await x.data(), xs, await w.data(), ws, await b.data(), stride, padding);
        expectClose(conv2d(x, w, b, { stride, padding }), want.values, tol, `conv2d [${xs}] * [${ws}] s${stride} p${padding}`, want.shape);
      }
    }),
    c('maxPool2d avgPool2d (hand-derived)', () => {
      const x = grid(4, 4);
      expectClose(
        maxPool2d(x, 2),
        [
          [
            [
              [6, 8],
              [14, 16],
            ],
          ],
        ],
        tol,
        'maxPool2d 2',
      );
      expectClose(
        avgPool2d(x, 2),
        [
          [
            [
              [3.5, 5.5],
              [11.5, 13.5],
            ],
          ],
        ],
        tol,
        'avgPool2d 2',
      );
      expectClose(maxPool2d(x, 2, { stride: 1 }).slice([0, 0, 0, 0], [1, 1, 1, 3]), [[[[6, 7, 8]]]], tol, 'maxPool2d stride 1');
      const neg = x.neg();
      expectClose(
        maxPool2d(neg, 3, { stride: 2, padding: 1 }),
        [
          [
            [
              [-1, -2],
              [-5, -6],
            ],
          ],
        ],
        tol,
        'maxPool2d padding never wins',
      );
    }),
    c('maxPool2d avgPool2d agree with a direct loop', async () => {
      const x = normal([2, 3, 7, 7], 230);
      const v = await x.data();
      const cases: ['max' | 'avg', number, number, number][] = [
        ['max', 2, 2, 0],
        ['max', 3, 2, 1],
        ['avg', 2, 2, 0],
        ['avg', 3, 1, 1],
      ];
      for (const [kind, k, s, p] of cases) {
        const want = poolRef(v, [2, 3, 7, 7], kind, k, s, p);
        const got = kind === 'max' ? maxPool2d(x, k, { stride: s, padding: p }) : avgPool2d(x, k, { stride: s, padding: p });
        expectClose(got, want.values, tol, `${kind}Pool2d k${k} s${s} p${p}`, want.shape);
      }
    }),
    c('im2col col2im: gradcheck', () => {
      const x = normal([1, 2, 4, 4], 240);
      expectGradcheck(ctx, (t) => im2col(t, 3, { stride: 1, padding: 1 }), [x], 'im2col');
      const win = window2d('col2im', [1, 2, 4, 4], 2, { stride: 2 });
      expectGradcheck(ctx, (t) => col2im(t, win), [normal([1, 8, 4], 241)], 'col2im');
    }),
    c('im2colWide col2imWide: gradcheck', () => {
      const x = normal([2, 2, 4, 4], 243);
      expectGradcheck(ctx, (t) => im2colWide(t, 3, { stride: 1, padding: 1 }), [x], 'im2colWide');
      const win = window2d('col2imWide', [2, 2, 4, 4], 2, { stride: 2 });
      expectGradcheck(ctx, (t) => col2imWide(t, win), [normal([8, 8], 244)], 'col2imWide');
    }),
    c('conv2d: gradcheck of input, weight and bias', () => {
      const configs: [number[], number[], number, number][] = quick
        ? [[[1, 1, 4, 4], [2, 1, 3, 3], 2, 1]]
        : [
            [[2, 2, 5, 5], [3, 2, 3, 3], 2, 1],
            [[1, 2, 4, 5], [2, 2, 2, 3], 1, 0],
          ];
      configs.forEach(([xs, ws, stride, padding], k) => {
        expectGradcheck(
          ctx,
          (x: Tensor, w: Tensor, b: Tensor) => conv2d(x, w, b, { stride, padding }),
          [normal(xs, 250 + k), normal(ws, 260 + k).mul(0.5), normal([ws[0]], 270 + k)],
          `conv2d [${xs}] * [${ws}] s${stride} p${padding}`,
        );
      });
    }),
    c('conv2dBackward: each gradient is the adjoint of conv2d, and only the asked-for ones are computed', async () => {
      // <dy, conv2d(x, w, b)> is linear in each of x, w, b: its gradient with respect to each is what
      // conv2dBackward returns, so <dy, conv2d(e_i ...)> for unit tensors gives each entry exactly.
      const xs = [2, 2, 5, 4];
      const ws = [3, 2, 3, 2];
      const opts = { stride: 2, padding: 1 };
      const x = normal(xs, 290);
      const w = normal(ws, 291);
      const win = window2d('conv2d', xs, [3, 2], opts);
      const dy = normal([2, 3, win.outH, win.outW], 292);
      const [dx, dw, db] = conv2dBackward(dy, x, w, win);
      // Every <dy, conv2d(...)> issued first, then read together (one read on an asynchronous backend).
      const dot = (a: Tensor): Tensor => a.mul(dy).sum().reshape([1]);
      const unit = (shape: number[], i: number): Tensor => {
        const v = new Float32Array(shape.reduce((p, q) => p * q, 1));
        v[i] = 1;
        return tensor(v, { shape });
      };
      const wantDx = Array.from(await concat(Array.from({ length: x.size }, (_, i) => dot(conv2d(unit(xs, i), w, null, opts)))).data());
      const wantDw = Array.from(await concat(Array.from({ length: w.size }, (_, i) => dot(conv2d(x, unit(ws, i), null, opts)))).data());
      const wantDb = Array.from(await concat(Array.from({ length: 3 }, (_, i) => dot(conv2d(x.mul(0), w, unit([3], i), opts)))).data());
      expectClose(dx!, wantDx, tol, 'conv2dBackward input gradient', xs);
      expectClose(dw!, wantDw, tol, 'conv2dBackward weight gradient', ws);
      expectClose(db!, wantDb, tol, 'conv2dBackward bias gradient', [3]);
      const [nx, nw, onlyB] = conv2dBackward(dy, x, w, win, [false, false, true]);
      check(nx === null && nw === null, 'conv2dBackward leaves out the gradients not asked for');
      expectClose(onlyB!, wantDb, tol, 'conv2dBackward bias gradient alone', [3]);
    }),
    c('reluMaxPool2d: the values and gradient of maxPool2d(relu(x)); gradcheck', async () => {
      // Window [[-1, 3], [2, -5]] pools 3 (its gradient to the 3); [[-2, -1], [-3, -4]] pools 0 (none).
      const x = tensor([
        [
          [
            [-1, 3, -2, -1],
            [2, -5, -3, -4],
          ],
        ],
      ]);
      x.requiresGrad = true;
      const y = reluMaxPool2d(x, 2);
      expectClose(y, [[[[3, 0]]]], tol, 'reluMaxPool2d 2');
      y.mul(tensor([[[[10, 20]]]]))
        .sum()
        .backward();
      expectClose(
        x.grad!,
        [
          [
            [
              [0, 10, 0, 0],
              [0, 0, 0, 0],
            ],
          ],
        ],
        tol,
        'reluMaxPool2d gradient',
      );
      const v = distinct([1, 2, 6, 6], 284).add(0.05);
      expectClose(
        reluMaxPool2d(v, 3, { stride: 2, padding: 1 }),
        await maxPool2d(v.relu(), 3, { stride: 2, padding: 1 }).data(),
        tol,
        'reluMaxPool2d 3 s2 p1',
      );
      expectGradcheck(ctx, (t) => reluMaxPool2d(t, 2), [distinct([1, 2, 4, 4], 285).add(0.05)], 'reluMaxPool2d 2');
    }),
    c('maxPool2d avgPool2d: gradcheck', () => {
      expectGradcheck(ctx, (t) => maxPool2d(t, 2), [distinct([1, 2, 4, 4], 280)], 'maxPool2d 2');
      expectGradcheck(ctx, (t) => avgPool2d(t, 2), [normal([1, 2, 4, 4], 281)], 'avgPool2d 2');
      if (!quick) {
        expectGradcheck(ctx, (t) => maxPool2d(t, 3, { stride: 2, padding: 1 }), [distinct([1, 1, 5, 5], 282)], 'maxPool2d 3 s2 p1');
        expectGradcheck(ctx, (t) => avgPool2d(t, 3, { stride: 1, padding: 1 }), [normal([1, 1, 4, 4], 283)], 'avgPool2d 3 s1 p1');
      }
    }),
  ];
};
