// The long form of src/sync-loop.test.ts: 10,000 synchronous training steps and 10,000
// synchronous eval steps of a 2-64-64-3 MLP, then 1,000 steps of fit, on the CPU backend and
// on the GPU backend (gpu.js webasm in Node), sampling live storages and RSS every 500 steps.
// Prints JSON; exits 1 if the live storages grew, or RSS grew by more than 10% from a quarter
// of the way in (after warm-up) to the end.
//
//   node bench/bench.mjs bench/sync-loop.ts [--steps 10000] [--backends cpu,gpu]
import { syncLoop, type LoopSample } from '../test/sync-loop.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const steps = Number(flag('steps', '10000'));
const backends = flag('backends', 'cpu,gpu').split(',') as ('cpu' | 'gpu')[];
const every = Math.max(1, Math.floor(steps / 20));

/** Growth from a quarter of the way in (after the allocator and the optimizer have warmed up) to the end. */
function growth(samples: LoopSample[]) {
  const a = samples[Math.floor(samples.length / 4)];
  const b = samples[samples.length - 1];
  return { live: b.live - a.live, rss: b.rssMB / a.rssMB - 1 };
}

const results = [];
let ok = true;
for (const backend of backends) {
  const t0 = performance.now();
  const r = await syncLoop(backend, steps, steps, Math.min(steps, 1000), every);
  const train = growth(r.train);
  const evalG = growth(r.eval);
  const fit = growth(r.fit.filter((s) => s.step > 0));
  const pass = train.live === 0 && evalG.live === 0 && fit.live === 0 && train.rss <= 0.1 && evalG.rss <= 0.1;
  ok &&= pass;
  results.push({
    backend: r.backend,
    steps,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    pass,
    growth: { train, eval: evalG, fit },
    liveStorages: { train: r.train.map((s) => s.live), eval: r.eval.map((s) => s.live), fit: r.fit.map((s) => s.live) },
    rssMB: { train: r.train.map((s) => Math.round(s.rssMB)), eval: r.eval.map((s) => Math.round(s.rssMB)) },
    loss: { first: r.lossFirst, last: r.lossLast },
  });
}
console.log(JSON.stringify({ ok, results }, null, 2));
process.exitCode = ok ? 0 : 1;
