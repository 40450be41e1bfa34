import { cpuBackend } from '@bp/tensor';
import { DATA_AT, KC, MC, WasmRuntime, kernelModule, packA, packB, setThreadPolicy } from '@bp/tensor/internal';
import { median } from './workload.js';
import { simdPeak, type SimdPeak } from './simd-peak.js';

/** One kernel's matrix product rate at each size, and as a percentage of the SIMD peak. */
type Rates = Record<string, { gflops: number; percentOfPeak: number }>;

/** The matrix product against the machine's WebAssembly SIMD peak, as `pnpm bench` reports it. */
export interface MatmulVsPeak {
  peak: SimdPeak;
  /** The peak each percentage is of, per thread setting: the fused probe's where the engine has relaxed SIMD, else the plain one's. */
  peakUsed: { oneThread: number; allThreads: number };
  plain: { oneThread: Rates; allThreads: Rates };
  fma: { oneThread: Rates; allThreads: Rates } | { skipped: string };
  /** How the fused kernel's results compare with the plain kernel's on one 256x256 product. */
  fmaVsPlain?: { outputs: number; differing: number; maxRelativeDifference: number };
  /**
   * The one-thread kernel alone ({@link kernelRate}): the default kernel (fused where the engine
   * has relaxed SIMD) on operands already in its memory, so the gap between this and `oneThread`
   * above is what staging the operands and copying the result out cost.
   */
  kernelInPlace: { kernel: 'fma' | 'plain'; oneThread: Rates };
  /**
   * Where a one-thread product's time goes ({@link oneThreadPhases}): the same steps as
   * `backend.matmul` takes on one thread, timed one by one.
   */
  oneThreadPhases: Record<string, Phases>;
  note: string;
}

/**
 * Microseconds (medians) of each step of a one-thread `n x n @ n x n` product, in the order the
 * backend takes them, and the share of the whole spent outside the kernel.
 */
export interface Phases {
  /** A and B copied from their arrays into the module's memory. */
  copyInUs: number;
  /** B packed into 8-column panels and A into 4-row strips, inside the module. */
  packUs: number;
  /** The blocked kernel. */
  kernelUs: number;
  /** C copied out of the module's memory into the output array. */
  copyOutUs: number;
  copyPercent: number;
  packPercent: number;
  outsideKernelPercent: number;
}

function rnd(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

/**
 * Median GFLOP/s of `n x n @ n x n` on a backend's matrix kernel (raw arrays: no tensor overhead).
 * Each output is given back to the backend after its product, as `tidy` gives back a training
 * step's tensors, so the next product writes into recycled memory: a new array's pages are mapped
 * in on first write, which costs more than the copy itself (1 MB: 0.2-1.2 ms fresh against 0.05
 * reused on an AMD EPYC VM) and is not what a training step pays.
 */
export function rate(be: ReturnType<typeof cpuBackend>, n: number, reps: number): number {
  const a = rnd(n * n, n);
  const b = rnd(n * n, n + 1);
  return productRate(n, reps, () => {
    const c = be.matmul(a, b, 1, 1, n, n, n, false, false);
    be.adopt?.(c);
    be.dispose?.(c);
  });
}

/** Median GFLOP/s of `reps` timed runs of `product` (an `n x n @ n x n` product), after one untimed run. */
function productRate(n: number, reps: number, product: () => void): number {
  product();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    product();
    times.push((performance.now() - t0) / 1000);
  }
  return (2 * n ** 3) / median(times) / 1e9;
}

/**
 * Median GFLOP/s of the one-thread matrix kernel alone on `n x n @ n x n`: the blocked kernel run
 * on operands already in the module's memory, laid out as a one-thread product lays them out (B
 * in packed panels and A in 4-row strips where that product packs them), with no copy in or out
 * and no output to allocate. Timing does not depend on the values, so A and B are written once.
 */
export function kernelRate(rt: WasmRuntime, n: number, reps: number): number {
  const cAt = DATA_AT;
  const aAt = cAt + n * n;
  const bAt = aAt + n * n;
  const paAt = bAt + n * n;
  const mem = rt.heap(paAt + n * n);
  mem.set(rnd(n * n, n), aAt);
  mem.set(rnd(n * n, n + 1), bAt);
  const strips = packA(n, n);
  if (strips) rt.exports.pack_a(aAt * 4, n, n, paAt * 4);
  const args = squareKernelArgs(n, aAt, bAt, cAt, packB(n, n), strips ? paAt : 0);
  return productRate(n, reps, () => rt.runTask('gemm_blocked', args));
}

