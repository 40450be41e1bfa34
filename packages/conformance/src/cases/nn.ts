import {
  layerNorm,
  linear,
  logSoftmax,
  logSumExp,
  oneHot,
  scaledDotProductAttention,
  softmax,
  tensor,
  zeros,
  type Tensor,
} from '@bp/tensor';
import {
  adamUpdateInPlace,
  attentionHeads,
  selfAttentionHeads,
  hasFusedAdam,
  probabilityNll,
  scaleInPlace,
  softmaxCrossEntropy,
  sumOfSquares,
} from '@bp/tensor/internal';
import { getBackend, valueChecksOn } from '@bp/tensor';
import { gradsOf } from './elementwise-math.js';
import { check, expectClose, expectExact, expectFinite, expectMeta } from '../assert.js';
import { expectGradcheck, group, normal, type CaseBuilder } from '../context.js';

const c = group('nn');

function softmaxRef(v: number[]): number[] {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** softmax, logSoftmax, logSumExp and oneHot: values, stability at +-1e4, gradients. */
export const nnCases: CaseBuilder = (ctx) => {
  const { tol } = ctx;
  return [
    c('softmax logSoftmax along the last axis and along axis 0', async () => {
      const row = [1, 2, 3];
      const sm = softmaxRef(row);
      expectClose(softmax(tensor([row])), [sm], tol, 'softmax');
      expectClose(tensor([row]).logSoftmax(), [sm.map(Math.log)], tol, 'logSoftmax');
      const s0 = softmaxRef([1, 3]);
      expectClose(
        softmax(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          0,
        ),
        [
          [s0[0], s0[0]],
          [s0[1], s0[1]],
        ],
        tol,
        'softmax(axis 0)',
      );
      expectClose(
        logSoftmax(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          0,
        ),
        [
          [Math.log(s0[0]), Math.log(s0[0])],
          [Math.log(s0[1]), Math.log(s0[1])],
        ],
        tol,
        'logSoftmax(axis 0)',
      );
      const x = normal([2, 3, 4], 90);
      const sums = softmax(x, 1).sum(1);
      expectClose(
        sums,
        [
          [1, 1, 1, 1],
          [1, 1, 1, 1],
        ],
        tol,
        'softmax(axis 1) sums to 1',
      );
      expectClose(logSoftmax(x, 1).exp(), await softmax(x, 1).data(), tol, 'exp(logSoftmax) = softmax', [2, 3, 4]);
      expectClose(tensor([[1, 2, 3]]).softmax(-1), [sm], tol, 'softmax as a method');
    }),
    c('softmax logSoftmax logSumExp are stable at +-1e4', () => {
      const big = tensor([
        [1e4, 0, -1e4],
        [-1e4, -1e4, -1e4],
        [1e4, 1e4, 1e4],
      ]);
      const s = softmax(big);
      expectFinite(s, 'softmax');
      expectClose(
        s,
        [
          [1, 0, 0],
          [1 / 3, 1 / 3, 1 / 3],
          [1 / 3, 1 / 3, 1 / 3],
        ],
        tol,
        'softmax at +-1e4',
      );
      const ls = logSoftmax(big);
      expectFinite(ls, 'logSoftmax');
      const l3 = -Math.log(3);
      expectClose(
        ls,
        [
          [0, -1e4, -2e4],
          [l3, l3, l3],
          [l3, l3, l3],
        ],
        tol,
        'logSoftmax at +-1e4',
      );
      const col = logSoftmax(tensor([[1e4], [-1e4]]), 0);
      expectClose(col, [[0], [-2e4]], tol, 'logSoftmax(axis 0) at +-1e4');
      expectClose(
        logSumExp(
          tensor([
            [1e4, 1e4],
            [-1e4, -1e4],
          ]),
        ),
        [1e4 + Math.LN2, -1e4 + Math.LN2],
        tol,
        'logSumExp',
      );
    }),
    c('logSumExp with keepDims and axes', () => {
      const x = tensor([
        [0, Math.log(3)],
        [1, 1],
      ]);
      expectClose(logSumExp(x, -1), [Math.log(4), 1 + Math.LN2], tol, 'logSumExp(-1)');
      expectClose(logSumExp(x, 0, true), [[Math.log(1 + Math.E), Math.log(3 + Math.E)]], tol, 'logSumExp(0, keepDims)');
    }),
    c('logSumExp over a list of axes (a PyTorch dim tuple) and over all of them, with its gradient (hand-derived)', () => {
      // exp(x) sums to 1 + 3 + 2 + 2 = 8 over axes 0 and 2; the gradient is exp(x) / 8.
      const x = tensor([[[0, Math.log(3)]], [[Math.LN2, Math.LN2]]]);
      expectClose(logSumExp(x, [0, 2]), [Math.log(8)], tol, 'logSumExp([0, 2])');
      expectClose(logSumExp(x, [2, 0], true), [[[Math.log(8)]]], tol, 'logSumExp([2, 0], keepDims)');
      expectClose(logSumExp(x, null), Math.log(8), tol, 'logSumExp(null)');
      expectClose(gradsOf([x], (t) => logSumExp(t, [0, 2]))[0], [[[1 / 8, 3 / 8]], [[1 / 4, 1 / 4]]], tol, 'gradient');
      expectClose(
        logSumExp(
          tensor([
            [-Infinity, -Infinity],
            [-Infinity, 0],
          ]),
          [0, 1],
        ),
        0,
        tol,
        'with -Infinity',
      );
    }),
    c('logSumExp of a slice of -Infinity is -Infinity, of one holding Infinity is Infinity (as in PyTorch)', () => {
      const x = tensor([
        [-Infinity, -Infinity, -Infinity],
        [-Infinity, 0, Math.log(3)],
        [1, Infinity, -Infinity],
      ]);
      expectClose(logSumExp(x), [-Infinity, Math.log(4), Infinity], tol, 'logSumExp(-1)');
      expectClose(logSumExp(x, 0), [1, Infinity, Math.log(3)], tol, 'logSumExp(0)');
      expectClose(logSumExp(zeros([2, 0]), 1), [-Infinity, -Infinity], tol, 'logSumExp over an empty axis');
      // torch.logsumexp(torch.zeros(0, 3), 0) -> [-inf, -inf, -inf]
      expectClose(logSumExp(zeros([0, 3]), 0), [-Infinity, -Infinity, -Infinity], tol, 'logSumExp over an empty leading axis');
    }),
    c('softmax and logSoftmax of an empty tensor are empty, on any axis (torch 1.13)', () => {
      // torch.softmax(torch.zeros(0, 3), 0).shape -> [0, 3]; likewise log_softmax, dim 1, and [2, 0]
      for (const f of [softmax, logSoftmax]) {
        for (const [shape, axis] of [
          [[0, 3], 0],
          [[0, 3], 1],
          [[2, 0], 0],
          [[2, 0], -1],
        ] as [number[], number][]) {
          const [g] = gradsOf([zeros(shape)], (t) => f(t, axis));
          expectMeta(f(zeros(shape), axis), shape, 'float32', `${f.name}(zeros([${shape}]), ${axis})`);
          expectMeta(g, shape, 'float32', `its gradient`);
        }
      }
    }),
    c('oneHot gives float32 rows for int32 labels', () => {
      const labels = tensor([2, 0, 1], { dtype: 'int32' });
      expectExact(
        oneHot(labels, 3),
        [
          [0, 0, 1],
          [1, 0, 0],
          [0, 1, 0],
        ],
        'float32',
        'oneHot',
      );
      expectExact(oneHot(tensor([[1], [3]], { dtype: 'int32' }), 4), [[[0, 1, 0, 0]], [[0, 0, 0, 1]]], 'float32', 'oneHot of [2,1]');
      check(!oneHot(labels, 3).requiresGrad, 'oneHot needs no gradient');
    }),
    c('adamUpdateInPlace hasFusedAdam: one step in place, as the formula (where the backend has the kernel)', async () => {
      const p = tensor([1, -2, 3, 0.5]);
      const g = tensor([0.1, -0.2, 0, 4]);
      const m = tensor([0.01, 0.02, -0.03, 0]);
      const v = tensor([1e-4, 2e-4, 0, 1]);
      const h = { beta1: 0.9, beta2: 0.99, stepSize: 0.05, epsScaled: 1e-3, weightDecay: 0, decoupled: false, lr: 0.05, first: false };
      const [p0, g0, m0, v0] = (await Promise.all([p, g, m, v].map((t) => t.data()))).map((a) => Array.from(a));
      const ran = adamUpdateInPlace(p, g, m, v, null, h);
      check(ran === hasFusedAdam(), () => `adamUpdateInPlace returned ${ran}, hasFusedAdam() is ${hasFusedAdam()}`);
      if (!ran) {
        expectClose(p, p0, { atol: 0, rtol: 0 }, 'param untouched without a kernel');
        return;
      }
      const mw = m0.map((x, i) => 0.9 * x + 0.1 * g0[i]);
      const vw = v0.map((x, i) => 0.99 * x + 0.01 * g0[i] * g0[i]);
      expectClose(m, mw, tol, 'expAvg');
      expectClose(v, vw, tol, 'expAvgSq');
      expectClose(
        p,
        p0.map((x, i) => x - (0.05 * mw[i]) / (Math.sqrt(vw[i]) + 1e-3)),
        tol,
        'param',
      );
    }),
    c("sumOfSquares and scaleInPlace: gradient clipping's squared norm and in-place rescale (hand-derived)", () => {
      const a = tensor([3, -4]);
      const b = tensor([
        [1, 2],
        [-2, 0],
      ]);
      // 9 + 16 + 1 + 4 + 4.
      expectClose(sumOfSquares([a, b]), 34, { atol: 0, rtol: 0 }, 'sumOfSquares');
      expectClose(sumOfSquares([]), 0, { atol: 0, rtol: 0 }, 'sumOfSquares of no tensors');
      const view = b.reshape([4]);
      scaleInPlace([a, b], tensor(0.5));
      expectClose(a, [1.5, -2], { atol: 0, rtol: 0 }, 'scaleInPlace a');
      expectClose(view, [0.5, 1, -1, 0], { atol: 0, rtol: 0 }, 'scaleInPlace seen through a view');
    }),
    c('softmax: gradcheck along every axis', () => {
      const x = normal([2, 3, 4], 91);
      for (const axis of ctx.quick ? [-1] : [-1, 0, 1]) {
        expectGradcheck(ctx, (t) => softmax(t, axis), [x], `softmax(${axis})`);
      }
    }),
    c('logSoftmax: gradcheck along every axis', () => {
      const x = normal([2, 3, 4], 92);
      for (const axis of ctx.quick ? [-1] : [-1, 0, 1]) {
        expectGradcheck(ctx, (t) => logSoftmax(t, axis), [x], `logSoftmax(${axis})`);
      }
    }),
    c('linear: gradcheck with and without bias and relu', () => {
      // Bias and inputs keep the pre-activations away from 0, where the ReLU has no derivative.
      const x = normal([3, 4], 98);
      const w = normal([5, 4], 99);
      expectGradcheck(ctx, (a, b, c2) => linear(a, b, c2), [x, w, normal([5], 100)], 'linear');
      expectGradcheck(
        ctx,
        (a, b, c2) => linear(a, b, c2, { activation: 'relu' }),
        [normal([2, 2, 4], 101), w, normal([5], 102)],
        'linear relu',
      );
      if (!ctx.quick) expectGradcheck(ctx, (a, b) => linear(a, b, null, { activation: 'relu' }), [x, w], 'linear relu no bias');
    }),
    c('linear: hand-derived values, with and without bias and relu, and with no input features', async () => {
      const x = tensor([
        [1, 2],
        [-1, 0.5],
      ]);
      const w = tensor([
        [1, -1],
        [0.5, 2],
        [-2, 0],
      ]);
      const bias = tensor([0.5, -1, 1]);
      const y = [
        [-1, 4.5, -2],
        [-1.5, 0.5, 2],
      ];
      expectExact(linear(x, w), y, 'float32', 'linear');
      expectExact(
        linear(x, w, bias),
        [
          [-0.5, 3.5, -1],
          [-1, -0.5, 3],
        ],
        'float32',
        'linear with bias',
      );
      expectExact(
        linear(x, w, bias, { activation: 'relu' }),
        [
          [0, 3.5, 0],
          [0, 0, 3],
        ],
        'float32',
        'linear with bias and relu',
      );
      expectExact(
        linear(x, w, null, { activation: 'relu' }),
        [
          [0, 4.5, 0],
          [0, 0.5, 2],
        ],
        'float32',
        'linear with relu',
      );
      // No input features: an empty product, so the bias (then the relu) on every row.
      const empty = linear(tensor([], { shape: [2, 0] }), tensor([], { shape: [3, 0] }), tensor([1, -2, 0.5]), { activation: 'relu' });
      expectExact(
        empty,
        [
          [1, 0, 0.5],
          [1, 0, 0.5],
        ],
        'float32',
        'linear with no input features',
      );
      // Its backward pass, as PyTorch 1.13's: empty gradients for x and the weight, the row count for the bias.
      const [ex, ew, eb] = [tensor([], { shape: [2, 0] }), tensor([], { shape: [3, 0] }), tensor([1, 2, 3])];
      for (const t of [ex, ew, eb]) t.requiresGrad = true;
      linear(ex, ew, eb).sum().backward();
      expectMeta(ex.grad!, [2, 0], 'float32', 'linear with no input features: the gradient of x');
      expectMeta(ew.grad!, [3, 0], 'float32', 'linear with no input features: the gradient of the weight');
      expectExact(eb.grad!, [2, 2, 2], 'float32', 'linear with no input features: the gradient of the bias');
    }),
    c('softmaxCrossEntropy: hand-derived loss and gradient, ignored rows, an all-ignored mean', async () => {
      // Rows [0, 0] (label 0) and [ln 3, 0] (label 1): losses ln 2 and ln 4; softmax - onehot is
      // [-0.5, 0.5] and [0.75, -0.75], halved by the mean.
      const x = tensor([
        [0, 0],
        [Math.log(3), 0],
      ]);
      x.requiresGrad = true;
      const y = tensor([0, 1], { dtype: 'int32' });
      const loss = softmaxCrossEntropy(x, y);
      expectClose(loss, [1.5 * Math.LN2], tol, 'mean loss', []);
      loss.backward();
      expectClose(x.grad!, [-0.25, 0.25, 0.375, -0.375], tol, 'mean gradient', [2, 2]);
      expectClose(softmaxCrossEntropy(x, y, { reduction: 'none' }), [Math.LN2, 2 * Math.LN2], tol, 'none', [2]);
      const ign = tensor([-100, 1], { dtype: 'int32' });
      expectClose(softmaxCrossEntropy(x, ign, { reduction: 'none' }), [0, 2 * Math.LN2], tol, 'ignored row', [2]);
      expectClose(softmaxCrossEntropy(x, ign, { reduction: 'sum' }), [2 * Math.LN2], tol, 'sum without the ignored row', []);
      const x2 = x.detach().clone();
      x2.requiresGrad = true;
      softmaxCrossEntropy(x2, ign).backward();
      expectClose(x2.grad!, [0, 0, 0.75, -0.75], tol, 'mean gradient over the one row kept', [2, 2]);
      const x4 = x.detach().clone();
      x4.requiresGrad = true;
      const allIgnored = softmaxCrossEntropy(x4, tensor([-100, -100], { dtype: 'int32' }));
      const all = await allIgnored.data();
      check(Number.isNaN(all[0]), `the mean over no rows must be NaN (as PyTorch), got ${all[0]}`);
      allIgnored.backward();
      expectClose(x4.grad!, [0, 0, 0, 0], tol, 'the gradient of a mean over no rows is 0 (as PyTorch)', [2, 2]);
      if (!valueChecksOn(getBackend())) {
        // Without value checks an out-of-range label makes its row (and the mean) NaN, and its row's gradient 0.
        const x3 = x.detach().clone();
        x3.requiresGrad = true;
        const bad = softmaxCrossEntropy(x3, tensor([2, 1], { dtype: 'int32' }), { reduction: 'none' });
        const v = await bad.data();
        check(Number.isNaN(v[0]) && Math.abs(v[1] - 2 * Math.LN2) < 1e-5, `out-of-range row: expected [NaN, ln 4], got [${v[0]}, ${v[1]}]`);
        const m = await softmaxCrossEntropy(x, tensor([-1, 1], { dtype: 'int32' })).data();
        check(Number.isNaN(m[0]), `the mean with an out-of-range label must be NaN, got ${m[0]}`);
      }
    }),
    c('softmaxCrossEntropy: gradcheck for each reduction, with an ignored row', () => {
      const y = tensor([2, -100, 0, 3], { dtype: 'int32' });
      for (const reduction of ctx.quick ? (['mean'] as const) : (['mean', 'sum', 'none'] as const)) {
        expectGradcheck(ctx, (t) => softmaxCrossEntropy(t, y, { reduction }), [normal([4, 5], 95)], `softmaxCrossEntropy ${reduction}`);
      }
    }),
    c('probabilityNll: hand-derived loss and gradient, the clip, an out-of-range label', async () => {
      // Row [0.5, 0.25, 0.25] at label 1: -log(0.25) = 2 ln 2; g = -1 / 0.25 = -4 and the row sums to
      // 1, so dp = g (onehot - 0.25) = [1, -3, 1]. Row [2, 1, 1] at label 0: q = 0.5, -log q = ln 2;
      // g = -2, sum 4: dp = g / 4 - g q / 4 = [-0.25, 0.25, 0.25]. Row [0, 1, 0] at label 0 is
      // clipped to eps = 0.01: -ln 0.01, no gradient.
      const p = tensor([
        [0.5, 0.25, 0.25],
        [2, 1, 1],
        [0, 1, 0],
      ]);
      p.requiresGrad = true;
      const y = probabilityNll(p, tensor([1, 0, 0], { dtype: 'int32' }), { eps: 0.01 });
      expectClose(y, [2 * Math.LN2, Math.LN2, -Math.log(0.01)], tol, 'losses', [3]);
      y.sum().backward();
      expectClose(p.grad!, [1, -3, 1, -0.25, 0.25, 0.25, 0, 0, 0], tol, 'gradient', [3, 3]);
      const bad = await probabilityNll(p.detach(), tensor([1, 3, -1], { dtype: 'int32' })).data();
      check(
        Number.isNaN(bad[1]) && Number.isNaN(bad[2]) && Math.abs(bad[0] - 2 * Math.LN2) < 1e-5,
        `out-of-range rows must be NaN, got [${Array.from(bad)}]`,
      );
    }),
    c('probabilityNll: gradcheck on positive rows', () => {
      const y = tensor([2, 0, 4, 1], { dtype: 'int32' });
      expectGradcheck(ctx, (t) => probabilityNll(t.exp(), y), [normal([4, 5], 96)], 'probabilityNll(exp(x))');
    }),
    c('logSumExp: gradcheck', () => {
      expectGradcheck(ctx, (t) => logSumExp(t, -1), [normal([3, 4], 93)], 'logSumExp(-1)');
      if (!ctx.quick) expectGradcheck(ctx, (t) => logSumExp(t, 0, true), [normal([3, 4], 94)], 'logSumExp(0, keepDims)');
    }),
    c('layerNorm: gradcheck with weight and bias', () => {
      const f = (x: Tensor, w: Tensor, b: Tensor) => layerNorm(x, [4], w, b);
      expectGradcheck(ctx, f, [normal([2, 3, 4], 95), normal([4], 96), normal([4], 97)], 'layerNorm([4])');
    }),
    c('layerNorm: normalises each slice to mean 0 and variance 1', () => {
      const y = layerNorm(
        tensor([
          [1, 2, 3, 4],
          [10, 10, 10, 14],
        ]),
        [4],
        null,
        null,
        0,
      );
      const s5 = Math.sqrt(1.25);
      expectClose(
        y,
        [
          [-1.5 / s5, -0.5 / s5, 0.5 / s5, 1.5 / s5],
          [-1 / Math.sqrt(3), -1 / Math.sqrt(3), -1 / Math.sqrt(3), Math.sqrt(3)],
        ],
        tol,
        'layerNorm',
      );
    }),
    c('layerNorm: a number d normalises over the last axis, as [d] does (PyTorch accepts an int)', () => {
      const x = normal([2, 3, 4], 98);
      const w = normal([4], 99);
      const same = layerNorm(x, 4, w).sub(layerNorm(x, [4], w));
      expectClose(same, new Array<number>(24).fill(0), { atol: 0, rtol: 0 }, 'layerNorm(x, 4) - layerNorm(x, [4])', [2, 3, 4]);
    }),
    c('scaledDotProductAttention: gradcheck, causal', () => {
      const f = (q: Tensor, k: Tensor, v: Tensor) => scaledDotProductAttention(q, k, v, { isCausal: true });
      expectGradcheck(ctx, f, [normal([2, 3, 2], 98), normal([2, 3, 2], 99), normal([2, 3, 2], 100)], 'scaledDotProductAttention causal');
    }),
    c('attention (heads side by side, one op where fused): gradcheck, causal and not', () => {
      // 2 heads of width 2 (values 3) in [n, l, heads*d] rows: 3 queries, 4 keys.
      for (const causal of [false, true]) {
        const f = (q: Tensor, k: Tensor, v: Tensor) => attentionHeads(q, k, v, 2, causal);
        expectGradcheck(ctx, f, [normal([2, 3, 4], 101), normal([2, 4, 4], 102), normal([2, 4, 6], 103)], `attention causal ${causal}`);
      }
    }),
    c('self-attention with one [3e, e] projection (one attentionPacked op where fused): PyTorch values and gradcheck', () => {
      // x [2, 3, 4] through in_proj_weight [12, 4] and in_proj_bias [12], 2 heads of width 2; the values
      // of PyTorch 1.13 (linear, split, per-head softmax(q k^T / sqrt(2)) v) on the same sines.
      const sines = (n: number, a: number, b: number, f = 1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * a + b) * f);
      const x = tensor(sines(24, 0.7, 0.3), { shape: [2, 3, 4] });
      const w = tensor(sines(48, 1.3, 0.1, 0.8), { shape: [12, 4] });
      const b = tensor(sines(12, 2.1, 0.5, 0.2), { shape: [12] });
      const want: Record<string, number[]> = {
        false: [
          -0.5724421, 0.4423067, 0.2533769, -0.1190101, 0.354018, -0.2624524, -0.3613366, -0.449689, -0.4076488, 0.2052518, -0.5333117,
          -0.3923891, 0.349237, 0.2117433, 0.1259394, -0.22551, -1.2878923, -0.1203642, 0.3103936, 0.1249929, -0.9309229, 0.0207175,
          0.6745174, 0.3570585,
        ],
        true: [
          -0.1513425, -0.7097806, -0.7173986, -0.1460762, -0.3354459, -0.2817398, 0.3434715, 0.0720171, -0.4076488, 0.2052518, -0.5333117,
          -0.3923891, -1.5582342, 0.1516351, 1.4966683, 1.0671626, -0.8306035, 0.2065007, -0.2889523, -0.7509009, -0.9309229, 0.0207175,
          0.6745174, 0.3570585,
        ],
      };
      for (const causal of [false, true]) {
        expectClose(selfAttentionHeads(x, w, b, 2, causal), want[String(causal)], tol, `self-attention causal ${causal}`, [2, 3, 4]);
        const f = (xi: Tensor, wi: Tensor, bi: Tensor) => selfAttentionHeads(xi, wi, bi, 2, causal);
        expectGradcheck(ctx, f, [normal([2, 3, 4], 104), normal([12, 4], 105), normal([12], 106)], `self-attention causal ${causal}`);
      }
    }),
    c('scaledDotProductAttention: one key gives its value; causal first row sees only the first key', () => {
      const v = tensor([
        [
          [5, -1],
          [7, 2],
        ],
      ]);
      const y = scaledDotProductAttention(
        tensor([
          [
            [1, 0],
            [0, 1],
          ],
        ]),
        tensor([
          [
            [3, 1],
            [0, 2],
          ],
        ]),
        v,
        { isCausal: true },
      );
      const w = softmaxRef([1 / Math.SQRT2, 2 / Math.SQRT2]);
      expectClose(
        y,
        [
          [
            [5, -1],
            [w[0] * 5 + w[1] * 7, w[0] * -1 + w[1] * 2],
          ],
        ],
        tol,
        'causal attention',
      );
    }),
  ];
};
