/**
 * The Chromium WebGPU page (SwiftShader's Vulkan in the test): the backend picked by
 * `gpuAsync()` must be WebGPU; ops compared with the CPU backend through `await t.data()`;
 * the primitive parity cases (each comparison read through the backend's `readAsync`);
 * the quick conformance suite in its asynchronous mode (checks read through `await t.data()`,
 * settled after each case; cases that need synchronous reads skip with their reason); a
 * training check against the CPU backend; the Keras MNIST MLP on a subset of real MNIST
 * (`fit` and `evaluate`, which read asynchronously) against the CPU backend; and a `fit`
 * epoch counting readbacks per step.
 */
import '@bp/autograd';
import '@bp/losses';
import { noGrad } from '@bp/autograd';
import { Adam, type OptimizerStateDict } from '@bp/optim';
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
  BpError,
  Tensor,
  type Backend,
  type DType,
} from '@bp/tensor';
import { gpuAsync, type GpuBackend } from '../src/index.js';
import { compareKerasMlp, type KerasMlpComparison } from './keras-mlp.js';
import { assertClose, parityCases, runParityCase } from './parity-cases.js';
import { TOLERANCE } from './tolerance.js';
import { countFitSteps, classification, mlp, type StepCounts } from './step-counts.js';
import { unpackMnist } from './unpack-mnist.js';

export interface WebGpuReport {
  mode: string;
  syncRead: boolean | undefined;
  info: Record<string, unknown>;
  results: { name: string; ok: boolean; error?: string; ms: number }[];
  /** Each parity case (test/parity-cases.ts) on WebGPU, with the CPU backend's tolerance for GPUs. */
  parity: { name: string; ok: boolean; error?: string; ms: number }[];
  /**
   * Each conformance case on WebGPU: `ok`, or skipped with the case's reason.
   */
  conformance: { name: string; ok: boolean; skipped?: string; error?: string; ms: number }[];
  train?: { cpu: number[]; webgpu: number[] };
  /** The Keras MNIST MLP on the subset the test serves, CPU backend vs WebGPU. */
  mnist?: KerasMlpComparison;
  mnistError?: string;
  lost?: LostReport;
  lostError?: string;
  fit?: StepCounts;
  syncError?: string;
  ms: number;
}

/**
 * The WebGPU devices the page created: the device-lost check destroys the one gpu.js
 * shares between its kernels, as a driver reset or a lost GPU would take it away.
 */
