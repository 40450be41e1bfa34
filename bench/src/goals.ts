// The CPU speed goals, each checked against the figures of the same run: `pnpm bench` prints the
// result as `goals` beside the raw figures, so a reader sees at a glance which hold on the machine
// it ran on and by how much. Every entry names what was measured, the target and whether it is met;
// a goal whose figures the run skipped says so instead.
import type { DeterminismCheck } from './determinism.js';
import type { MlpResult } from './workload.js';

/** One goal: what it asks, what the run measured, and whether that meets it (null: not measured). */
export interface Goal {
  goal: string;
  measured: number | null;
  target: string;
  met: boolean | null;
  note?: string;
}

type Skipped = { skipped: string };
type Side = { matmulGflops: Record<string, number>; mlp: Record<string, MlpResult>; cnn?: MlpResult } & Record<string, unknown>;
type Rates = Record<string, { gflops: number; percentOfPeak: number }>;

/** The parts of one run's result the goals read. */
export interface RunFigures {
  machine: { avx512f?: unknown; avx2?: unknown };
  bp: Side;
  pytorch: Side | Skipped;
  pytorchOneThread: Side | Skipped;
  tfjsWasm: Side | Skipped;
  gpt: Record<string, unknown>;
  matmulVsPeak:
    | Skipped
    | {
        plain: { oneThread: Rates; allThreads: Rates };
        fma: { oneThread: Rates; allThreads: Rates } | Skipped;
        /** The SIMD peak the percentages are of (GFLOP/s). */
        peakUsed?: { oneThread: number; allThreads: number };
      };
  trainMnistPeakMemory: Record<string, unknown>;
  determinism: { checks: DeterminismCheck[] } | Skipped;
}

/** Peak resident memory allowed for a full MNIST training run (MB). */
export const RSS_GOAL_MB = 450;
/** Share of the SIMD peak the product must reach at every size and thread setting. */
export const PEAK_GOAL_PERCENT = 85;
/** How many times faster than TensorFlow.js (WebAssembly backend) every job must run. */
export const TFJS_GOAL_SPEEDUP = 5;

const round = (x: number): number => Math.round(x * 1000) / 1000;
const isSkipped = (x: unknown): x is Skipped => typeof x === 'object' && x !== null && 'skipped' in x;

/**
 * The goals, checked against `run`: each job's time over PyTorch's faster thread setting (at most
 * 0.8 on a machine with AVX2 and no AVX-512, 1.25 with AVX-512, where PyTorch's products use
 * 512-bit vectors and WebAssembly's are 128-bit), the product's share of the SIMD peak, the speedup
 * over TensorFlow.js and the peak memory of a training run.
 */