/**
 * The one-thread kernel's arguments for an `n x n @ n x n` product with A, B and C at float
 * offsets `aAt`, `bAt`, `cAt` (B in packed panels when `packed`; A read as strips at `paAt`
 * unless it is 0), all of C's column panels on this thread.
 */
function squareKernelArgs(n: number, aAt: number, bAt: number, cAt: number, packed: boolean, paAt: number) {
  return {
    a: aAt * 4,
    b: bAt * 4,
    c: cAt * 4,
    mp: n,
    k: n,
    np: n,
    nb0: 0,
    nb1: n >> 3,
    kcMax: KC,
    mcMax: MC,
    packed: packed ? 1 : 0,
    pa: paAt * 4,
  };
}

/**
 * Times each step of a one-thread `n x n @ n x n` product on `rt` as the backend runs it (copy A
 * and B in, pack B into panels, pack A into strips, the kernel, copy C out; regions laid out as it
 * lays them out), `reps` runs after one untimed run, each step's median.
 */
export function oneThreadPhases(rt: WasmRuntime, n: number, reps: number): Phases {
  const a = rnd(n * n, n);
  const b = rnd(n * n, n + 1);
  const out = new Float32Array(n * n);
  const cAt = DATA_AT;
  const aAt = cAt + n * n;
  const bAt = aAt + n * n;
  const sAt = bAt + n * n;
  const paAt = sAt + n * n;
  const mem = rt.heap(paAt + n * n);
  const strips = packA(n, n);
  const packed = packB(n, n);
  const args = squareKernelArgs(n, aAt, bAt, cAt, packed, strips ? paAt : 0);
  const times = { copyIn: [] as number[], pack: [] as number[], kernel: [] as number[], copyOut: [] as number[] };
  const steps: [keyof typeof times, () => void][] = [
    ['copyIn', () => mem.set(a, aAt)],
    ['copyIn', () => mem.set(b, packed ? sAt : bAt)],
    ['pack', () => packed && rt.exports.pack_b(sAt * 4, n, n, bAt * 4)],
    ['pack', () => strips && rt.exports.pack_a(aAt * 4, n, n, paAt * 4)],
    ['kernel', () => rt.runTask('gemm_blocked', args)],
    ['copyOut', () => out.set(mem.subarray(cAt, cAt + n * n))],
  ];
  for (let r = -1; r < reps; r++) {
    const run = { copyIn: 0, pack: 0, kernel: 0, copyOut: 0 };
    for (const [phase, step] of steps) {
      const t0 = performance.now();
      step();
      run[phase] += performance.now() - t0;
    }
    if (r >= 0) for (const phase of Object.keys(run) as (keyof typeof run)[]) times[phase].push(run[phase] * 1000);
  }
  const us = (phase: keyof typeof times) => Math.round(median(times[phase]) * 10) / 10;
  const copyInUs = us('copyIn');
  const packUs = us('pack');
  const kernelUs = us('kernel');
  const copyOutUs = us('copyOut');
  const total = copyInUs + packUs + kernelUs + copyOutUs;
  const pct = (x: number) => Math.round((1000 * x) / total) / 10;
  return {
    copyInUs,
    packUs,
    kernelUs,
    copyOutUs,
    copyPercent: pct(copyInUs + copyOutUs),
    packPercent: pct(packUs),
    outsideKernelPercent: pct(total - kernelUs),
  };
}

/** Waits (up to 5 s) until `be` has `threads` threads running: its workers start in the background. */
export async function ready(be: ReturnType<typeof cpuBackend>, threads: number): Promise<void> {
  for (let i = 0; i < 250 && Number(be.info?.().threads ?? 1) < threads; i++) await new Promise((r) => setTimeout(r, 20));
}

/**
 * Measures the SIMD peak, then the matrix product at `sizes` on one thread and on `threads`, with
 * the plain kernel and (where the engine has relaxed SIMD) the fused one; `rounds` rounds
 * alternating the four, each figure the median of the rounds.
 */
