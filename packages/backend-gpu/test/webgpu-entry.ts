/**
 * The Chromium WebGPU page (SwiftShader's Vulkan in the test): the backend picked by
 * `gpuAsync()` must be WebGPU; ops compared with the CPU backend through `await t.data()`;
 * the quick conformance suite in its asynchronous mode (checks read through `await t.data()`,
 * settled after each case; cases that need synchronous reads skip with their reason); a
 * training check against the CPU backend; and a `fit` epoch counting readbacks per step.
 * The parity cases (which call the backend's synchronous `read`) run on the GL modes only
 * (browser-entry.ts).
 */
import '@bp/autograd';
import '@bp/losses';
import '@bp/optim';
import { noGrad } from '@bp/autograd';
import { conformanceCases, readsSync, settleChecks } from '@bp/conformance';
import {
  concat,
  conv2d,
  gather,
  getBackend,
  getDebugChecks,
  manualSeed,
  matmul,
  maxPool2d,
  randn,
  setBackend,
  setDebugChecks,
  tensor,
  type Backend,
  type Tensor,
} from '@bp/tensor';
import { gpuAsync, type GpuBackend } from '../src/index.js';
import { assertClose } from './parity-cases.js';
import { TOLERANCE } from './tolerance.js';
import { countFitSteps, classification, mlp, type StepCounts } from './step-counts.js';

export interface WebGpuReport {
  mode: string;
  syncRead: boolean | undefined;
  info: Record<string, unknown>;
  results: { name: string; ok: boolean; error?: string; ms: number }[];
  /**
   * Each conformance case on WebGPU: `ok`, or skipped with the case's reason, and whether it is
   * a known gap (`WEBGPU_NAN_GAPS`: expected to fail).
   */
  conformance: { name: string; ok: boolean; gap: boolean; skipped?: string; error?: string; ms: number }[];
  train?: { cpu: number[]; webgpu: number[] };
  fit?: StepCounts;
  syncError?: string;
  ms: number;
}

const TOL = { atol: 1e-4, rtol: 1e-3 };

/** Ops as functions of fixed inputs, run on a backend. */
const OPS: [string, () => Tensor][] = [];
function inputs() {
  manualSeed(7);
  return {
    a: randn([3, 5]),
    b: randn([5, 4]),
    c: randn([3, 5]),
    img: randn([2, 3, 6, 6]),
    w: randn([4, 3, 3, 3]),
    i: tensor([2, 0, 1, 2], { dtype: 'int32' }),
  };
}
let X = inputs();
const op = (name: string, f: () => Tensor) => OPS.push([name, f]);
op('add, mul, sub with broadcasting', () => X.a.add(X.c).mul(X.a.sum(0)).sub(2));
op('exp, log1p, tanh, sigmoid, relu', () => X.a.exp().add(X.c.abs().log1p()).add(X.a.tanh()).add(X.c.sigmoid()).add(X.a.relu()));
op('div, pow, maximum, where', () => X.a.div(X.c.abs().add(1)).pow(2).maximum(X.c).where(X.a.gt(0), X.c));
op('sum, max, mean over axes', () => concat([X.a.sum(1), X.a.max(1), X.a.mean(1)], 0));
op('argmax (int32)', () => X.a.argmax(1));
op('matmul, transposed', () => concat([matmul(X.a, X.b).reshape([12]), matmul(X.b.T, X.a.T).reshape([12])], 0));
op('batched matmul', () => matmul(X.img.reshape([6, 6, 6]), X.img.reshape([6, 6, 6])));
op('transpose, slice, pad, concat', () =>
  concat(
    [
      X.img.transpose([0, 2, 3, 1]).slice([0, 1, 1, 0], [2, 3, 3, 3]).reshape([54]),
      X.a
        .pad([
          [1, 0],
          [0, 2],
        ])
        .reshape([28]),
    ],
    0,
  ),
);
op('gather rows', () => gather(X.a, X.i, 0));
op('softmax, logSoftmax', () => X.a.softmax(-1).add(X.c.logSoftmax(0)));
op('conv2d, maxPool2d', () => maxPool2d(conv2d(X.img, X.w, undefined, { padding: 1 }), 2));
op('gradient of a small network', () => {
  const w = X.b.clone();
  w.requiresGrad = true;
  X.a.matmul(w).relu().logSoftmax(-1).sum().backward();
  return w.grad!;
});

async function run(backend: Backend): Promise<Float32Array[] | Int32Array[]> {
  await setBackend(backend);
  X = inputs();
  const out: (Float32Array | Int32Array)[] = [];
  for (const [, f] of OPS) out.push((await f().data()) as Float32Array);
  return out as Float32Array[];
}

