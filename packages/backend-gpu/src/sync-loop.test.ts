// Deterministic memory without garbage collection: live storages stay flat over a synchronous
// loop of training steps and one of eval steps, and over fit and evaluate, on the CPU backend
// (counting wrapper) and the GPU backend (its storage tracker). The long form, 10,000 steps
// each with RSS: `node scripts/reliability/sync-loop.mjs`.
import { describe, expect, it } from 'vitest';
import { syncLoop } from '../test/sync-loop.js';

const STEPS = { cpu: 500, gpu: 500 };

describe('live storages over synchronous loops', () => {
  it.each(['cpu', 'gpu'] as const)(
    '%s backend: flat over training, eval, fit and evaluate',
    async (backend) => {
      const n = STEPS[backend];
      const r = await syncLoop(backend, n, n, 60, 10);
      const counts = (s: { live: number }[]) => JSON.stringify(s.map((v) => v.live));
      // After the first steps (optimizer state created), no sample holds more than the one before:
      // nothing accumulates. (A count may drop when the garbage collector frees a storage left
      // over from before the loop, which the GPU backend's tracker also counts.)
      const neverGrows = (xs: { live: number }[]) => xs.every((v, i) => i === 0 || v.live <= xs[i - 1].live);
      const train = r.train.slice(1);
      expect(neverGrows(train), counts(r.train)).toBe(true);
      expect(neverGrows(r.eval), counts(r.eval)).toBe(true);
      expect(r.eval[0].live, 'eval keeps nothing').toBeLessThanOrEqual(train[0].live);
      const fitSamples = r.fit.filter((s) => s.step > 0).slice(1);
      expect(neverGrows(fitSamples), counts(r.fit)).toBe(true);
      // evaluate() leaves no storage behind.
      expect(r.fit[r.fit.length - 1].live).toBe(0);
      expect(r.lossLast).toBeLessThan(r.lossFirst);
    },
    120_000,
  );
});
