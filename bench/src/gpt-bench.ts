// The GPT step time of bp and of its PyTorch twin on the same machine, in one run: bp trains the
// GPT of examples/src/gpt-names.ts for a number of steps, then PyTorch (src/gpt_twin.py --time)
// replays the same batches from the same initial weights with 1 and with 2 threads; `--rounds`
// times over, alternating, and each side's figure is its median (on a shared machine one run of
// either side can be a quarter off). The first steps of each run are left out of the timing
// (warmup: the JIT, bp's thread policy settling). Prints one JSON object; `pnpm bench` runs it.
//
//   pnpm --filter @bp/bench exec tsx --conditions=@bp/source src/gpt-bench.ts [--steps 105] [--warmup 25] [--rounds 3] [--python /usr/bin/python3]
import '@bp/autograd';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainGPT } from '@bp/gpt';
import { getBackend } from '@bp/tensor';
import { HYPER, MODEL, prepare, writeRun } from './gpt-setup.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const steps = Number(arg('steps', '105'));
const warmup = Number(arg('warmup', '25'));
const rounds = Number(arg('rounds', '3'));
const python = arg('python', '/usr/bin/python3');
if (!(Number.isInteger(steps) && Number.isInteger(warmup) && warmup >= 0 && steps > warmup)) {
  throw new Error(`--steps (${steps}) must be an integer above --warmup (${warmup})`);
}
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a positive integer, got ${rounds}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const round = (x: number) => Math.round(x * 100) / 100;

const dir = mkdtempSync(join(tmpdir(), 'bp-gpt-bench-'));
try {
  const bpRuns: number[] = [];
  const torchRuns: Record<string, number[]> = {};
  let torchVersion: string | null = null;
  let skipped: string | null = null;
  if (!existsSync(python)) skipped = `${python} not found (set BP_BENCH_PYTHON)`;
  const script = fileURLToPath(new URL('./gpt_twin.py', import.meta.url));
  let params = 0;
  for (let r = 0; r < rounds; r++) {
    // The same initial weights and batches every round (prepare seeds both).
    const { ds, gpt } = prepare(dir);
    params = gpt.numParameters();
    const offsets: number[][] = [];
    let t0 = performance.now();
    trainGPT(gpt, ds.train, null, {
      steps,
      ...HYPER,
      onStep: (s) => {
        offsets.push(s.offsets);
        if (s.step === warmup - 1) t0 = performance.now();
      },
    });
    bpRuns.push((performance.now() - t0) / (steps - warmup));
    writeRun(dir, ds, steps, offsets);
    for (const threads of [1, 2]) {
      if (skipped) break;
      const out = spawnSync(python, [script, dir, '--time', '--threads', String(threads), '--warmup', String(warmup)], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      if (out.status !== 0) {
        skipped = `the PyTorch twin failed: ${(out.stderr || out.error?.message || '').trim().split('\n').pop()}`;
        break;
      }
      const got = JSON.parse(out.stdout) as { torch: string; msPerStep: number };
      torchVersion = got.torch;
      (torchRuns[`threads${threads}`] ??= []).push(round(got.msPerStep));
    }
  }
  const bpMs = median(bpRuns);
  const torch: Record<string, number> = {};
  for (const [k, v] of Object.entries(torchRuns)) torch[k] = round(median(v));
  const best = skipped ? null : Math.min(...Object.values(torch));
  const bestThreads =
    best === null
      ? null
      : Number(
          Object.keys(torch)
            .find((k) => torch[k] === best)!
            .slice(7),
        );
  process.stdout.write(
    JSON.stringify({
      workload:
        `character-level GPT (${params} parameters: ${MODEL.nLayer} blocks, ${MODEL.nHead} heads, width ${MODEL.nEmbd}, ` +
        `context ${MODEL.blockSize}) on the names, batch ${HYPER.batchSize}: forward, backward, clipping, AdamW, schedule; ` +
        `${steps - warmup} steps timed after ${warmup}; medians of ${rounds} alternating rounds`,
      bp: { msPerStep: round(bpMs), rounds: bpRuns.map(round), backend: getBackend().name },
      pytorch: skipped
        ? { skipped }
        : { version: torchVersion, msPerStep: torch, rounds: torchRuns, best: { threads: bestThreads, msPerStep: best } },
      bpOverPytorchBest: best === null ? null : round(bpMs / best),
    }) + '\n',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
