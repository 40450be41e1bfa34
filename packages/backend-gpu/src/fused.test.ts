// The fused kernels of the gpu backend (linear, reluBackward, adamUpdate, conv2d, crossEntropy, layerNorm) against the
// composite ops they replace, on the same backend with those kernels taken away. On gpu.js'
// JavaScript and WebAssembly modes linear, reluBackward and Adam round as the composite does,
// so they must agree bit for bit; the convolution sums in another order (within TOLERANCE).
import '@bp/autograd';
import { Adam, AdamW, type AdamOptions } from '@bp/optim';
import { conv2d, layerNorm, linear, manualSeed, randint, randn, setBackend, sum, tensor, type Backend, type Tensor } from '@bp/tensor';
import { reluBackward, softmaxCrossEntropy } from '@bp/tensor/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_MODES } from '../test/modes.js';
import { TOLERANCE } from '../test/tolerance.js';
import { gpu, type GpuBackend } from './index.js';

/** `b` without the fused kernels under test: the ops compose them from primitives. */
function composite(b: GpuBackend): Backend {
  const {
    linear: _l,
    reluBackward: _r,
    adamUpdate: _a,
    conv2d: _c,
    conv2dBackward: _cb,
    crossEntropy: _x,
    crossEntropyBackward: _xb,
    layerNorm: _n,
    layerNormBackward: _nb,
    ...rest
  } = b.fused ?? {};
  return { ...b, name: 'gpu-composite', fused: rest } as Backend;
}

/** A small regression problem: `w: [3, 4]`, `b: [3]`, squared error of `relu(x w^T + b)` against fixed targets. */
function problem(): { w: Tensor; b: Tensor; loss: () => Tensor } {
  const w = tensor(
    [
      [0.5, -0.2, 0.1, 0.3],
      [-0.4, 0.25, 0.6, -0.1],
      [0.05, 0.7, -0.3, 0.2],
    ],
    { requiresGrad: true },
  );
  const b = tensor([0.1, -0.05, 0.2], { requiresGrad: true });
  const x = tensor([
    [1, 2, -1, 0.5],
    [-0.5, 1, 3, -2],
    [2, -1, 0.25, 1],
    [0.3, 0.3, -0.7, 1.5],
  ]);
  const target = tensor([
    [1, 0, 2],
    [0.5, 1, -1],
    [0, 2, 1],
    [1, 1, 0],
  ]);
  return { w, b, loss: () => sum(linear(x, w, b, { activation: 'relu' }).sub(target).square()) };
}

function trajectory(ctor: typeof Adam | typeof AdamW, opts: AdamOptions, steps: number): number[][] {
  const { w, b, loss } = problem();
  const opt = new ctor([w, b], opts);
  const out: number[][] = [];
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    loss().backward();
    opt.step();
    out.push([...w.dataSync(), ...b.dataSync()]);
  }
  return out;
}