const devices: { destroy(): void; lost: Promise<unknown> }[] = [];
{
  const proto = (globalThis as unknown as { GPUAdapter?: { prototype: { requestDevice(...a: unknown[]): Promise<never> } } }).GPUAdapter
    ?.prototype;
  if (proto) {
    const requestDevice = proto.requestDevice;
    proto.requestDevice = async function (this: unknown, ...a: unknown[]) {
      const d = await requestDevice.apply(this, a);
      devices.push(d);
      return d;
    };
  }
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
// NaN through the kernels that test for it (WebGPU may compile `a != b` as an ordered comparison).
op('NaN: maximum, minimum, ne, isnan, where, argmax, argmin, any, clamp', () => {
  const n = tensor([NaN, 1, -2, Infinity, NaN, 0]).reshape([2, 3]);
  const m = tensor([0, NaN, -3, 1, NaN, -Infinity]).reshape([2, 3]);
  return concat(
    [
      n.maximum(m),
      n.minimum(m),
      n.ne(m).add(n.isnan()).add(n.ne(0)),
      n.where(n, m),
      n.argmax(1),
      m.argmin(1),
      n.argmin(0),
      m.argmax(0),
      n.any(1),
      n.clamp(m, 1),
    ].map((t) => t.reshape([t.size]).cast('float32')),
    0,
  );
});
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

/** What the device-lost check saw. */
export interface LostReport {
  /** Losses of the uninterrupted run on the CPU backend (`LOST_STEPS + RESUME_STEPS` steps). */
  cpu: number[];
  /** Losses of the first `LOST_STEPS` steps on WebGPU, before the checkpoint. */
  webgpu: number[];
  /** The error of the step that was running when the device went, and of an op after it. */
  error: { name: string; message: string; op?: string };
  after: { name: string; message: string };
  /** Losses after resuming from the checkpoint on the CPU backend. */
  resumed: number[];
  /** The same resumption with fresh optimizer state (what a checkpoint without it would give). */
  resumedWithoutOptimizer: number[];
}

const LOST_STEPS = 3;
const RESUME_STEPS = 3;

/** A small classifier trained with Adam: data and initial weights from a fixed seed. */
function lostModel() {
  manualSeed(11);
  const x = randn([32, 20]);
  const target = randn([32, 4]).softmax(-1);
  const params = [randn([16, 20]).mul(0.3), randn([4, 16]).mul(0.3)];
  for (const p of params) p.requiresGrad = true;
  return { x, target, params, opt: new Adam(params, { lr: 0.05 }) };
}

/** One Adam step; the loss is read with `await` (the only read of the step). */
async function lostStep(m: ReturnType<typeof lostModel>): Promise<number> {
  const [w1, w2] = m.params;
  m.opt.zeroGrad();
  const loss = m.x.matmul(w1.T).tanh().matmul(w2.T).logSoftmax(-1).mul(m.target).sum().div(-32);
  loss.backward();
  m.opt.step();
  return loss.item();
}

/** A host copy of a tensor's values: a checkpoint must outlive the device. */
interface HostTensor {
  data: Float32Array | Int32Array;
  shape: number[];
  dtype: DType;
}
const toHost = async (t: Tensor): Promise<HostTensor> => ({
  data: (await t.data()).slice() as Float32Array | Int32Array,
  shape: [...t.shape],
  dtype: t.dtype,
});
const fromHost = (h: HostTensor): Tensor => tensor(h.data, { dtype: h.dtype, shape: h.shape });

/**
 * Training on WebGPU; a checkpoint (parameters and Adam's state, copied to the host); the
 * device destroyed while a step's kernels are queued; the error that step raises; then the
 * checkpoint loaded on the CPU backend and training continued there, beside an uninterrupted
 * run on the CPU backend from the same seed.
 */
async function lostDevice(): Promise<LostReport> {
  await setBackend('cpu');
  const whole = lostModel();
  const cpu: number[] = [];
  for (let s = 0; s < LOST_STEPS + RESUME_STEPS; s++) cpu.push(await lostStep(whole));

  const b = await gpuAsync();
  await setBackend(b);
  const m = lostModel();
  const webgpu: number[] = [];
  for (let s = 0; s < LOST_STEPS; s++) webgpu.push(await lostStep(m));
  const sd = m.opt.stateDict();
  const state: Record<string, Record<string, HostTensor | number>> = {};
  for (const [id, ps] of Object.entries(sd.state)) {
    state[id] = {};
    for (const [k, v] of Object.entries(ps)) state[id][k] = v instanceof Tensor ? await toHost(v) : v;
  }
  const checkpoint = { params: await Promise.all(m.params.map(toHost)), state, paramGroups: sd.paramGroups };

  // The next step's kernels are queued (they run once this function yields); the device goes first.
  const running = lostStep(m);
  const device = devices[devices.length - 1];
  if (!device) throw new Error('no WebGPU device was created');
  device.destroy();
  await device.lost;
  const describe = (e: unknown) => ({
    name: (e as Error)?.name,
    message: String((e as Error)?.message ?? e),
    op: e instanceof BpError ? e.op : undefined,
  });
  let error: LostReport['error'] = { name: '', message: 'the step did not fail' };
  await running.then(
    () => {},
    (e: unknown) => (error = describe(e)),
  );
  let after: LostReport['after'] = { name: '', message: 'the op did not fail' };
  await m.x
    .add(1)
    .data()
    .then(
      () => {},
      (e: unknown) => (after = describe(e)),
    );

  const resume = async (withOptimizer: boolean): Promise<number[]> => {
    await setBackend('cpu');
    const r = lostModel();
    noGrad(() => r.params.forEach((p, i) => p.assign(fromHost(checkpoint.params[i]))));
    if (withOptimizer) {
      const restored: OptimizerStateDict = { state: {}, paramGroups: structuredClone(checkpoint.paramGroups) };
      for (const [id, ps] of Object.entries(checkpoint.state)) {
        restored.state[id] = Object.fromEntries(Object.entries(ps).map(([k, v]) => [k, typeof v === 'number' ? v : fromHost(v)]));
      }
      r.opt.loadStateDict(restored);
    }
    const losses: number[] = [];
    for (let s = 0; s < RESUME_STEPS; s++) losses.push(await lostStep(r));
    return losses;
  };
  const resumed = await resume(true);
  const resumedWithoutOptimizer = await resume(false);
  b.destroy();
  return { cpu, webgpu, error, after, resumed, resumedWithoutOptimizer };
}

/** The quick conformance suite on `b`, as `runConformanceSuite` runs it under vitest. */
async function runConformance(b: Backend, out: WebGpuReport['conformance']): Promise<void> {
  const checks = getDebugChecks();
  // Debug value checks read synchronously: off here, and the cases that need them skip.
  setDebugChecks(readsSync());
  try {
    for (const c of conformanceCases({ tolerance: TOLERANCE, quick: true })) {
      const name = `${c.group} > ${c.name}`;
      if (c.needsSyncRead && !readsSync()) {
        out.push({ name, ok: true, skipped: c.needsSyncRead, ms: 0 });
        continue;
      }
      // a macrotask between cases keeps the page responsive to the harness
      await new Promise((r) => setTimeout(r, 0));
      // progress: a page that runs out of time names the case it was in
      console.log(`conformance ${name}`);
      const t = performance.now();
      try {
        try {
          await c.run();
        } finally {
          await settleChecks();
        }
        if (getBackend() !== b) throw new Error(`the case switched the backend to '${getBackend().name}'`);
        out.push({ name, ok: true, ms: performance.now() - t });
      } catch (e) {
        out.push({ name, ok: false, error: String((e as Error)?.message ?? e), ms: performance.now() - t });
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
  const report: WebGpuReport = { mode: b.mode, syncRead: b.syncRead, info: {}, results, parity: [], conformance: [], ms: 0 };
  // First, before other work leaves storages for the finalizers: each case checks that it frees its own.
  for (const c of parityCases) {
    await new Promise((r) => setTimeout(r, 0));
    const t = performance.now();
    const name = `${c.group}: ${c.name}`;
    console.log(`parity ${name}`);
    try {
      const before = b.liveTensors();
      await runParityCase(c, b, TOLERANCE);
      if (b.liveTensors() !== before) throw new Error(`live tensors went from ${before} to ${b.liveTensors()}`);
      report.parity.push({ name, ok: true, ms: performance.now() - t });
    } catch (e) {
      report.parity.push({ name, ok: false, error: String((e as Error)?.message ?? e), ms: performance.now() - t });
    }
  }
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
  try {
    const data = unpackMnist(await (await fetch('/mnist.bin')).arrayBuffer());
    report.mnist = await compareKerasMlp(b, data);
  } catch (e) {
    report.mnistError = String((e as Error)?.stack ?? e);
  }
  const { x, y } = classification(6 * 16, 2, 3);
  report.fit = await countFitSteps(b, mlp([2, 16, 3], 'crossEntropyLoss'), x, y, 16);
  await setBackend('cpu');
  report.info = b.info();
  b.destroy();
  // Last: it destroys the WebGPU device the page's kernels share.
  try {
    report.lost = await lostDevice();
  } catch (e) {
    report.lostError = String((e as Error)?.stack ?? e);
  }
  await setBackend('cpu');
  report.ms = performance.now() - t0;
  return report;
}

main().then(
  (r) => ((window as unknown as { __bpResult: WebGpuReport }).__bpResult = r),
  (e: unknown) => ((window as unknown as { __bpFatal: string }).__bpFatal = String((e as Error)?.stack ?? e)),
);
