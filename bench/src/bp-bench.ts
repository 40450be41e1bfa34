import { Tensor, getBackend, logSoftmax, manualSeed, matmulT, oneHot, rand, randomPermutation, tensor, uniform, zeros } from '@bp/tensor';
import { noGrad } from '@bp/autograd';
import { THREAD_POLICY_WARMUP } from '@bp/tensor/internal';
import { cpuClock, median, syntheticMnist, type MlpResult, type MlpWorkload } from './workload.js';

/**
 * Median GFLOP/s of an `n x n @ n x n` float32 product on the active backend, once warmed up:
 * enough untimed products for the CPU backend's thread policy to settle (it alternates one
 * thread and all, two calls at a time, until each has THREAD_POLICY_WARMUP runs counted, the
 * first after each switch not counted), so the figure is the setting a training loop gets, not a
 * mix of the two (a 1024² product timed five times right away was three of one thread).
 */
export function bpMatmulGflops(n: number, reps: number): number {
  const a = rand([n, n]);
  const b = rand([n, n]);
  for (let i = 0; i < 4 * THREAD_POLICY_WARMUP + 2; i++) a.matmul(b).dispose();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const c = a.matmul(b);
    times.push((performance.now() - t0) / 1000);
    // Given back as each product is in TensorFlow.js' figure (and freed as PyTorch frees `a @ b`),
    // so the next output reuses its memory instead of new pages the system must zero and map in.
    c.dispose();
  }
  a.dispose();
  b.dispose();
  return (2 * n ** 3) / median(times) / 1e9;
}

/** PyTorch's `nn.Linear` default init: U(-1/sqrt(in), 1/sqrt(in)) for weight `[out, in]` and bias. */
function linear(inF: number, outF: number): [Tensor, Tensor] {
  const bound = 1 / Math.sqrt(inF);
  const w = uniform([outF, inF], -bound, bound, { requiresGrad: true });
  const b = uniform([outF], -bound, bound, { requiresGrad: true });
  return [w, b];
}

/**
 * Adam as PyTorch writes it (bias-corrected moments, eps outside the square root),
 * with plain tensor ops inside noGrad and `assign` for the in-place update.
 */
class RawAdam {
  private readonly m: Tensor[];
  private readonly v: Tensor[];
  private t = 0;
  constructor(
    private readonly params: Tensor[],
    private readonly lr = 1e-3,
    private readonly b1 = 0.9,
    private readonly b2 = 0.999,
    private readonly eps = 1e-8,
  ) {
    this.m = params.map((p) => zeros(p.shape));
    this.v = params.map((p) => zeros(p.shape));
  }
  step(): void {
    this.t++;
    const bc1 = 1 - this.b1 ** this.t;
    const bc2 = 1 - this.b2 ** this.t;
    const stepSize = this.lr / bc1;
    const sqrtBc2 = Math.sqrt(bc2);
    noGrad(() => {
      this.params.forEach((p, i) => {
        const g = p.grad;
        if (!g) return;
        this.m[i] = this.m[i].mul(this.b1).add(g.mul(1 - this.b1));
        this.v[i] = this.v[i].mul(this.b2).add(g.square().mul(1 - this.b2));
        const denom = this.v[i].sqrt().div(sqrtBc2).add(this.eps);
        p.assign(p.sub(this.m[i].div(denom).mul(stepSize)));
      });
    });
  }
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }
}

/**
 * Times a training loop as every bp benchmark does: one untimed warm-up step (kernels, JIT),
 * then `w.steps` steps (a whole epoch when 0), extrapolated to an epoch of `w.samples`.
 * `step(s)` runs batch s and returns its loss.
 */
export function timeSteps(w: MlpWorkload, step: (s: number) => Tensor): MlpResult {
  const perEpoch = Math.floor(w.samples / w.batchSize);
  const steps = w.steps <= 0 ? perEpoch : Math.min(w.steps, perEpoch);
  step(0);
  const cpu = cpuClock();
  const t0 = performance.now();
  let loss = step(0);
  for (let s = 1; s < steps; s++) loss = step(s);
  const finalLoss = loss.item();
  const dt = (performance.now() - t0) / 1000;
  return {
    batchSize: w.batchSize,
    stepsTimed: steps,
    secondsTimed: dt,
    epochSeconds: (dt / steps) * perEpoch,
    finalLoss,
    cpuSeconds: cpu(),
  };
}

/**
 * One epoch (or `steps` of it, extrapolated) of the Keras MNIST MLP, 784-128-10 with ReLU,
 * softmax cross-entropy and Adam 1e-3, written with raw @bp/tensor and @bp/autograd ops.
 */
export function bpMlpEpoch(w: MlpWorkload): MlpResult {
  manualSeed(0);
  const { images, labels } = syntheticMnist(w.samples);
  // assign copies the typed arrays in one go (tensor() walks them value by value).
  const x = zeros([w.samples, 784]).assign(images);
  const y = zeros([w.samples], { dtype: 'int32' }).assign(labels);
  const [w1, b1] = linear(784, 128);
  const [w2, b2] = linear(128, 10);
  const opt = new RawAdam([w1, b1, w2, b2]);
  const permData = randomPermutation(w.samples);
  const step = (s: number): Tensor => {
    const idx = tensor(permData.subarray(s * w.batchSize, (s + 1) * w.batchSize), { dtype: 'int32' });
    const xb = x.gather(idx, 0);
    const target = oneHot(y.gather(idx, 0), 10);
    const h = matmulT(xb, w1, false, true).add(b1).relu();
    const logits = matmulT(h, w2, false, true).add(b2);
    const loss = logSoftmax(logits).mul(target).sum().div(-w.batchSize);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    return loss;
  };
  return timeSteps(w, step);
}

/** What the active backend reports about itself (kernel kind, threads). */
export function bpBackendInfo(): Record<string, unknown> {
  const b = getBackend();
  return { name: b.name, ...(b.info?.() ?? {}) };
}