export async function matmulVsPeak(sizes: number[], threads: number, rounds: number, short: boolean): Promise<MatmulVsPeak> {
  const peak = await simdPeak(short ? 0.1 : 0.2, short ? 3 : 5, threads);
  // The multiply-add peak is the fused probe's where the engine has relaxed SIMD (one fused
  // multiply-add is one multiply and one add). The plain probe times adds alone (its products
  // never change, so the engine computes them once before the loop): not a multiply-add rate, and
  // on cores with more add units than multipliers above what any multiply and add can reach. It is
  // the ceiling only where there is no fused multiply-add.
  const peakUsed = peak.fma ?? peak.mulAdd;
  const fmaOk = peak.fma !== null;
  const configs = [
    { kind: 'plain', setting: 'oneThread', be: cpuBackend({ threads: 1, fma: false }) },
    { kind: 'plain', setting: 'allThreads', be: cpuBackend({ threads, fma: false }) },
    ...(fmaOk
      ? [
          { kind: 'fma', setting: 'oneThread', be: cpuBackend({ threads: 1, fma: true }) },
          { kind: 'fma', setting: 'allThreads', be: cpuBackend({ threads, fma: true }) },
        ]
      : []),
  ] as const;
  for (const c of configs) await ready(c.be, c.setting === 'allThreads' ? threads : 1);
  const fused = fmaOk ? kernelModule(false, true) : null;
  const inPlace = new WasmRuntime(fused ?? kernelModule()!, undefined, fused !== null);
  const samples: Record<string, number[]> = {};
  const phases: Record<string, Phases> = {};
  // Every product split over all threads: the kernel's rate there, not which setting the thread
  // policy would pick for it (the job figures show that); a few products' measurements are too
  // few for the policy to settle on one.
  setThreadPolicy('all');
  try {
    for (let r = 0; r < rounds; r++) {
      for (const n of sizes) {
        const reps = n >= 1024 ? 3 : n >= 512 ? 8 : 30;
        for (const c of configs) (samples[`${c.kind}/${c.setting}/${n}`] ??= []).push(rate(c.be, n, reps));
        (samples[`inPlace/oneThread/${n}`] ??= []).push(kernelRate(inPlace, n, reps));
      }
    }
    for (const n of sizes) phases[n] = oneThreadPhases(inPlace, n, n >= 1024 ? 5 : n >= 512 ? 15 : 50);
  } finally {
    setThreadPolicy('measure');
  }
  const table = (kind: string, setting: 'oneThread' | 'allThreads'): Rates =>
    Object.fromEntries(
      sizes.map((n) => {
        const g = median(samples[`${kind}/${setting}/${n}`]);
        return [n, { gflops: Math.round(g * 10) / 10, percentOfPeak: Math.round((1000 * g) / peakUsed[setting]) / 10 }];
      }),
    );
  const out: MatmulVsPeak = {
    peak,
    peakUsed,
    plain: { oneThread: table('plain', 'oneThread'), allThreads: table('plain', 'allThreads') },
    fma: fmaOk
      ? { oneThread: table('fma', 'oneThread'), allThreads: table('fma', 'allThreads') }
      : { skipped: 'no relaxed SIMD in this engine' },
    kernelInPlace: { kernel: inPlace.fma ? 'fma' : 'plain', oneThread: table('inPlace', 'oneThread') },
    oneThreadPhases: phases,
    note: `backend.matmul on raw Float32Arrays (the kernel without tensor overhead; each output given back to the backend for the next one, as tidy does in training); threads: 1 and ${threads} (every product split over all of them); median of ${rounds} round(s) alternating the kernels; the peak is the best of several runs; kernelInPlace: the one-thread kernel on operands already in its memory (no copies or packing); oneThreadPhases: each step of a one-thread product timed on its own (microseconds, medians)`,
  };
  if (fmaOk) {
    const n = 256;
    const a = rnd(n * n, 7);
    const b = rnd(n * n, 8);
    const p = configs[0].be.matmul(a, b, 1, 1, n, n, n, false, false);
    const f = configs[2]!.be.matmul(a, b, 1, 1, n, n, n, false, false);
    let differing = 0;
    let maxRel = 0;
    for (let i = 0; i < p.length; i++) {
      if (p[i] !== f[i]) differing++;
      maxRel = Math.max(maxRel, Math.abs(p[i] - f[i]) / Math.max(1e-30, Math.abs(p[i])));
    }
    out.fmaVsPlain = { outputs: p.length, differing, maxRelativeDifference: maxRel };
  }
  return out;
}