/** The train check of train-check.ts, reading each loss with `await`. */
async function train(steps: number): Promise<number[]> {
  manualSeed(42);
  const x = randn([64, 784]);
  const target = randn([64, 10]).softmax(-1);
  const w1 = randn([128, 784]).mul(0.05);
  const w2 = randn([10, 128]).mul(0.05);
  const params = [w1, w2];
  for (const p of params) p.requiresGrad = true;
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const loss = x.matmul(w1.T).relu().matmul(w2.T).logSoftmax(-1).mul(target).sum().div(-64);
    loss.backward();
    losses.push(await loss.item());
    noGrad(() => {
      for (const p of params) {
        p.assign(p.sub(p.grad!.mul(0.05)));
        p.grad = null;
      }
    });
  }
  return losses;
}

/**
 * Cases that fail on WebGPU (SwiftShader): NaN does not propagate or
 * is not detected in the WGSL kernels (maximum/minimum, clamp, cummax, argmin, any, isnan),
 * where PyTorch and the CPU backend keep it. Each must keep failing until the kernels handle
 * NaN; the test fails when one passes.
 */
const WEBGPU_NAN_GAPS = new Set<string>([
  'elementwise > maximum minimum: on ties each side gets half the gradient, NaN gets all of it (as PyTorch)',
  'elementwise > clamp with tensor bounds, min > max gives max, NaN stays (as PyTorch)',
  'elementwise > copysign logaddexp lerp isnan isinf isfinite (hand-derived edges)',
  'reduce > argmax argmin: the first index on ties and NaN counts as the extreme (as PyTorch)',
  'reduce > cumsum cumprod cummax cummin (hand-derived; zeros, ties, NaN)',
  'reduce > maxWithIndices minWithIndices all any (hand-derived, as PyTorch)',
  'torch > cummaxIndices: matches PyTorch 1.13.0a0: cummax indices axis 1 with ties',
  'torch > isfiniteAll: matches PyTorch 1.13.0a0: isnan isinf isfinite',
]);

/** The quick conformance suite on `b`, as `runConformanceSuite` runs it under vitest. */
async function runConformance(b: Backend, out: WebGpuReport['conformance']): Promise<void> {
  const checks = getDebugChecks();
  // Debug value checks read synchronously: off here, and the cases that need them skip.
  setDebugChecks(readsSync());
  try {
    for (const c of conformanceCases({ tolerance: TOLERANCE, quick: true })) {
      const name = `${c.group} > ${c.name}`;
      const gap = WEBGPU_NAN_GAPS.has(name);
      if (c.needsSyncRead && !readsSync()) {
        out.push({ name, ok: true, gap, skipped: c.needsSyncRead, ms: 0 });
        continue;
      }
      // a macrotask between cases keeps the page responsive to the harness
      await new Promise((r) => setTimeout(r, 0));
      const t = performance.now();
      try {
        try {
          await c.run();
        } finally {
          await settleChecks();
        }
        if (getBackend() !== b) throw new Error(`the case switched the backend to '${getBackend().name}'`);
        out.push({ name, ok: true, gap, ms: performance.now() - t });
      } catch (e) {
        out.push({ name, ok: false, gap, error: String((e as Error)?.message ?? e), ms: performance.now() - t });
        if (getBackend() !== b) await setBackend(b);
      }
    }
  } finally {
    setDebugChecks(checks);
  }
}

async function main(): Promise<WebGpuReport> {
  const t0 = performance.now();
  const b: GpuBackend = await gpuAsync();
  const results: WebGpuReport['results'] = [];
  const report: WebGpuReport = { mode: b.mode, syncRead: b.syncRead, info: {}, results, conformance: [], ms: 0 };
  const want = await run('cpu' as unknown as Backend);
  await setBackend('cpu');
  const cpuRef = want;
  const got: (Float32Array | Int32Array)[] = [];
  await setBackend(b);
  X = inputs();
  for (const [name, f] of OPS) {
    const t = performance.now();
    try {
      const v = (await f().data()) as Float32Array;
      got.push(v);
      assertClose(name, v, cpuRef[got.length - 1], TOL);
      results.push({ name, ok: true, ms: performance.now() - t });
    } catch (e) {
      results.push({ name, ok: false, error: String((e as Error)?.message ?? e), ms: performance.now() - t });
    }
  }
  try {
    X.a.dataSync();
  } catch (e) {
    report.syncError = String((e as Error).message);
  }
  await runConformance(b, report.conformance);
  await setBackend('cpu');
  const cpuLosses = await train(4);
  await setBackend(b);
  report.train = { cpu: cpuLosses, webgpu: await train(4) };
  const { x, y } = classification(6 * 16, 2, 3);
  report.fit = await countFitSteps(b, mlp([2, 16, 3], 'crossEntropyLoss'), x, y, 16);
  await setBackend('cpu');
  report.info = b.info();
  b.destroy();
  report.ms = performance.now() - t0;
  return report;
}

main().then(
  (r) => ((window as unknown as { __bpResult: WebGpuReport }).__bpResult = r),
  (e: unknown) => ((window as unknown as { __bpFatal: string }).__bpFatal = String((e as Error)?.stack ?? e)),
);
