import '@bp/autograd';
import { tensor, type Tensor } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import refs from './__fixtures__/torch-refs.json' with { type: 'json' };
import { LOSSES } from './registry.js';
import type { Reduction } from './reduction.js';

interface Case {
  name: string;
  loss: string;
  opts: Record<string, unknown>;
  input: { shape: number[]; values: number[] };
  target: { shape: number[]; dtype: 'int32' | 'float32'; values: number[] };
  results: Record<Reduction, { shape: number[]; value: number[]; grad: number[] | null }>;
}

const RTOL = 1e-4;
const ATOL = 1e-6;

function expectClose(actual: ArrayLike<number>, expected: number[], what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Math.abs(a - e) <= ATOL + RTOL * Math.abs(e);
    if (!ok) expect.fail(`${what}[${i}]: got ${a}, PyTorch ${e}`);
  }
}

function optsFor(c: Case): Record<string, unknown> {
  const o: Record<string, unknown> = { ...c.opts };
  if (Array.isArray(o.posWeight)) o.posWeight = tensor(o.posWeight as number[]);
  if (Array.isArray(o.weight)) o.weight = tensor(o.weight as number[]);
  return o;
}

describe('losses match PyTorch (values and input gradients)', () => {
  for (const c of (refs as { cases: Case[] }).cases) {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      it(`${c.name} (${reduction})`, () => {
        const x = tensor(c.input.values, { shape: c.input.shape, requiresGrad: true });
        const y = tensor(c.target.values, { shape: c.target.shape, dtype: c.target.dtype });
        const fn = LOSSES[c.loss] as (a: Tensor, b: Tensor, o: object) => Tensor;
        // klDivLoss' 'batchmean' case stores that reduction for every entry.
        const { klReduction, ...o } = optsFor(c);
        const loss = fn(x, y, { ...o, reduction: klReduction ?? reduction });
        const ref = c.results[reduction];
        expect(loss.shape).toEqual(ref.shape);
        expectClose(loss.dataSync(), ref.value, `${c.name} value`);
        if (ref.grad === null) return;
        loss.sum().backward();
        expectClose(x.grad!.dataSync(), ref.grad, `${c.name} grad`);
      });
    }
  }
});
