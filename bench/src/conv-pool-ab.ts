/**
 * Before/after measurement of convolution, ReLU and pooling as one op: the examples' MNIST CNN
 * (`presets.mnistCnn()`, Adam, batch 64, as `pnpm bench` trains it) on the CPU backend with and
 * without `fused.conv2dReluPool` (without it, `Sequential` runs the convolution, then ReLU and
 * pooling as one op, as before the fused op), alternating in one process (the order flips each
 * round), `steps` steps per run extrapolated to an epoch; prints the medians and every round as
 * JSON. Usage (from bench/):
 *   npx tsx --conditions=@bp/source src/conv-pool-ab.ts [rounds=5] [steps=60]
 */
import '@bp/autograd';
import { cpus } from 'node:os';
import { getBackend, setBackend, type Backend } from '@bp/tensor';
import { bpCnnEpoch } from './bp-models.js';
import { median } from './workload.js';

const rounds = Number(process.argv[2] ?? 5);
const steps = Number(process.argv[3] ?? 60);
const fusedBackend = getBackend();
// Worker threads start in the background; give them a moment.
for (let i = 0; i < 100 && Number(fusedBackend.info?.().threads ?? 1) < 2; i++) await new Promise((r) => setTimeout(r, 20));
const { conv2dReluPool: _op, conv2dReluPoolBackward: _grad, ...others } = fusedBackend.fused ?? {};
const separate: Backend = { ...fusedBackend, fused: others };
const times: Record<'fused' | 'separate', number[]> = { fused: [], separate: [] };
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? (['separate', 'fused'] as const) : (['fused', 'separate'] as const);
  for (const name of order) {
    await setBackend(name === 'fused' ? fusedBackend : separate);
    const t = bpCnnEpoch({ batchSize: 64, samples: 60000, steps });
    times[name].push(Math.round(t.epochSeconds * 1000) / 1000);
  }
}
const [s, f] = [median(times.separate), median(times.fused)];
process.stdout.write(
  JSON.stringify(
    {
      machine: `${cpus()[0]?.model ?? '?'}, ${fusedBackend.info?.().threads} threads`,
      steps,
      separateEpochSeconds: s,
      fusedEpochSeconds: f,
      fusedOverSeparate: Math.round((f / s) * 1000) / 1000,
      rounds: times,
    },
    null,
    2,
  ) + '\n',
);
process.exit(0);
