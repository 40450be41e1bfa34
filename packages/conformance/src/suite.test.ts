import { describe, expect, it } from 'vitest';
import * as autograd from '@bp/autograd';
import * as bp from '@bp/tensor';
import { cpuBackend, setBackend, type Backend } from '@bp/tensor';
import { conformanceCases, settleChecks, type ConformanceCase } from './index.js';
import { runConformanceSuite } from './vitest.js';

const cases = conformanceCases();
const text = (c: ConformanceCase) => `${c.group} ${c.name}`;
const mentions = (c: ConformanceCase, word: string) => new RegExp(`(^|[^A-Za-z0-9])${word}([^A-Za-z0-9]|$)`).test(text(c));

/** Exports of @bp/tensor that are not ops: the backend registry, autograd seams, errors, shape helpers. */
const notOps = new Set([
  'Tensor',
  'isTensor',
  'BpError',
  'ShapeError',
  'AxisError',
  'DTypeError',
  'ArgumentError',
  'IndexError',
  'FormatError',
  'NotAvailableError',
  'fmtShape',
  'random',
  'randomNormal',
  'randomInt',
  'randomPermutation',
  'getRandomState',
  'setRandomState',
  'manualSeed',
  'getBackend',
  'listBackends',
  'registerBackend',
  'cpuBackend',
  'installAutograd',
  'autogradHooks',
  'isGradEnabled',
  'setGradEnabled',
  'setOpObserver',
  'record',
  'broadcastShapes',
  'sizeOf',
  'normAxis',
  'normAxes',
  'hasFusedAdam',
  'tidy',
  'keep',
  'setDebugChecks',
  'getDebugChecks',
  'valueChecksOn',
]);

describe('the case list', () => {
  it('has unique names within each group and every group', () => {
    const seen = new Set<string>();
    for (const c of cases) {
      expect(seen.has(text(c)), `duplicate case ${text(c)}`).toBe(false);
      seen.add(text(c));
    }
    expect([...new Set(cases.map((c) => c.group))]).toEqual([
      'creation',
      'elementwise',
      'reduce',
      'nn',
      'matmul',
      'movement',
      'window',
      'autograd',
      'seed',
      'errors',
      'torch',
    ]);
  });

  it('covers every op exported by @bp/tensor', () => {
    const ops = Object.entries(bp)
      .filter(([name, v]) => typeof v === 'function' && !notOps.has(name))
      .map(([n]) => n);
    expect(ops.length).toBeGreaterThan(70);
    const missing = ops.filter((op) => !cases.some((c) => mentions(c, op)));
    expect(missing).toEqual([]);
  });

  it('has bad-input cases for every op', () => {
    const ops = Object.entries(bp)
      .filter(([name, v]) => typeof v === 'function' && !notOps.has(name))
      .map(([n]) => n);
    // Ops whose every input is valid by construction or that only forward to a checked op.
    const total = new Set(['scalar', 'zerosLike', 'onesLike', 'rand', 'matmulT', 'square', 'relu', 'sign', 'step', 'clone']);
    const errorCases = cases.filter((c) => c.group === 'errors');
    const missing = ops.filter((op) => !total.has(op) && !errorCases.some((c) => mentions(c, op)));
    expect(missing).toEqual([]);
  });

  it('gradchecks every op that has a gradient rule', () => {
    // 'cast' is only recorded for float32 -> int32, whose integer output carries no gradient.
    const rules = autograd.listGradients().filter((op) => op !== 'cast');
    const gradchecked = cases.filter((c) => /gradcheck/.test(c.name));
    const missing = rules.filter((op) => !gradchecked.some((c) => mentions(c, op)));
    expect(missing).toEqual([]);
  });

  it('covers every function exported by @bp/autograd', () => {
    const helpers = new Set(['registerGradient', 'listGradients', 'sumToShape']);
    const fns = Object.entries(autograd).filter(([n, v]) => typeof v === 'function' && !helpers.has(n) && !/Error$/.test(n));
    const missing = fns.map(([n]) => n).filter((n) => !cases.some((c) => mentions(c, n) || c.run.toString().includes(`${n}(`)));
    expect(missing).toEqual([]);
  });

  it('builds the list without creating tensors, so the runner can pick the backend first', () => {
    let made = 0;
    const cpu = cpuBackend();
    const probe: Backend = {
      ...cpu,
      name: 'creation-probe',
      upload: (v, d) => (made++, cpu.upload(v, d)),
      fill: (n, v, d) => (made++, cpu.fill(n, v, d)),
    };
    return setBackend(probe).then(async () => {
      try {
        conformanceCases({ quick: true });
        conformanceCases();
        expect(made).toBe(0);
      } finally {
        await setBackend('cpu');
      }
    });
  });
});

