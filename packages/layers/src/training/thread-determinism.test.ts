import '@bp/autograd';
import { crossEntropyLoss } from '@bp/losses';
import { Adam } from '@bp/optim';
import { type Backend, cpuBackend, getBackend, manualSeed, rand, randint, setBackend } from '@bp/tensor';
import { setThreadPolicy } from '@bp/tensor/internal';
import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { presets } from '../index.js';

// Same seed, same bits, whatever the thread count: whole training runs (forward, loss, backward,
// Adam) on the CPU backend with one thread and with two, every kernel above the size where the
// pool splits work split over both (the thread policy set to 'all'), compared bit for bit.

const before = getBackend();
afterAll(async () => {
  setThreadPolicy('measure');
  await setBackend(before);
});

/** A CPU backend with `threads` threads, once its workers are running. */
async function backendWith(threads: number): Promise<Backend> {
  const be = cpuBackend({ threads });
  for (let i = 0; i < 250 && Number(be.info?.().threads ?? 1) < threads; i++) await new Promise((r) => setTimeout(r, 20));
  return be;
}

/** Every parameter's bits after `steps` Adam steps of `model` on seeded random data. */
async function trainedBits(
  threads: number,
  model: () => ReturnType<typeof presets.mnistCnn>,
  batch: number,
  steps: number,
): Promise<{ bits: Uint32Array[]; threads: number }> {
  const be = await backendWith(threads);
  await setBackend(be);
  manualSeed(7);
  const m = model();
  const opt = new Adam(m.parameters(), { lr: 1e-3 });
  for (let s = 0; s < steps; s++) {
    const x = rand([batch, 1, 28, 28]);
    const y = randint(0, 10, [batch]);
    opt.zeroGrad();
    const loss = crossEntropyLoss(m.forward(x), y);
    loss.backward();
    opt.step();
  }
  const bits = m.parameters().map((p) => new Uint32Array(new Float32Array(p.dataSync()).buffer));
  return { bits, threads: Number(be.info?.().threads ?? 1) };
}

/** Where two runs' parameters first differ (parameter, element, both bit patterns), or null. */
function firstDifference(a: Uint32Array[], b: Uint32Array[]): string | null {
  if (a.length !== b.length) return `${a.length} parameters against ${b.length}`;
  for (let p = 0; p < a.length; p++) {
    for (let i = 0; i < a[p].length; i++) {
      if (a[p][i] !== b[p][i]) return `parameter ${p}, element ${i}: 0x${a[p][i].toString(16)} against 0x${b[p][i].toString(16)}`;
    }
  }
  return null;
}

// A machine with one core gets one thread whatever it asks for: nothing to compare there.
describe.skipIf(availableParallelism() < 2)('training on the CPU backend', () => {
  setThreadPolicy('all');

  it('gives an MLP the same bits on one thread and on two', async () => {
    const mlp = () => presets.kerasMnistMlp() as unknown as ReturnType<typeof presets.mnistCnn>;
    const one = await trainedBits(1, mlp, 128, 4);
    const two = await trainedBits(2, mlp, 128, 4);
    expect(two.threads).toBe(2);
    expect(firstDifference(one.bits, two.bits)).toBeNull();
  });

  it('gives a CNN the same bits on one thread and on two', async () => {
    const one = await trainedBits(1, () => presets.mnistCnn(), 32, 3);
    const two = await trainedBits(2, () => presets.mnistCnn(), 32, 3);
    expect(two.threads).toBe(2);
    expect(firstDifference(one.bits, two.bits)).toBeNull();
  });
});
