import type { BinaryOp, ReduceOp, UnaryOp } from '@bp/tensor';
import { UNARY_OPS } from '@bp/tensor/internal';
import { describe, expect, it } from 'vitest';
import { binaryKernel, unaryKernel, whereKernel } from './elementwise.js';
import { adamMaxKernel, crossEntropyBackwardKernel, crossEntropyKernel, keptRowsKernel } from './fused.js';
import { reduceKernel } from './reduce.js';

// Every op, so adding one to the unions without listing it here is a type error.
const BINARY: Record<BinaryOp, true> = {
  add: true,
  sub: true,
  mul: true,
  div: true,
  pow: true,
  maximum: true,
  minimum: true,
  eq: true,
  ne: true,
  gt: true,
  lt: true,
  ge: true,
  le: true,
};
const REDUCE: Record<ReduceOp, true> = { sum: true, max: true, min: true, prod: true, argmax: true, argmin: true };

/** `!=` (not `!==`, which gpu.js also emits as `!=`). */
const NOT_EQUAL = /!==?/;

// WebGPU may compile a float `a != b` as an ordered comparison, false when a side is NaN
// (SwiftShader does): the NaN tests would then miss NaN (see elementwise.ts). The browser test
// catches that on WebGPU; this keeps the form out of the sources in every run.
describe('kernel sources write not-equal as !(a == b)', () => {
  it('in the unary, binary and where kernels', () => {
    for (const op of Object.keys(UNARY_OPS) as UnaryOp[]) {
      const k = unaryKernel(op, 4);
      if (k) expect(k.source, `unary ${op}`).not.toMatch(NOT_EQUAL);
    }
    for (const op of Object.keys(BINARY) as BinaryOp[]) {
      for (const dtype of ['float32', 'int32'] as const) {
        expect(binaryKernel(op, [2, 3], [3], [2, 3], dtype).source, `binary ${op}`).not.toMatch(NOT_EQUAL);
        expect(binaryKernel(op, [4], [4], [4], dtype).source, `binary ${op}`).not.toMatch(NOT_EQUAL);
      }
    }
    expect(whereKernel([2, 1], [2, 3], [3], [2, 3]).source).not.toMatch(NOT_EQUAL);
    expect(whereKernel([4], [4], [4], [4]).source).not.toMatch(NOT_EQUAL);
  });

  it('in the reductions', () => {
    for (const op of Object.keys(REDUCE) as ReduceOp[]) {
      for (const [outer, red, inner] of [
        [2, 5, 1],
        [2, 5, 3],
        [1, 200, 1],
      ]) {
        expect(reduceKernel(op, outer, red, inner).source, `reduce ${op}`).not.toMatch(NOT_EQUAL);
      }
    }
  });

  it('in the fused kernels that compare values (AMSGrad maximum, cross-entropy labels)', () => {
    expect(adamMaxKernel(4, false).source).not.toMatch(NOT_EQUAL);
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      expect(crossEntropyKernel(3, 5, -100, reduction).source, reduction).not.toMatch(NOT_EQUAL);
      for (const inline of [true, false]) {
        expect(crossEntropyBackwardKernel(3, 5, -100, reduction, inline).source, reduction).not.toMatch(NOT_EQUAL);
      }
    }
    expect(keptRowsKernel(3, -100).source).not.toMatch(NOT_EQUAL);
  });
});
