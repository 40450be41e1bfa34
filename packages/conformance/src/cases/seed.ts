import { noGrad } from '@bp/autograd';
import { tensor } from '@bp/tensor';
import { check, expectClose } from '../assert.js';
import { group, type CaseBuilder } from '../context.js';

const c = group('seed');

/**
 * The numbers every backprop tutorial starts from. They must hold on every
 * backend, so they are cases rather than CPU-only tests.
 */
export const seedCases: CaseBuilder = ({ tol }) => [
  c('x = 2, y = x**2, dy/dx = 4', async () => {
    const x = tensor(2, { requiresGrad: true });
    x.pow(2).backward();
    const g = x.grad === null ? null : (await x.grad.data())[0];
    check(g === 4, `dy/dx = ${g}, expected exactly 4`);
  }),
  c('MSE of 0.8 vs 1.0 is 0.04', () => {
    const mse = tensor([0.8])
      .sub(tensor([1.0]))
      .pow(2)
      .mean();
    expectClose(mse, 0.04, tol, 'mse');
  }),
  c('BCE of 0.8 vs 1 is 0.2231', async () => {
    const p = tensor([0.8]);
    const y = tensor([1]);
    // -(y log p + (1 - y) log(1 - p))
    const bce = y
      .mul(p.log())
      .add(y.neg().add(1).mul(p.neg().add(1).log()))
      .neg()
      .mean();
    expectClose(bce, -Math.log(0.8), tol, 'bce');
    const b = (await bce.data())[0];
    check(Math.abs(b - 0.2231) < 5e-5, `bce = ${b}, expected 0.2231 to four places`);
  }),
  c('0.5 - 0.1 * 0.028 = 0.4972 as a gradient step', () => {
    // L = (w x - t)^2 with w = 0.5, x = 0.2, t = 0.03: dL/dw = 2 x (w x - t) = 0.028.
    const w = tensor(0.5, { requiresGrad: true });
    w.mul(0.2).sub(0.03).pow(2).backward();
    expectClose(w.grad!, 0.028, tol, 'dL/dw');
    noGrad(() => w.assign(w.sub(w.grad!.mul(0.1))));
    expectClose(w, 0.4972, tol, 'w after one SGD step with lr 0.1');
    check(w.requiresGrad && w.isLeaf, 'the parameter stays a leaf that requires grad');
  }),
];
