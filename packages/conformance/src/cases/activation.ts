import {
  celu,
  elu,
  gelu,
  hardsigmoid,
  hardswish,
  hardtanh,
  logsigmoid,
  mish,
  relu6,
  selu,
  silu,
  softplus,
  softsign,
  tensor,
  type Tensor,
} from '@bp/tensor';
import { geluGrad } from '@bp/tensor/internal';
import { expectClose, expectFinite } from '../assert.js';
import { distinct, expectGradcheck, group, type CaseBuilder } from '../context.js';
import { gradsOf } from './elementwise-math.js';

const c = group('nn');

type Act = [string, (x: Tensor) => Tensor];
const acts: Act[] = [
  ['gelu', (x) => gelu(x)],
  ['gelu tanh', (x) => gelu(x, { approximate: 'tanh' })],
  ['silu', silu],
  ['elu', (x) => elu(x, 0.7)],
  ['celu', (x) => celu(x, 2)],
  ['selu', selu],
  ['softplus', (x) => softplus(x, { beta: 2, threshold: 3 })],
  ['mish', mish],
  ['relu6', relu6],
  ['hardtanh', (x) => hardtanh(x, -0.5, 0.8)],
  ['hardswish', hardswish],
  ['hardsigmoid', hardsigmoid],
  ['logsigmoid', logsigmoid],
  ['softsign', softsign],
];

