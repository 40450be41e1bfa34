import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { PEAK_FLOPS_PER_TURN, PEAK_WASM, PEAK_WASM_FMA } from '../../packages/tensor/src/cpu/wasm/peak-wasm.js';

/**
 * The WebAssembly SIMD arithmetic peak of this machine: GFLOP/s of the peak probe (independent
 * f32x4 multiply-add chains, no memory traffic), on one thread and on every core at once, for
 * plain SIMD (f32x4.mul + f32x4.add) and, where the engine has relaxed SIMD, fused multiply-adds.
 * The plain probe's products do not change in its loop, so the engine computes them once and
 * `mulAdd` is the add throughput: an upper bound for a multiply and an add (see generate.mjs), and
 * the peak the product is measured against only where the engine has no fused multiply-add.
 */
export interface SimdPeak {
  mulAdd: { oneThread: number; allThreads: number };
  fma: { oneThread: number; allThreads: number } | null;
  threads: number;
}

type Run = (turns: number) => number;

function instantiate(module: WebAssembly.Module): Run {
  return (new WebAssembly.Instance(module).exports as { run: Run }).run;
}

/**
 * Turns of the probe that take about `seconds` on this thread, after running it for a while in
 * short calls: engines start wasm in a baseline compiler and switch to optimized code between
 * calls, once a background compile (slow on a busy machine) is done, and not inside a long call.
 */
function calibrate(run: Run, seconds: number): number {
  let turns = 1 << 12;
  let best = 0;
  let still = 0;
  const end = performance.now() + 3000;
  // Warm up until the rate of short calls stops improving (or 3 s).
  while (performance.now() < end && still < 20) {
    const t0 = performance.now();
    run(turns);
    const r = turns / (performance.now() - t0);
    if (r > best * 1.02) {
      best = r;
      still = 0;
    } else {
      still++;
    }
  }
  turns = 1 << 14;
  for (;;) {
    const t0 = performance.now();
    run(turns);
    const dt = (performance.now() - t0) / 1000;
    if (dt > seconds / 4) return Math.max(1, Math.round((turns * seconds) / dt));
    turns *= 4;
  }
}

/** Best GFLOP/s of `reps` timed runs on this thread (noise only ever slows a run down). */
function oneThread(run: Run, turns: number, reps: number): number {
  let best = 0;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    run(turns);
    const dt = (performance.now() - t0) / 1000;
    best = Math.max(best, (turns * PEAK_FLOPS_PER_TURN) / dt / 1e9);
  }
  return best;
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, turns, go } = workerData;
const run = new WebAssembly.Instance(module).exports.run;
run(1000);
const flag = new Int32Array(go);
parentPort.postMessage('ready');
parentPort.on('message', () => {
  Atomics.wait(flag, 0, 0);
  run(turns);
  parentPort.postMessage('done');
});
`;

/**
 * Best GFLOP/s over `reps` rounds of `threads` workers each running `turns` turns at the same
 * time (this thread only starts them and waits), timed from the start signal to the last finish.
 */
async function allThreads(module: WebAssembly.Module, turns: number, threads: number, reps: number): Promise<number> {
  let best = 0;
  for (let r = 0; r < reps; r++) {
    const go = new SharedArrayBuffer(4);
    const workers = Array.from({ length: threads }, () => new Worker(WORKER, { eval: true, workerData: { module, turns, go } }));
    await Promise.all(workers.map((w) => new Promise((res) => w.once('message', res))));
    const finished = workers.map((w) => new Promise((res) => w.once('message', res)));
    for (const w of workers) w.postMessage('start');
    // Let every worker reach its wait before the signal.
    await new Promise((res) => setTimeout(res, 50));
    const t0 = performance.now();
    Atomics.store(new Int32Array(go), 0, 1);
    Atomics.notify(new Int32Array(go), 0);
    await Promise.all(finished);
    const dt = (performance.now() - t0) / 1000;
    await Promise.all(workers.map((w) => w.terminate()));
    best = Math.max(best, (threads * turns * PEAK_FLOPS_PER_TURN) / dt / 1e9);
  }
  return best;
}

/** Measures {@link SimdPeak}: `seconds` per timed run, best of `reps`. */
export async function simdPeak(seconds = 0.2, reps = 5, threads = availableParallelism()): Promise<SimdPeak> {
  const measure = async (base64: string) => {
    // One module shared with the workers, so they run the code this thread has optimized.
    const module = new WebAssembly.Module(Buffer.from(base64, 'base64'));
    const run = instantiate(module);
    const turns = calibrate(run, seconds);
    return { oneThread: oneThread(run, turns, reps), allThreads: await allThreads(module, turns, threads, reps) };
  };
  const fma = WebAssembly.validate(Buffer.from(PEAK_WASM_FMA, 'base64')) ? await measure(PEAK_WASM_FMA) : null;
  return { mulAdd: await measure(PEAK_WASM), fma, threads };
}
