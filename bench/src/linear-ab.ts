/**
 * Before/after measurement of the fused linear kernel: the Keras MNIST MLP (`presets.kerasMnistMlp()`,
 * compile + fit) at batch 32 and 128 on the CPU backend with and without `fused.linear`, alternating
 * in one process (the order flips each round), `steps` steps per run extrapolated to an epoch; prints
 * the medians and every round as JSON. Usage (from bench/):
 *   npx tsx --conditions=@bp/source src/linear-ab.ts [rounds=5] [steps=400]
 */
import '@bp/autograd';
import { getBackend, setBackend, type Backend } from '@bp/tensor';
import { bpKerasMlpEpoch } from './bp-models.js';
import { median } from './workload.js';

const rounds = Number(process.argv[2] ?? 5);
const steps = Number(process.argv[3] ?? 400);
const fusedBackend = getBackend();
// Worker threads start in the background; give them a moment.
for (let i = 0; i < 100 && Number(fusedBackend.info?.().threads ?? 1) < 2; i++) await new Promise((r) => setTimeout(r, 20));
const { linear: _dropped, ...others } = fusedBackend.fused ?? {};
const composite: Backend = { ...fusedBackend, fused: others };
const times: Record<'fused' | 'composite', Record<number, number[]>> = { fused: {}, composite: {} };
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? (['composite', 'fused'] as const) : (['fused', 'composite'] as const);
  for (const name of order) {
    await setBackend(name === 'fused' ? fusedBackend : composite);
    for (const b of [32, 128]) {
      const t = await bpKerasMlpEpoch({ batchSize: b, samples: 60000, steps });
      (times[name][b] ??= []).push(Math.round(t.epochSeconds * 1000) / 1000);
    }
  }
}
const out: Record<string, unknown> = {
  machine: `${(await import('node:os')).cpus()[0]?.model ?? '?'}, ${fusedBackend.info?.().threads} threads`,
  steps,
};
for (const b of [32, 128]) {
  const [c, f] = [median(times.composite[b]), median(times.fused[b])];
  out[`batch${b}`] = {
    compositeEpochSeconds: c,
    fusedEpochSeconds: f,
    fusedOverComposite: Math.round((f / c) * 1000) / 1000,
    rounds: { composite: times.composite[b], fused: times.fused[b] },
  };
}
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