/** Activation functions: gradchecks away from the kinks, PyTorch's gradient at them, stability at ±1e4. */
export const activationCases: CaseBuilder = (ctx) => {
  const { tol } = ctx;
  return [
    ...acts.map(([name, f]) =>
      c(`${name}: gradcheck`, () => {
        // Offset by a quarter step of 0.1: no input sits on a kink (0, ±3, 6, bounds).
        const x = distinct(ctx.quick ? [6] : [3, 5], 44)
          .mul(8)
          .add(0.025);
        expectGradcheck(ctx, f, [x], name);
      }),
    ),
    c('geluGrad: gradcheck (its derivative is φ(x) (2 - x^2))', () => {
      const x = distinct(ctx.quick ? [6] : [3, 5], 45)
        .mul(8)
        .add(0.025);
      expectGradcheck(ctx, geluGrad, [x], 'geluGrad');
    }),
    c('gelu and its gradient at 0, ±Inf, NaN and large |x| (PyTorch: NaN at -Inf, gradient NaN at ±Inf)', () => {
      const xs = [0, -0, Infinity, -Infinity, NaN, 1e4, -1e4, 3e38, -3e38, 1, -1];
      // x Φ(x) and Φ(x) + x φ(x) at ±1: Φ(1) = 0.8413447460685429, φ(1) = 0.24197072451914337.
      expectClose(gelu(tensor(xs)), [0, 0, Infinity, NaN, NaN, 1e4, 0, 3e38, 0, 0.8413447460685429, -0.15865525393145707], tol, 'gelu');
      const [g] = gradsOf([tensor(xs)], (x) => gelu(x));
      expectClose(g, [0.5, 0.5, NaN, NaN, NaN, 1, 0, 1, 0, 1.0833154705876864, -0.0833154705876864], tol, 'gelu gradient');
      expectClose(geluGrad(tensor(xs)), [0.5, 0.5, NaN, NaN, NaN, 1, 0, 1, 0, 1.0833154705876864, -0.0833154705876864], tol, 'geluGrad');
    }),
    c('activations stay finite with finite gradients at ±1e4', () => {
      for (const [name, f] of acts) {
        const [g] = gradsOf([tensor([-1e4, -100, 100, 1e4])], f);
        expectFinite(f(tensor([-1e4, -100, 100, 1e4])), name);
        expectFinite(g, `${name} gradient`);
      }
    }),
    c('elu celu selu hardswish hardsigmoid at NaN and ±Infinity: values and gradients as PyTorch', () => {
      // PyTorch 1.13's values at [NaN, Infinity, -Infinity, 0, 3, -3] (torch.nn.functional, then backward).
      // NaN takes the branch whose condition a comparison with NaN leaves unmet: the gradient 1 of
      // the identity piece for elu, celu, selu and hardswish, 0 for hardsigmoid.
      const xs = [NaN, Infinity, -Infinity, 0, 3, -3];
      const check1 = (name: string, f: (x: Tensor) => Tensor, y: number[], g: number[]) => {
        expectClose(f(tensor(xs)), y, tol, name);
        expectClose(gradsOf([tensor(xs)], f)[0], g, tol, `${name} gradient`);
      };
      check1('elu', (x) => elu(x), [NaN, Infinity, -1, 0, 3, -0.950213], [1, 1, 0, 1, 1, 0.0497871]);
      check1('celu', (x) => celu(x, 0.5), [NaN, Infinity, -0.5, 0, 3, -0.4987606], [1, 1, 0, 1, 1, 0.0024788]);
      check1('selu', selu, [NaN, Infinity, -1.7580993, 0, 3.1521029, -1.6705687], [1.050701, 1.050701, 0, 1.7580993, 1.050701, 0.0875306]);
      // PyTorch's hardswish(-Infinity) is NaN (-Infinity * 0), its gradient there 0.
      check1('hardswish', hardswish, [NaN, Infinity, NaN, 0, 3, -0], [1, 1, 0, 0.5, 1.5, -0.5]);
      check1('hardsigmoid', hardsigmoid, [NaN, 1, 0, 0.5, 1, 0], [0, 0, 0, 1 / 6, 0, 0]);
    }),
    c('gradients at the kinks follow PyTorch (hand-derived)', () => {
      const at = (f: (x: Tensor) => Tensor, xs: number[]) => gradsOf([tensor(xs)], f)[0];
      expectClose(at(relu6, [0, 6, 3]), [0, 0, 1], tol, 'relu6 at 0 and 6');
      expectClose(
        at((x) => hardtanh(x), [-1, 1, 0]),
        [0, 0, 1],
        tol,
        'hardtanh at the bounds',
      );
      expectClose(at(hardswish, [-3, 3, 0]), [-0.5, 1.5, 0.5], tol, 'hardswish at -3 and 3');
      expectClose(at(hardsigmoid, [-3, 3, 0]), [0, 0, 1 / 6], tol, 'hardsigmoid at -3 and 3');
      expectClose(
        at((x) => elu(x, 2), [0]),
        [2],
        tol,
        'elu(alpha 2) at 0',
      );
      expectClose(
        at((x) => celu(x, 2), [0]),
        [1],
        tol,
        'celu(alpha 2) at 0',
      );
      expectClose(at(selu, [0]), [1.6732632423543772 * 1.0507009873554805], tol, 'selu at 0');
      expectClose(
        at((x) => softplus(x, { threshold: 1 }), [1, 1.5]),
        [1 / (1 + Math.exp(-1)), 1],
        tol,
        'softplus at the threshold',
      );
      expectClose(at(logsigmoid, [0]), [0.5], tol, 'logsigmoid at 0');
      expectClose(at(softsign, [0]), [1], tol, 'softsign at 0');
      expectClose(hardtanh(tensor([NaN, -2, 2])), [NaN, -1, 1], tol, 'hardtanh keeps NaN');
      // NaN gets no gradient, as clamp's (torch 1.13's vectorised hardtanh_backward: F.hardtanh and
      // F.relu6 of a 64-element x holding NaN give 0 there; its scalar loop, on short inputs, gives 1).
      expectClose(
        at((x) => hardtanh(x), [NaN, 0.5, 2]),
        [0, 1, 0],
        tol,
        'hardtanh at NaN',
      );
      expectClose(at(relu6, [NaN, 0.5, 7]), [0, 1, 0], tol, 'relu6 at NaN');
      const long = Array.from({ length: 5000 }, (_, i) => (i % 1000 === 0 ? NaN : 0.25));
      expectClose(
        at(relu6, long),
        long.map((v) => (Number.isNaN(v) ? 0 : 1)),
        tol,
        'relu6 at NaN over 5000',
      );
      expectClose(gelu(tensor([0, 1, -1])), [0, 0.8413447460685429, -0.15865525393145707], tol, 'gelu');
      expectClose(softplus(tensor([0, 30])), [Math.LN2, 30], tol, 'softplus');
    }),
  ];
};