/**
 * A suite that cannot fail proves nothing: run it against backends with one
 * deliberately wrong kernel each and check that the cases meant to catch
 * the fault do.
 */
describe('the cases catch broken backends', () => {
  type Mutation = (b: Backend) => Partial<Backend>;
  const mutants: [string, Mutation, string[]][] = [
    [
      'mul off by 0.1%',
      (b) => ({
        binary: (op, a, as, ad, x, xs, xd, os, od) => {
          const out = b.binary(op, a, as, ad, x, xs, xd, os, od) as Float32Array;
          if (op === 'mul' && od === 'float32') for (let i = 0; i < out.length; i++) out[i] *= 1.001;
          return out;
        },
      }),
      ['elementwise', 'seed'],
    ],
    [
      'sum drops the last element of each reduction',
      (b) => ({
        reduce: (op, x, shape, axes, dtype) => {
          if (op !== 'sum') return b.reduce(op, x, shape, axes, dtype);
          const last = axes[axes.length - 1];
          const trimmed = shape.map((d, i) => (i === last ? Math.max(d - 1, 0) : d));
          const begin = shape.map(() => 0);
          return b.reduce(op, b.slice(x, shape, begin, trimmed, dtype), trimmed, axes, dtype);
        },
      }),
      ['reduce', 'nn'],
    ],
    [
      'matmul ignores transB',
      (b) => ({
        matmul: (a, x, ba, bb, m, k, n, tA, _tB) => b.matmul(a, x, ba, bb, m, k, n, tA, false),
      }),
      ['matmul', 'torch'],
    ],
    [
      'col2im drops overlaps',
      (b) => ({
        col2im: (cols, win) => b.col2im(cols, { ...win, kw: 1, kh: 1 }) as Float32Array,
      }),
      ['window'],
    ],
    [
      'gather reads one row late',
      (b) => ({
        gather: (x, shape, idx, n, axis, dtype) => {
          const v = (b.read(idx, n, 'int32') as Int32Array).map((i) => Math.min(i + 1, shape[axis] - 1));
          return b.gather(x, shape, b.upload(v, 'int32'), n, axis, dtype);
        },
      }),
      ['movement', 'torch'],
    ],
    ['transpose is a no-op', () => ({ transpose: (x) => x }), ['movement', 'matmul']],
  ];

  for (const [label, mutate, groups] of mutants) {
    it(`${label}: some ${groups.join(' and ')} cases fail`, async () => {
      const base = cpuBackend();
      const broken: Backend = { ...base, ...mutate(base), name: `broken: ${label}` };
      await expectSomeFail(broken, label, groups);
    });
    // The same mutant behind asynchronous reads: the deferred checks must notice it too.
    it(`${label}, read asynchronously: some ${groups.join(' and ')} cases fail`, async () => {
      const base = cpuBackend();
      await expectSomeFail(asyncReads({ ...base, ...mutate(base) }), label, groups);
    });
  }

  async function expectSomeFail(broken: Backend, label: string, groups: string[]): Promise<void> {
    {
      await setBackend(broken);
      try {
        for (const g of groups) {
          let failed = 0;
          for (const c of cases.filter((k) => k.group === g)) {
            try {
              await c.run();
              await settleChecks();
            } catch {
              failed++;
            }
          }
          expect(failed, `no ${g} case noticed '${label}'`).toBeGreaterThan(0);
        }
      } finally {
        await setBackend('cpu');
      }
    }
  }
});

/**
 * `base` as a backend that reads only asynchronously, as WebGPU does: `read` throws,
 * `readAsync` takes the values when called (queue order) and resolves on a later turn.
 */
function asyncReads(base: Backend): Backend {
  return {
    ...base,
    name: `${base.name} (asynchronous reads)`,
    syncRead: false,
    read() {
      throw new bp.NotAvailableError('cpu-async', 'this backend reads values only asynchronously: use await t.data()');
    },
    async readAsync(x, size, dtype) {
      const v = base.read(x, size, dtype).slice();
      await new Promise((r) => setTimeout(r, 0));
      return v;
    },
  };
}

// The asynchronous conformance mode: every case, with every read through `await t.data()`.
runConformanceSuite({
  name: 'cpu with asynchronous reads only',
  setup: async () => {
    await setBackend(asyncReads(cpuBackend()));
  },
  teardown: async () => {
    await setBackend('cpu');
  },
});

// The quick variant (for slow backends) must pass on the CPU too.
runConformanceSuite({
  name: 'cpu (quick)',
  quick: true,
  setup: async () => {
    await setBackend('cpu');
  },
});
