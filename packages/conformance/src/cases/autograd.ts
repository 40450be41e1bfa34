import {
  AnomalyError,
  customOp,
  detectAnomaly,
  enableGrad,
  grad,
  gradFn,
  gradcheck,
  graphTensors,
  noGrad,
  valueAndGrad,
} from '@bp/autograd';
import { BpError, NotAvailableError, isGradEnabled, keep, log, tensor, tidy, type Tensor } from '@bp/tensor';
import { check, expectClose, expectThrows } from '../assert.js';
import { expectGradcheck, group, normal, uniformIn, type CaseBuilder } from '../context.js';

const c = group('autograd');

/** Why the detectAnomaly cases skip on a backend that reads only asynchronously. */
const ANOMALY_READS =
  'detectAnomaly reads every result synchronously; on a backend that reads only asynchronously it throws a NotAvailableError instead';

const leaf = (values: number[]) => tensor(values, { requiresGrad: true });

/** Graph-level behaviour: accumulation, seeds, shared tensors, noGrad, detach, functional forms, anomalies. */
export const autogradCases: CaseBuilder = (ctx) => {
  const { tol } = ctx;
  return [
    c('gradients accumulate across two backward calls until zeroed', () => {
      const x = leaf([1, 2, 3]);
      x.mul(2).sum().backward();
      expectClose(x.grad!, [2, 2, 2], tol, 'after the first backward');
      x.mul(x).sum().backward();
      expectClose(x.grad!, [4, 6, 8], tol, 'after the second backward: 2 + 2x');
      x.grad = null;
      x.mul(3).sum().backward();
      expectClose(x.grad!, [3, 3, 3], tol, 'after zeroing');
    }),
    c('backward through a released graph throws unless retainGraph; value-free ops may be walked again', () => {
      const x = leaf([1, 2, 3]);
      const y = x.mul(x).sum();
      y.backward({ retainGraph: true });
      y.backward();
      expectClose(x.grad!, [4, 8, 12], tol, 'two passes through a retained graph accumulate');
      expectThrows(() => y.backward(), BpError, ['backward', 'second time', 'retainGraph'], 'a third pass through the released graph');
      const z = x.add(1).sum();
      z.backward();
      z.backward();
      expectClose(x.grad!, [6, 10, 14], tol, 'add and sum keep no values: walking them again adds 1 twice (as PyTorch)');
    }),
    c('a value changed in place after it was recorded makes backward throw naming the op (version counter)', () => {
      const w = leaf([1, 2]);
      const x = tensor([3, 4]);
      const y = x.mul(w).sum();
      check(x.version === 0, `a new tensor is at version 0, got ${x.version}`);
      x.assign(tensor([5, 6]));
      const after = x.version as number;
      check(after === 1, `assign bumps the version, got ${after}`);
      expectThrows(() => y.backward(), BpError, ["'mul'", 'in-place', 'version 1', 'expected 0'], 'mul saw x at version 0');
      const y2 = x.mul(w).sum();
      y2.backward();
      expectClose(w.grad!, [5, 6], tol, 'recomputed after the change: the new x is the gradient');
      const u = w.add(x).sum();
      x.assign(tensor([0, 0]));
      u.backward();
      expectClose(w.grad!, [6, 7], tol, 'add needs no values: a later change to x is harmless');
    }),
    c('only the values a gradient reads are checked: exp reads its output, mul its inputs (as PyTorch)', () => {
      const x = leaf([1, 2]);
      const a = x.mul(3);
      const y = a.exp();
      // exp's gradient is dy * exp(a), its own output: a may change (mul's gradient never reads a either).
      a.assign(tensor([5, 5]));
      y.sum().backward();
      // 3 e^(3x), as PyTorch gives after the same a.copy_() under no_grad.
      expectClose(x.grad!, [60.25661, 1210.2864], tol, 'd exp(3x)/dx from the saved output');
      const z = leaf([1, 2]);
      const e = z.exp();
      e.assign(tensor([0, 0]));
      expectThrows(() => e.sum().backward(), BpError, ["'exp'", 'its output', 'version 1'], 'exp reads its output');
    }),
    c('dispose frees an alias without breaking the tensor it shares storage with; tidy keeps what it returns', () => {
      const x = tensor([1, 2, 3]);
      x.detach().dispose();
      x.reshape([3, 1]).dispose();
      expectClose(x, [1, 2, 3], tol, 'x after its detached and reshaped views were disposed');
      const p = tensor([0, 0, 0]);
      const q = tensor([7, 8, 9]);
      p.assign(q);
      q.dispose();
      expectClose(p, [7, 8, 9], tol, 'assign copies: disposing the source leaves p intact');
      expectThrows(() => q.add(1), BpError, ['disposed'], 'using a disposed tensor');
      let inner: Tensor | null = null;
      let kept: Tensor | null = null;
      const out = tidy(() => {
        inner = x.mul(2);
        kept = keep(x.add(10));
        return { sum: inner.add(1), list: [x.sub(1)] };
      });
      check(inner !== null && (inner as Tensor).isDisposed, 'a temporary of tidy is disposed');
      check(kept !== null && !(kept as Tensor).isDisposed, 'keep() exempts a tensor from tidy');
      expectClose(out.sum, [3, 5, 7], tol, 'a returned tensor survives tidy');
      expectClose(out.list[0], [0, 1, 2], tol, 'a tensor returned inside an array survives tidy');
      const w = leaf([1, 2]);
      tidy(() => w.mul(w).sum().backward());
      expectClose(w.grad!, [2, 4], tol, 'the gradient autograd stored in .grad survives tidy');
    }),
    c('backward(grad) seeds a non-scalar output', () => {
      const x = leaf([1, 2, 3]);
      x.mul(x).backward(tensor([1, 0.5, 2]));
      expectClose(x.grad!, [2, 2, 12], tol, 'dy/dx * seed');
      const m = tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { requiresGrad: true },
      );
      m.matmul(tensor([[1], [1]])).backward(tensor([[1], [-1]]));
      expectClose(
        m.grad!,
        [
          [1, 1],
          [-1, -1],
        ],
        tol,
        'matrix seed',
      );
    }),
    c('graphTensors lists the recorded graph once per tensor, inputs first, the root last; gradFn gives the op of a tensor', () => {
      const w = leaf([0.5, -1]);
      const x = tensor([2, 3]);
      const h = w.mul(x);
      const y = h.add(h).sum();
      const ids = graphTensors(y).map((t) => t.id);
      check(
        gradFn(h)?.op === 'mul' && gradFn(h)?.inputs[0] === w && gradFn(w) === null,
        'gradFn names the op of h and is null for the leaf w',
      );
      check(ids.length === 5, `expected w, x, h, h + h and the sum, got ${ids.length} tensors`);
      check(ids[0] === w.id && ids[1] === x.id && ids[2] === h.id && ids[4] === y.id, `order ${ids.join(', ')}`);
      const frozen = noGrad(() => w.mul(2));
      const z = frozen.add(w).sum();
      check(graphTensors(z)[0].id === frozen.id && graphTensors(z)[0].isLeaf, 'a tensor computed under noGrad is a leaf');
    }),
    c('a tensor used twice receives the sum of both paths', () => {
      const x = leaf([0.5, -1]);
      x.mul(x).add(x).sum().backward();
      expectClose(x.grad!, [2, -1], tol, 'd(x*x + x) = 2x + 1');
      const y = leaf([0.5, 2]);
      y.exp().mul(y).sum().backward();
      expectClose(
        y.grad!,
        [0.5, 2].map((v) => Math.exp(v) * (1 + v)),
        tol,
        'd(e^y y) = e^y (1 + y)',
      );
      const z = leaf([1.5]);
      const a = z.mul(2);
      a.add(1).mul(a.mul(3)).sum().backward(); // (2z + 1)(6z) = 12 z^2 + 6 z
      expectClose(z.grad!, [24 * 1.5 + 6], tol, 'diamond graph');
    }),
    c('leaves without requiresGrad get no gradient; retainGrad keeps a non-leaf one', () => {
      const x = leaf([1, 2]);
      const k = tensor([3, 4]);
      const h = x.mul(k).retainGrad();
      h.sum().backward();
      check(k.grad === null, 'a constant must not receive a gradient');
      expectClose(x.grad!, [3, 4], tol, 'x.grad');
      expectClose(h.grad!, [1, 1], tol, 'retained non-leaf grad');
      check(x.isLeaf && !h.isLeaf, 'isLeaf');
    }),
    c('noGrad records nothing and restores recording, also for async functions; enableGrad inside it records', async () => {
      const x = leaf([1, 2]);
      const y = noGrad(() => x.mul(2));
      check(!y.requiresGrad, 'a result computed inside noGrad must not require grad');
      expectClose(y, [2, 4], tol, 'noGrad still computes');
      check(isGradEnabled(), 'recording is back on after noGrad');
      expectThrows(
        () =>
          noGrad(() => {
            throw new Error('inner');
          }),
        Error,
        ['inner'],
        'noGrad rethrows',
      );
      check(isGradEnabled(), 'recording is back on after noGrad threw');
      const z = await noGrad(async () => {
        await Promise.resolve();
        return x.mul(3);
      });
      check(!z.requiresGrad, 'async noGrad');
      const inner = noGrad(() => enableGrad(() => x.mul(2)));
      check(inner.requiresGrad, 'enableGrad records even inside noGrad');
      check(isGradEnabled(), 'recording is back on after async noGrad');
      x.mul(x).sum().backward();
      expectClose(x.grad!, [2, 4], tol, 'gradients flow again after noGrad');
    }),
    c('detach cuts the graph', () => {
      const x = leaf([2, 3]);
      const d = x.detach();
      check(!d.requiresGrad && d.isLeaf, 'a detached tensor needs no gradient');
      expectClose(d, [2, 3], tol, 'detach keeps values');
      x.detach().mul(x).sum().backward();
      expectClose(x.grad!, [2, 3], tol, 'only the attached path contributes');
    }),
    c('grad and valueAndGrad', () => {
      const x = tensor([1, 2]);
      expectClose(grad((t: Tensor) => t.pow(3).sum())(x), [3, 12], tol, 'grad of sum(x^3)');
      const [ga, gb] = grad((a: Tensor, b: Tensor) => a.mul(b).sum())(tensor([1, 2]), tensor([3, 4]));
      expectClose(ga, [3, 4], tol, 'd(ab)/da');
      expectClose(gb, [1, 2], tol, 'd(ab)/db');
      const { value, grad: g } = valueAndGrad((t: Tensor) => t.square().mean())(tensor([1, 3]));
      expectClose(value, 5, tol, 'value');
      expectClose(g, [1, 3], tol, 'gradient of mean(x^2)');
      check(x.grad === null && !x.requiresGrad, 'grad leaves its arguments untouched');
      expectClose(grad((t: Tensor) => t.sum().mul(0).add(1))(tensor([1, 2])), [0, 0], tol, 'a constant function has zero gradient');
      // A gradient of a gradient would need the backward pass recorded: refused, not a silent zero.
      const inner = grad((z: Tensor) => z.pow(3).sum());
      expectThrows(() => grad((t: Tensor) => inner(t).sum())(tensor([1, 2])), NotAvailableError, ['grad', 'higher-order', 'detach']);
      expectClose(
        grad((t: Tensor) => t.mul(inner(t.detach())).sum())(tensor([1, 2])),
        [3, 12],
        tol,
        'an inner gradient of a detached input is a constant',
      );
    }),
    {
      ...c('gradcheck reports the gradient itself for a one-element output', () => {
        const r = gradcheck((t: Tensor) => t.abs().sum(), [tensor([-1, 2])]);
        check(r.ok, () => `gradcheck of sum(|x|) failed: ${JSON.stringify(r)}`);
        expectClose(tensor(r.inputs[0].analytic), [-1, 1], tol, 'analytic gradient of sum(|x|)');
        expectClose(tensor(r.inputs[0].numeric), [-1, 1], { atol: 1e-5, rtol: 0 }, 'numeric gradient of sum(|x|)');
      }),
      needsSyncRead: 'gradcheck reads values synchronously',
    },
    {
      ...c('detectAnomaly names the forward op that made NaN or Infinity', async () => {
        expectThrows(() => detectAnomaly(() => log(tensor([0, 1])).sum()), AnomalyError, ["'log'", '-Infinity', '[2]']);
        expectThrows(() => detectAnomaly(() => tensor([-1]).sqrt()), AnomalyError, ["'sqrt'", 'NaN']);
        const ok = detectAnomaly(() => tensor([1, 2]).mul(2));
        expectClose(ok, [2, 4], tol, 'detectAnomaly returns the result');
        check((await log(tensor([0])).data())[0] === -Infinity, 'outside detectAnomaly nothing is checked');
      }),
      needsSyncRead: ANOMALY_READS,
    },
    {
      ...c('detectAnomaly names the op whose backward made NaN or Infinity', () => {
        const x = leaf([0, 1]);
        expectThrows(() => detectAnomaly(() => x.sqrt().sum().backward()), AnomalyError, ["'sqrt'", 'Infinity']);
      }),
      needsSyncRead: ANOMALY_READS,
    },
    c('customOp: one recorded op whose gradient is the rule given (softplus with sigmoid, a straight-through round)', async () => {
      const softplus = customOp('conformanceSoftplus', {
        forward: (t) => t.exp().add(1).log(),
        backward: (dy, { inputs: [t] }) => [dy.mul(t.sigmoid())],
      });
      const x = leaf([0, 2, -3]);
      const y = softplus(x);
      check(y.requiresGrad && !y.isLeaf, 'the output of a custom op is recorded');
      expectClose(y, [Math.log(2), Math.log(1 + Math.exp(2)), Math.log(1 + Math.exp(-3))], tol, 'softplus values');
      y.sum().backward();
      expectClose(x.grad!, [0.5, 1 / (1 + Math.exp(-2)), 1 / (1 + Math.exp(3))], tol, "the rule's gradient, sigmoid(x)");
      // round() passes no gradient; the rule passes dy on unchanged.
      const roundSte = customOp('conformanceRoundSte', { forward: (t) => t.round(), backward: (dy) => [dy] });
      const z = leaf([0.4, 1.6, -2.7]);
      const r = roundSte(z);
      expectClose(r, [0, 2, -3], tol, 'round');
      r.mul(tensor([1, 2, 3]))
        .sum()
        .backward();
      expectClose(z.grad!, [1, 2, 3], tol, 'straight-through gradient');
      const wrongShape = customOp('conformanceWrongShape', { forward: (t) => t.sum(), backward: (dy) => [dy] });
      expectThrows(() => wrongShape(leaf([1, 2])).backward(), BpError, ['conformanceWrongShape', '[]', '[2]']);
    }),
    c('a composite expression: gradcheck of a small MLP', () => {
      const x = normal([4, 3], 300);
      const w1 = normal([3, 5], 301).mul(0.5);
      const b1 = normal([5], 302);
      const w2 = normal([5, 2], 303).mul(0.5);
      const mlp = (xx: Tensor, a: Tensor, b: Tensor, w: Tensor) => xx.matmul(a).add(b).tanh().matmul(w).logSoftmax(-1);
      expectGradcheck(ctx, mlp, [x, w1, b1, w2], 'tanh MLP with logSoftmax');
      const p = uniformIn([3], 0.1, 0.9, 304);
      expectGradcheck(ctx, (q) => q.log().mul(-1).add(q.neg().add(1).log().mul(-0.5)).mean(), [p], 'BCE-like expression');
    }),
    c('errors: backward without requiresGrad, on non-scalars, with a bad seed; int32 requiresGrad', () => {
      expectThrows(() => tensor([1, 2]).sum().backward(), BpError, ['backward', 'does not require grad', '[]']);
      expectThrows(() => leaf([1, 2]).mul(2).backward(), BpError, ['backward', '[2]', 'one-element']);
      expectThrows(
        () =>
          leaf([1, 2])
            .mul(2)
            .backward(tensor([1, 2, 3])),
        BpError,
        ['backward', '[3]', '[2]'],
      );
      expectThrows(() => tensor([1], { dtype: 'int32', requiresGrad: true }), BpError, ['requiresGrad', 'int32', '[1]']);
      const i = tensor([1], { dtype: 'int32' });
      expectThrows(() => (i.requiresGrad = true), BpError, ['requiresGrad', 'float32']);
      expectThrows(() => grad((t: Tensor) => t.sum())(i), BpError, ['must be float32', 'int32']);
    }),
  ];
};