export function goals(run: RunFigures): Goal[] {
  const out: Goal[] = [];
  const avx512 = run.machine.avx512f === true;
  const avx2 = run.machine.avx2 === true;
  const limit = avx512 ? 1.25 : 0.8;
  /** A job's time over PyTorch's faster setting against the limit for this machine. */
  const vsTorch = (goal: string, ratio: number | null): void => {
    if (!avx512 && !avx2) {
      out.push({ goal, measured: null, target: 'set for AVX2 and AVX-512 machines', met: null, note: 'this CPU has neither' });
    } else if (ratio === null) {
      out.push({ goal, measured: null, target: `<= ${limit}`, met: null, note: 'skipped in this run' });
    } else {
      out.push({ goal, measured: round(ratio), target: `<= ${limit} (${avx512 ? 'AVX-512' : 'AVX2'})`, met: ratio <= limit });
    }
  };
  const torchSides = [run.pytorch, run.pytorchOneThread].filter((s): s is Side => !isSkipped(s));
  /** bp's time over the fastest of PyTorch's, or null where either is missing. */
  const overBest = (bpTime: number | undefined, torchTimes: (number | undefined)[]): number | null => {
    const known = torchTimes.filter((t): t is number => typeof t === 'number' && t > 0);
    return bpTime === undefined || known.length === 0 ? null : bpTime / Math.min(...known);
  };
  for (const b of Object.keys(run.bp.mlp)) {
    vsTorch(
      `Keras MLP epoch, batch ${b}: bp / PyTorch's best`,
      overBest(
        run.bp.mlp[b]?.epochSeconds,
        torchSides.map((s) => s.mlp?.[b]?.epochSeconds),
      ),
    );
  }
  if (run.bp.cnn) {
    vsTorch(
      "MNIST CNN epoch: bp / PyTorch's best",
      overBest(
        run.bp.cnn.epochSeconds,
        torchSides.map((s) => s.cnn?.epochSeconds),
      ),
    );
  }
  const gptRatio = run.gpt.bpOverPytorchBest;
  vsTorch("GPT step: bp / PyTorch's best", typeof gptRatio === 'number' ? gptRatio : null);

  const peak = run.matmulVsPeak;
  if (isSkipped(peak)) {
    out.push({
      goal: 'matrix product vs the SIMD peak',
      measured: null,
      target: `>= ${PEAK_GOAL_PERCENT}%`,
      met: null,
      note: peak.skipped,
    });
  } else {
    // The kernel the backend runs: fused multiply-adds where the engine has them.
    const used = isSkipped(peak.fma) ? peak.plain : peak.fma;
    for (const setting of ['oneThread', 'allThreads'] as const) {
      for (const [n, r] of Object.entries(used[setting])) {
        out.push({
          goal: `${n}x${n} product, ${setting === 'oneThread' ? 'one thread' : 'all threads'}: percent of the SIMD peak`,
          measured: r.percentOfPeak,
          target: `>= ${PEAK_GOAL_PERCENT}`,
          met: r.percentOfPeak >= PEAK_GOAL_PERCENT,
        });
      }
    }
  }

  const tf = run.tfjsWasm;
  if (isSkipped(tf)) {
    out.push({ goal: 'speedup over TensorFlow.js wasm', measured: null, target: `>= ${TFJS_GOAL_SPEEDUP}`, met: null, note: tf.skipped });
  } else {
    for (const b of Object.keys(tf.mlp ?? {})) {
      const bpTime = run.bp.mlp[b]?.epochSeconds;
      if (bpTime === undefined) continue;
      const speedup = round(tf.mlp[b].epochSeconds / bpTime);
      out.push({
        goal: `Keras MLP epoch, batch ${b}: TensorFlow.js time / bp time`,
        measured: speedup,
        target: `>= ${TFJS_GOAL_SPEEDUP}`,
        met: speedup >= TFJS_GOAL_SPEEDUP,
      });
    }
    const peak = isSkipped(run.matmulVsPeak) ? undefined : run.matmulVsPeak.peakUsed?.allThreads;
    for (const n of Object.keys(tf.matmulGflops ?? {})) {
      const bpRate = run.bp.matmulGflops[n];
      if (bpRate === undefined) continue;
      const speedup = round(bpRate / tf.matmulGflops[n]);
      // The most any product could reach here: the SIMD peak of all threads over TensorFlow.js' rate.
      const ceiling = peak === undefined ? undefined : round(peak / tf.matmulGflops[n]);
      out.push({
        goal: `${n}x${n} product: bp rate / TensorFlow.js rate`,
        measured: speedup,
        target: `>= ${TFJS_GOAL_SPEEDUP}`,
        met: speedup >= TFJS_GOAL_SPEEDUP,
        ...(ceiling === undefined
          ? {}
          : {
              note: `the SIMD peak of all threads (${round(peak!)} GFLOP/s) is ${ceiling}x TensorFlow.js' rate: the most any product could reach on this machine`,
            }),
      });
    }
  }

  const rss = run.trainMnistPeakMemory.peakRssMB;
  const rssGoal = 'peak resident memory of `bp train mnist` (MB)';
  out.push(
    typeof rss === 'number'
      ? { goal: rssGoal, measured: rss, target: `<= ${RSS_GOAL_MB}`, met: rss <= RSS_GOAL_MB }
      : {
          goal: rssGoal,
          measured: null,
          target: `<= ${RSS_GOAL_MB}`,
          met: null,
          note: String(run.trainMnistPeakMemory.skipped ?? 'not measured'),
        },
  );
  const det = run.determinism;
  const detGoal = 'same-seed training: parameter values whose bits differ between one thread and all';
  if (isSkipped(det)) out.push({ goal: detGoal, measured: null, target: '0', met: null, note: det.skipped });
  else {
    const differing = det.checks.reduce((s, c) => s + c.differing, 0);
    out.push({
      goal: detGoal,
      measured: differing,
      target: '0',
      met: differing === 0,
      note: det.checks
        .map((c) => `${c.model}: ${c.steps} steps at batch ${c.batch}, ${c.values} values, 1 and ${c.threads} threads`)
        .join('; '),
    });
  }
  return out;
}