for (const mode of NODE_MODES.filter((m) => m === 'cpu' || m === 'webasm')) {
  describe(`fused kernels of the gpu backend (${mode} mode)`, () => {
    let b: GpuBackend;
    beforeAll(() => {
      b = gpu({ mode });
    });
    afterAll(async () => {
      await setBackend('cpu');
      b.destroy();
    });

    /** `fn` on the backend with its fused kernels, then on the composite form; both results. */
    async function both<T>(fn: () => T): Promise<[T, T]> {
      await setBackend(b);
      const fused = fn();
      await setBackend(composite(b));
      const comp = fn();
      return [fused, comp];
    }

    it('has linear, reluBackward and adamUpdate', () => {
      expect(Object.keys(b.fused ?? {})).toEqual(expect.arrayContaining(['linear', 'reluBackward', 'adamUpdate']));
    });

    it('linear: the composite matmul + bias (+ relu) bits, with and without bias and relu, in one launch', async () => {
      const cases: [number[], number[], boolean, boolean][] = [
        [[5, 7], [3, 7], true, true],
        [[2, 4, 9], [6, 9], true, false],
        [[4, 5], [5, 5], false, true],
        [[1, 3], [2, 3], false, false],
      ];
      for (const [xs, ws, withBias, relu] of cases) {
        const [fused, comp] = await both(() => {
          manualSeed(7);
          const x = randn(xs);
          const w = randn(ws);
          const bias = withBias ? randn([ws[0]]) : null;
          const before = b.counters().launches;
          const y = linear(x, w, bias, { activation: relu ? 'relu' : null });
          return { values: Array.from(y.dataSync()), shape: y.shape, launches: b.counters().launches - before };
        });
        expect(fused.shape).toEqual(comp.shape);
        expect(fused.values).toEqual(comp.values);
        expect(fused.launches).toBe(1);
        expect(comp.launches).toBe(1 + (withBias ? 1 : 0) + (relu ? 1 : 0));
      }
    });

    it('linear with no input features gives the bias (then relu) on every row', async () => {
      await setBackend(b);
      const y = linear(tensor([[], []], { shape: [2, 0] }), tensor([], { shape: [3, 0] }), tensor([1, -2, 0.5]), { activation: 'relu' });
      expect(Array.from(y.dataSync())).toEqual([1, 0, 0.5, 1, 0, 0.5]);
    });

    it('reluBackward: dy where x > 0 or x is NaN (as PyTorch), NaN and infinite dy kept there, else 0', async () => {
      const [fused, comp] = await both(() =>
        Array.from(reluBackward(tensor([1, -2, NaN, Infinity, 5, NaN]), tensor([1, 2, 3, 4, -1, NaN])).dataSync()),
      );
      expect(fused).toEqual([1, -2, NaN, Infinity, 0, NaN]);
      expect(fused).toEqual(comp);
    });

    it('conv2d: the composite values and gradients, with strides, padding and with or without bias; 1 launch forward', async () => {
      const cases: { x: number[]; w: number[]; bias: boolean; stride: [number, number]; padding: [number, number] }[] = [
        { x: [2, 3, 7, 6], w: [4, 3, 3, 3], bias: true, stride: [1, 1], padding: [1, 1] },
        { x: [1, 2, 8, 9], w: [3, 2, 3, 2], bias: false, stride: [2, 3], padding: [1, 0] },
        { x: [3, 1, 5, 5], w: [2, 1, 5, 5], bias: true, stride: [1, 1], padding: [0, 0] },
      ];
      for (const cs of cases) {
        const [fused, comp] = await both(() => {
          manualSeed(11);
          const x = randn(cs.x, { requiresGrad: true });
          const w = randn(cs.w, { requiresGrad: true });
          const bias = cs.bias ? randn([cs.w[0]], { requiresGrad: true }) : null;
          const before = b.counters().launches;
          const y = conv2d(x, w, bias, { stride: cs.stride, padding: cs.padding });
          const launches = b.counters().launches - before;
          manualSeed(12);
          sum(y.mul(randn(y.shape))).backward();
          const grads = [x, w, ...(bias ? [bias] : [])].map((t) => Array.from(t.grad!.dataSync()));
          return { y: Array.from(y.dataSync()), shape: y.shape, grads, launches };
        });
        expect(fused.shape).toEqual(comp.shape);
        expect(fused.launches).toBe(1);
        const close = (a: number[], e: number[]) => {
          expect(a.length).toBe(e.length);
          a.forEach((v, i) => expect(Math.abs(v - e[i])).toBeLessThanOrEqual(TOLERANCE.atol + TOLERANCE.rtol * Math.abs(e[i])));
        };
        close(fused.y, comp.y);
        fused.grads.forEach((g, i) => close(g, comp.grads[i]));
      }
    });

    it('layerNorm: the composite values and gradients, with and without weight and bias, rows past 64 columns; 3 launches forward', async () => {
      const cases: { shape: number[]; affine: 'both' | 'weight' | 'none'; eps: number; needs: 'all' | 'input' | 'params' }[] = [
        { shape: [4, 6, 64], affine: 'both', eps: 1e-5, needs: 'all' },
        { shape: [5, 200], affine: 'weight', eps: 1e-3, needs: 'all' },
        { shape: [3, 1, 7], affine: 'none', eps: 1e-5, needs: 'input' },
        { shape: [9, 130], affine: 'both', eps: 1e-6, needs: 'params' },
      ];
      for (const cs of cases) {
        const cols = cs.shape[cs.shape.length - 1];
        const [fused, comp] = await both(() => {
          manualSeed(21);
          // Rows with an offset and a spread, so the mean and the variance both matter.
          const x = randn(cs.shape).mul(3).add(1.5).detach();
          x.requiresGrad = cs.needs !== 'params';
          const w = cs.affine === 'none' ? null : randn([cols], { requiresGrad: cs.needs !== 'input' });
          const bias = cs.affine === 'both' ? randn([cols], { requiresGrad: cs.needs !== 'input' }) : null;
          const before = b.counters().launches;
          const y = layerNorm(x, [cols], w, bias, cs.eps);
          const launches = b.counters().launches - before;
          manualSeed(22);
          sum(y.mul(randn(y.shape))).backward();
          const grads = [x, w, bias].filter((t): t is Tensor => t !== null && t.requiresGrad).map((t) => Array.from(t.grad!.dataSync()));
          return { y: Array.from(y.dataSync()), grads, launches };
        });
        expect(fused.launches, JSON.stringify(cs)).toBe(3);
        expect(comp.launches).toBeGreaterThan(3);
        const close = (a: number[], e: number[]) => {
          expect(a.length).toBe(e.length);
          a.forEach((v, i) => expect(Math.abs(v - e[i])).toBeLessThanOrEqual(TOLERANCE.atol + TOLERANCE.rtol * Math.abs(e[i])));
        };
        close(fused.y, comp.y);
        expect(fused.grads.length).toBe(comp.grads.length);
        expect(fused.grads.length).toBeGreaterThan(0);
        fused.grads.forEach((g, i) => close(g, comp.grads[i]));
      }
    });

    it('crossEntropy: the composite loss and gradient for each reduction, ignored and out-of-range rows; 2 launches forward', async () => {
      // [300, 200] takes the backward path that counts the rows kept in a kernel of its own.
      const shapes: [number, number][] = [
        [6, 5],
        [300, 200],
      ];
      for (const [rows, cols] of shapes) {
        for (const reduction of ['mean', 'sum', 'none'] as const) {
          for (const labelsKind of ['valid', 'ignored', 'outOfRange'] as const) {
            const [fused, comp] = await both(() => {
              manualSeed(21);
              const x = randn([rows, cols]).mul(3);
              x.requiresGrad = true;
              const ids = Array.from(randint(0, cols, [rows]).dataSync());
              if (labelsKind !== 'valid') ids[1] = ids[4] = -100;
              if (labelsKind === 'outOfRange') ids[2] = cols;
              const y = tensor(ids, { dtype: 'int32' });
              const before = b.counters().launches;
              const loss = softmaxCrossEntropy(x, y, { reduction });
              const forward = b.counters().launches - before;
              manualSeed(22);
              const w = randn(loss.shape);
              sum(loss.mul(w)).backward();
              return { loss: Array.from(loss.dataSync()), grad: Array.from(x.grad!.dataSync()), forward };
            });
            expect(fused.forward).toBe(2);
            const close = (a: number[], e: number[]) => {
              expect(a.length).toBe(e.length);
              a.forEach((v, i) => {
                if (Number.isNaN(e[i])) expect(v).toBeNaN();
                else expect(Math.abs(v - e[i])).toBeLessThanOrEqual(TOLERANCE.atol + TOLERANCE.rtol * Math.abs(e[i]));
              });
            };
            close(fused.loss, comp.loss);
            close(fused.grad, comp.grad);
            if (labelsKind === 'outOfRange') expect(fused.loss.some(Number.isNaN)).toBe(true);
          }
        }
      }
    });

    const adams: [string, typeof Adam | typeof AdamW, AdamOptions][] = [
      ['Adam', Adam, { lr: 0.1 }],
      ['Adam with L2 penalty', Adam, { lr: 0.05, weightDecay: 0.1, betas: [0.8, 0.99], eps: 1e-3 }],
      ['Adam with AMSGrad', Adam, { lr: 0.1, amsgrad: true }],
      ['AdamW', AdamW, { lr: 0.1, weightDecay: 0.3 }],
      ['AdamW with AMSGrad', AdamW, { lr: 0.02, weightDecay: 0.05, amsgrad: true }],
    ];
    for (const [name, ctor, opts] of adams) {
      it(`${name}: the composite update's bits over 6 steps`, async () => {
        const [fused, comp] = await both(() => trajectory(ctor, opts, 6));
        expect(fused).toEqual(comp);
        // The parameters moved.
        expect(fused[5]).not.toEqual(fused[0]);
      });
    }

    it('adamUpdate launches 3 kernels per parameter (4 with AMSGrad) and leaves no storage behind', async () => {
      await setBackend(b);
      for (const amsgrad of [false, true]) {
        const { w, b: bias, loss } = problem();
        const opt = new Adam([w, bias], { lr: 0.1, amsgrad });
        const step = () => {
          opt.zeroGrad();
          loss().backward();
        };
        step();
        opt.step();
        step();
        const live = b.liveTensors();
        const before = b.counters().launches;
        opt.step();
        expect(b.counters().launches - before).toBe(2 * (amsgrad ? 4 : 3));
        expect(b.liveTensors()).toBe(live);
      }
    });

    it('adamUpdate never writes into storage a parameter shares with a tensor it does not own', async () => {
      await setBackend(b);
      const { w, b: bias, loss } = problem();
      const source = tensor(Array.from(w.dataSync()), { shape: w.shape });
      const kept = Array.from(source.dataSync());
      w.assign(source);
      const opt = new Adam([w, bias], { lr: 0.1 });
      for (let i = 0; i < 2; i++) {
        opt.zeroGrad();
        loss().backward();
        opt.step();
      }
      expect(Array.from(source.dataSync())).toEqual(kept);
      expect(Array.from(w.dataSync())).not.toEqual(kept);
    });
  });
}
