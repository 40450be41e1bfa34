/**
 * Registers the conformance cases as vitest tests: one `describe` per backend,
 * one per group, one `it` per case. A separate entry point, so a browser
 * bundle of the cases never pulls in vitest.
 *
 * @example
 * // packages/backend-gpu/src/conformance.test.ts
 * import { setBackend } from '@bp/tensor';
 * import { runConformanceSuite } from '@bp/conformance/vitest';
 * import { gpu } from './index.js';
 * runConformanceSuite({ name: 'gpu', setup: async () => { await setBackend(gpu()); } });
 */
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import { getBackend, getDebugChecks, isGradEnabled, setDebugChecks, type Backend, type DebugChecks } from '@bp/tensor';
import { readsSync } from './assert.js';
import { conformanceCases, settleChecks, type ConformanceOptions } from './index.js';

export type { ConformanceOptions } from './index.js';

/** Registers every conformance case against the backend that `opts.setup` selects. */
export function runConformanceSuite(opts: ConformanceOptions): void {
  const cases = conformanceCases({ tolerance: opts.tolerance, quick: opts.quick });
  const groups = new Map<string, typeof cases>();
  for (const c of cases) {
    const list = groups.get(c.group) ?? [];
    list.push(c);
    groups.set(c.group, list);
  }
  describe(`conformance: ${opts.name}`, () => {
    let backend: Backend | null = null;
    let checks: DebugChecks = 'auto';
    beforeAll(async () => {
      await opts.setup?.();
      backend = getBackend();
      // The bad-input cases expect every value check (label and index ranges), which GPU
      // backends skip by default to avoid reading back inside a training step. A value check
      // reads synchronously, so on a backend that reads only asynchronously they stay off and
      // the cases that need them skip themselves (`needsSyncRead`).
      checks = getDebugChecks();
      setDebugChecks(readsSync());
    });
    afterAll(async () => {
      setDebugChecks(checks);
      await opts.teardown?.();
    });
    // Cases must leave global state as they found it, or later cases would test something else.
    afterEach(() => {
      if (getBackend() !== backend) {
        throw new Error(`a case switched the backend from '${backend?.name}' to '${getBackend().name}'`);
      }
      if (!isGradEnabled()) throw new Error('a case left gradient recording switched off');
    });
    for (const [name, list] of groups) {
      describe(name, () => {
        for (const c of list) {
          const body = async (ctx: { skip: (note?: string) => never }) => {
            if (c.needsSyncRead && !readsSync()) ctx.skip(c.needsSyncRead);
            try {
              await c.run();
            } finally {
              // Settled even when the case threw, so no check leaks into the next case.
              await settleChecks();
            }
          };
          if (opts.knownGaps?.has(`${name} > ${c.name}`)) it.fails(c.name, body);
          else it(c.name, body);
        }
      });
    }
  });
}
