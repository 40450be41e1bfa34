// Elementwise ops, bp against PyTorch on the same machine in one run: nanoseconds per value of exp,
// log, sigmoid, tanh, GELU, ReLU, sqrt, x + x and x * x on float32 tensors of 2^17 values (the size of
// the GPT's [32, 16, 256] activations, in a core's L2 cache) and 2^20 (past it), bp's CPU backend and
// PyTorch (src/elementwise_bench.py) with 1 and 2 threads, alternating for `--rounds` rounds; each
// figure is the median of the rounds, each round the best of three runs of `--reps` calls. Inputs are
// uniform in [-4, 4) (log and sqrt: their absolute value plus 0.5). Prints one JSON object with the
// ratios bp / PyTorch's faster setting per op and size; `pnpm bench` runs it.
//
//   pnpm --filter @bp/bench exec tsx --conditions=@bp/source src/elementwise-bench.ts [--rounds 3] [--reps 40] [--python /usr/bin/python3]
import '@bp/autograd';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tensor, getBackend, manualSeed, rand, tidy } from '@bp/tensor';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const rounds = Number(arg('rounds', '3'));
const reps = Number(arg('reps', '40'));
const python = arg('python', '/usr/bin/python3');
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`elementwise-bench: --rounds must be a positive integer, got ${rounds}`);
if (!(Number.isInteger(reps) && reps >= 1)) throw new Error(`elementwise-bench: --reps must be a positive integer, got ${reps}`);

const SIZES = [1 << 17, 1 << 20];
const OPS: Record<string, (x: Tensor) => Tensor> = {
  exp: (x) => x.exp(),
  log: (x) => x.log(),
  sigmoid: (x) => x.sigmoid(),
  tanh: (x) => x.tanh(),
  gelu: (x) => x.gelu(),
  relu: (x) => x.relu(),
  sqrt: (x) => x.sqrt(),
  add: (x) => x.add(x),
  mul: (x) => x.mul(x),
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const round = (x: number) => Math.round(x * 1000) / 1000;

/** bp's nanoseconds per value for every op and size: the best of three runs of `reps` calls, each in tidy. */
function bpRound(): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [op, f] of Object.entries(OPS)) {
    out[op] = {};
    for (const n of SIZES) {
      manualSeed(n);
      const u = rand([n]).mul(8).sub(4);
      const x = op === 'log' || op === 'sqrt' ? u.abs().add(0.5) : u;
      for (let i = 0; i < 5; i++) tidy(() => void f(x));
      let best = Infinity;
      for (let r = 0; r < 3; r++) {
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) tidy(() => void f(x));
        best = Math.min(best, (performance.now() - t0) / reps);
      }
      out[op][n] = round((best * 1e6) / n);
      x.dispose();
      u.dispose();
    }
  }
  return out;
}

const script = fileURLToPath(new URL('./elementwise_bench.py', import.meta.url));
let skipped: string | null = existsSync(python) ? null : `${python} not found (set BP_BENCH_PYTHON)`;
let torchVersion: string | null = null;
const bpRuns: Record<string, Record<string, number>>[] = [];
const torchRuns: Record<number, Record<string, Record<string, number>>[]> = { 1: [], 2: [] };
for (let r = 0; r < rounds; r++) {
  bpRuns.push(bpRound());
  for (const threads of [1, 2]) {
    if (skipped) break;
    const args = [
      script,
      '--threads',
      String(threads),
      '--sizes',
      SIZES.join(','),
      '--ops',
      Object.keys(OPS).join(','),
      '--reps',
      String(reps),
    ];
    const got = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (got.status !== 0) {
      skipped = `the PyTorch side failed: ${(got.stderr || got.error?.message || '').trim().split('\n').pop()}`;
      break;
    }
    const parsed = JSON.parse(got.stdout) as { torch: string; nsPerValue: Record<string, Record<string, number>> };
    torchVersion = parsed.torch;
    torchRuns[threads].push(parsed.nsPerValue);
  }
}

/** The median over rounds of each op and size. */
function medians(runs: Record<string, Record<string, number>>[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const op of Object.keys(OPS)) {
    out[op] = {};
    for (const n of SIZES) out[op][n] = median(runs.map((r) => r[op][n]));
  }
  return out;
}

const bp = medians(bpRuns);
const torch1 = skipped ? null : medians(torchRuns[1]);
const torch2 = skipped ? null : medians(torchRuns[2]);
const ratios: Record<string, Record<string, number>> = {};
if (torch1 && torch2)
  for (const op of Object.keys(OPS)) {
    ratios[op] = {};
    for (const n of SIZES) ratios[op][n] = round(bp[op][n] / Math.min(torch1[op][n], torch2[op][n]));
  }
process.stdout.write(
  JSON.stringify({
    workload: `elementwise ops on float32 tensors of ${SIZES.join(' and ')} values, nanoseconds per value (lower is better), best of 3 runs of ${reps} calls, medians of ${rounds} alternating rounds`,
    bp: { backend: getBackend().name, nsPerValue: bp },
    pytorch: skipped ? { skipped } : { version: torchVersion, threads1: torch1, threads2: torch2 },
    bpOverPytorchBest: skipped ? `skipped: ${skipped}` : ratios,
  }) + '\n',
);
