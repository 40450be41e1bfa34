// Memory stays flat over epochs: after a full garbage collection, the live device tensors and
// the JS heap at the last epoch are within 10% of epoch 2. A few epochs here; 20 epochs on
// both backends, RSS included, with `node scripts/reliability/memory-flat.mjs`.
import { appendFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { growth, measureTraining } from '../test/memory-flat.js';

const EPOCHS = Number(process.env.BP_MEMORY_EPOCHS ?? 6);
const BACKENDS = (process.env.BP_MEMORY_BACKENDS ?? 'gpu').split(',') as ('cpu' | 'gpu')[];

describe('memory over a training run', () => {
  it.each(BACKENDS)(`%s backend: flat after ${EPOCHS} epochs`, async (backend) => {
    const samples = await measureTraining(backend, EPOCHS);
    const g = growth(samples);
    if (process.env.BP_MEMORY_REPORT)
      appendFileSync(process.env.BP_MEMORY_REPORT, JSON.stringify({ backend, epochs: EPOCHS, growth: g, samples }) + '\n');
    expect(samples).toHaveLength(EPOCHS);
    expect(samples[EPOCHS - 1].loss).toBeLessThan(samples[0].loss);
    if (g.liveTensors !== null) expect(g.liveTensors, JSON.stringify(samples.map((s) => s.liveTensors))).toBeLessThanOrEqual(0.1);
    expect(g.heap, JSON.stringify(samples.map((s) => s.heapMB.toFixed(1)))).toBeLessThanOrEqual(0.1);
    // RSS only in the long form: over a few epochs the allocator's warm-up dominates it.
    if (EPOCHS >= 20) expect(g.rss, JSON.stringify(samples.map((s) => s.rssMB.toFixed(1)))).toBeLessThanOrEqual(0.1);
  });
});
