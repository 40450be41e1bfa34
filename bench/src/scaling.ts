/**
 * `pnpm bench --scaling`: the MNIST MLP (784-hidden-10, ReLU, cross-entropy, Adam 1e-3) in bp and
 * PyTorch against batch size (hidden width 128) and against hidden width (batch 128), so users see
 * where each library wins. Each point times a fixed number of samples (`SAMPLES_PER_POINT`, at least
 * `MIN_STEPS` steps) after one warm-up step and reports the time per sample and the epoch time it
 * implies (60,000 samples). Rounds alternate bp, PyTorch with 1 thread and PyTorch with 2 threads;
 * each figure is the median of the rounds, and PyTorch's column is its faster thread setting per point.
 * PyTorch with 2 threads runs in later rounds only where its first round came within 1.5x of 1 thread
 * (on a busy two-core machine its spinning OpenMP threads are 50-100x slower, and would take minutes).
 * `scripts/scaling-svg.mjs` turns the JSON into the SVG plot.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Linear, ReLU, Sequential } from '@bp/layers';
import { crossEntropyLoss } from '@bp/losses';
import { Adam } from '@bp/optim';
import { manualSeed, randomPermutation, tensor, tidy } from '@bp/tensor';
import { median, syntheticMnist } from './workload.js';

/** One point of the sweep. */
export interface ScalingPoint {
  batch: number;
  hidden: number;
}

/** Batch sizes swept at hidden width 128. */
export const SCALING_BATCHES = [8, 16, 32, 64, 128, 256, 512];
/** Hidden widths swept at batch 128. */
export const SCALING_WIDTHS = [64, 128, 256, 512, 1024, 2048];
/** Samples timed per point (after one warm-up step). */
export const SAMPLES_PER_POINT = 4096;
/** The fewest timed steps per point. */
export const MIN_STEPS = 8;
const EPOCH = 60000;
const DATA = 8192;

/** The points of both sweeps (the shared point batch 128, width 128 once). */
export function scalingPoints(): ScalingPoint[] {
  const pts = SCALING_BATCHES.map((batch) => ({ batch, hidden: 128 }));
  for (const hidden of SCALING_WIDTHS) if (hidden !== 128) pts.push({ batch: 128, hidden });
  return pts;
}

/** Timed steps for a batch size. */
export function stepsFor(batch: number): number {
  return Math.max(MIN_STEPS, Math.ceil(SAMPLES_PER_POINT / batch));
}

/** Seconds per training sample of bp's MLP at one point. */
function bpPoint(p: ScalingPoint, images: Float32Array, labels: Int32Array): number {
  manualSeed(0);
  const x = tensor(images, { shape: [DATA, 784] });
  const y = tensor(labels, { shape: [DATA], dtype: 'int32' });
  const model = new Sequential([new Linear(784, p.hidden), new ReLU(), new Linear(p.hidden, 10)]);
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const perm = randomPermutation(DATA);
  const steps = stepsFor(p.batch);
  const per = Math.floor(DATA / p.batch);
  // The PyTorch-style loop as the guide writes it: one tidy scope per step.
  const step = (s: number): number =>
    tidy(() => {
      const o = (s % per) * p.batch;
      const idx = tensor(perm.subarray(o, o + p.batch), { dtype: 'int32' });
      opt.zeroGrad();
      const loss = crossEntropyLoss(model.forward(x.gather(idx, 0)), y.gather(idx, 0));
      loss.backward();
      opt.step();
      return s === steps ? loss.item() : 0;
    });
  step(0);
  const t0 = performance.now();
  for (let s = 1; s <= steps; s++) step(s);
  return (performance.now() - t0) / 1000 / (steps * p.batch);
}

function torchRound(python: string, threads: number, pts: ScalingPoint[]): number[] | string {
  const script = fileURLToPath(new URL('../src/torch_bench.py', import.meta.url));
  const cfg = JSON.stringify({ points: pts.map((p) => ({ ...p, steps: stepsFor(p.batch) })), data: DATA });
  const r = spawnSync(python, [script, '--threads', String(threads), '--scaling', cfg], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return `PyTorch failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  return (JSON.parse(r.stdout) as { secondsPerSample: number[] }).secondsPerSample;
}

const r3 = (v: number): number => Math.round(v * 1000) / 1000;

/** Runs both sweeps for `rounds` rounds and returns the JSON section (epoch seconds = 60,000 samples). */
export function runScaling(rounds: number, python: string, withTorch: boolean, log: (m: string) => void): Record<string, unknown> {
  const pts = scalingPoints();
  const { images, labels } = syntheticMnist(DATA);
  const bp: number[][] = pts.map(() => []);
  const t1: number[][] = pts.map(() => []);
  const t2: number[][] = pts.map(() => []);
  let torchSkipped: string | null = withTorch ? (existsSync(python) ? null : `${python} not found`) : '--no-torch';
  for (let r = 0; r < rounds; r++) {
    log(`scaling round ${r + 1} of ${rounds}: bp`);
    pts.forEach((p, i) => bp[i].push(bpPoint(p, images, labels)));
    if (torchSkipped) continue;
    for (const [threads, into] of [
      [1, t1],
      [2, t2],
    ] as const) {
      const which = threads === 1 || r === 0 ? pts.map((_, i) => i) : pts.map((_, i) => i).filter((i) => t2[i][0] < 1.5 * t1[i][0]);
      if (which.length === 0) continue;
      log(`scaling round ${r + 1} of ${rounds}: PyTorch, ${threads} thread(s), ${which.length} point(s)`);
      const got = torchRound(
        python,
        threads,
        which.map((i) => pts[i]),
      );
      if (typeof got === 'string') torchSkipped = got;
      else got.forEach((v, k) => into[which[k]].push(v));
    }
  }
  const rows = pts.map((p, i) => {
    const bpS = median(bp[i]) * EPOCH;
    const row: Record<string, unknown> = { batch: p.batch, hidden: p.hidden, stepsTimed: stepsFor(p.batch), bpEpochSeconds: r3(bpS) };
    if (!torchSkipped) {
      const one = median(t1[i]) * EPOCH;
      const two = median(t2[i]) * EPOCH;
      const best = Math.min(one, two);
      Object.assign(row, {
        pytorchEpochSeconds: r3(best),
        pytorchThreads: one <= two ? 1 : 2,
        pytorchOneThread: r3(one),
        pytorchTwoThreads: r3(two),
        bpOverPytorch: r3(bpS / best),
        faster: bpS < best ? 'bp' : 'pytorch',
      });
    }
    return row;
  });
  return {
    network:
      'Linear(784, hidden) + ReLU + Linear(hidden, 10), cross-entropy on logits, Adam 1e-3 (bp: @bp/layers Sequential; PyTorch: nn.Sequential)',
    method: `${SAMPLES_PER_POINT} samples (at least ${MIN_STEPS} steps) timed per point after one warm-up step, as seconds per sample x ${EPOCH}; median of ${rounds} round(s), bp and PyTorch alternating; PyTorch's column is its faster thread setting`,
    ...(torchSkipped ? { pytorch: `skipped: ${torchSkipped}` } : {}),
    batchSweep: rows.filter((r) => r.hidden === 128),
    widthSweep: rows.filter((r) => r.batch === 128),
  };
}
