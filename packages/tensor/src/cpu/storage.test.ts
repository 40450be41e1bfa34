import { afterEach, describe, expect, it } from 'vitest';
import type { BinaryOp } from '../backend/backend.js';
import { UNARY_OPS, type UnaryOp } from '../backend/unary-ops.js';
import type { TypedArray } from '../dtype.js';
import { cpuBackend, getBackend, setBackend, tensor, tidy, zeros } from '../index.js';
import { RECYCLE_MIN, adopt, newArray, newF32, recycle, recycledBytes, resetRecycling } from './storage.js';

afterEach(() => resetRecycling());

describe('recycled CPU storage', () => {
  it('hands a storage a tensor gave up to the next output of its length and dtype, zeroed', () => {
    resetRecycling();
    const a = newF32(RECYCLE_MIN);
    adopt(a);
    a.fill(7);
    recycle(a);
    expect(recycledBytes()).toBe(4 * RECYCLE_MIN);
    // Another dtype or length does not take it.
    expect(newArray('int32', RECYCLE_MIN)).not.toBe(a);
    expect(newF32(RECYCLE_MIN + 4)).not.toBe(a);
    const b = newF32(RECYCLE_MIN);
    expect(b).toBe(a);
    expect(b.every((v) => v === 0)).toBe(true);
    expect(recycledBytes()).toBe(0);
  });

  it('never recycles an array shared by two storages, one seen in part, or one it did not allocate', () => {
    resetRecycling();
    // A view of another storage's memory (a slice): the memory is never recycled, whichever goes first.
    const parent = newF32(2 * RECYCLE_MIN);
    adopt(parent);
    adopt(parent.subarray(RECYCLE_MIN));
    recycle(parent);
    expect(recycledBytes()).toBe(0);
    // The same array adopted twice (a kernel that returned its input).
    const same = newF32(RECYCLE_MIN);
    adopt(same);
    adopt(same);
    recycle(same);
    expect(recycledBytes()).toBe(0);
    // A whole-length view of a buffer the first storage holds.
    const whole = newF32(RECYCLE_MIN);
    adopt(whole);
    adopt(new Float32Array(whole.buffer));
    recycle(whole);
    expect(recycledBytes()).toBe(0);
    // The user's array, and arrays below RECYCLE_MIN.
    const users = new Float32Array(RECYCLE_MIN);
    adopt(users);
    recycle(users);
    const small = newF32(RECYCLE_MIN - 1);
    adopt(small);
    recycle(small);
    // An array never adopted (a kernel's scratch) and one given back twice.
    const scratch = newF32(RECYCLE_MIN);
    recycle(scratch);
    expect(recycledBytes()).toBe(0);
    const twice = newF32(RECYCLE_MIN);
    adopt(twice);
    recycle(twice);
    recycle(twice);
    expect(recycledBytes()).toBe(4 * RECYCLE_MIN);
    expect(newF32(RECYCLE_MIN)).toBe(twice);
    expect(newF32(RECYCLE_MIN)).not.toBe(twice);
  });

  it('writes every element of each output it does not zero: a recycled array filled with NaN never shows', () => {
    // Each kernel runs twice; between the runs its output goes back to the free lists, and the
    // second run takes it back filled with NaN. Both runs must give the same bits.
    resetRecycling(true);
    const be = cpuBackend({ threads: 1 });
    const fused = be.fused!;
    const rows = 64;
    const cols = 40;
    const n = rows * cols;
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3);
    const y = Float32Array.from({ length: n }, (_, i) => Math.cos(i) + 1.5);
    const ints = Int32Array.from({ length: n }, (_, i) => (i % 17) - 8);
    const row = Float32Array.from({ length: cols }, (_, i) => i / 7 - 2);
    const mask = Float32Array.from({ length: n }, (_, i) => i % 3);
    const w = Float32Array.from({ length: cols * cols }, (_, i) => Math.sin(i / 3));
    const twice = (name: string, run: () => TypedArray | TypedArray[]): void => {
      const list = (v: TypedArray | TypedArray[]): TypedArray[] => (Array.isArray(v) ? v : [v]);
      const first = list(run());
      const bits = first.map((a) => a.slice());
      for (const a of first) adopt(a);
      for (const a of first) recycle(a);
      const second = list(run());
      // Every output long enough took a recycled array back (outputs of one length may trade places).
      expect([name, second.every((a) => a.length < RECYCLE_MIN || first.includes(a))]).toEqual([name, true]);
      second.forEach((out, j) => {
        let bad = -1;
        for (let i = 0; i < bits[j].length && bad < 0; i++) if (!Object.is(bits[j][i], out[i])) bad = i;
        expect([name, j, bad]).toEqual([name, j, -1]);
      });
    };
    for (const op of Object.keys(UNARY_OPS) as UnaryOp[]) {
      twice(`unary ${op}`, () => be.unary(op, x, n, 'float32') as TypedArray);
      twice(`unary ${op} int32`, () => be.unary(op, ints, n, 'int32') as TypedArray);
    }
    const ops: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'gt', 'lt', 'ge', 'le'];
    for (const op of ops) {
      twice(
        `binary ${op}`,
        () => be.binary(op, x, [rows, cols], 'float32', y, [rows, cols], 'float32', [rows, cols], 'float32') as TypedArray,
      );
      twice(
        `binary ${op} row`,
        () => be.binary(op, x, [rows, cols], 'float32', row, [cols], 'float32', [rows, cols], 'float32') as TypedArray,
      );
      twice(`binary ${op} int32`, () => be.binary(op, ints, [n], 'int32', ints, [n], 'int32', [n], 'int32') as TypedArray);
    }
    twice('where', () => be.where(mask, [rows, cols], x, [rows, cols], row, [cols], [rows, cols], 'float32') as TypedArray);
    twice('matmul', () => be.matmul(x, w, 1, 1, rows, cols, cols, false, false) as TypedArray);
    twice('matmul batch', () => be.matmul(x, y, 2, 2, 32, 40, 32, false, true) as TypedArray);
    twice('transpose', () => be.transpose(x, [rows, cols], [1, 0], 'float32') as TypedArray);
    twice('transpose swap', () => be.transpose(x, [4, 8, 2, 40], [0, 2, 1, 3], 'float32') as TypedArray);
    twice('transpose 3-d', () => be.transpose(ints, [4, 16, 40], [2, 0, 1], 'int32') as TypedArray);
    twice('softmax', () => fused.softmax!(x, rows, cols) as TypedArray);
    twice('logSoftmax', () => fused.logSoftmax!(x, rows, cols) as TypedArray);
    twice('linear', () => fused.linear!(x, w, row, rows, cols, cols, true) as TypedArray);
    twice('reluBackward', () => fused.reluBackward!(y, x, n) as TypedArray);
    twice('gelu', () => fused.geluForward!(x, n) as TypedArray[]);
    const grad = fused.geluForward!(x, n)[1];
    twice('geluBackward', () => fused.geluBackward!(y, grad, n) as TypedArray);
    // Statistics of 1024 rows, so that they are recycled too.
    twice('layerNorm', () => fused.layerNorm!(x, row, row, rows, cols, 1e-5) as TypedArray[]);
    twice('layerNorm rows', () => fused.layerNorm!(x.subarray(0, 1024 * 2), null, null, 1024, 2, 1e-5) as TypedArray[]);
    const rowIdx = Int32Array.from({ length: 48 }, (_, i) => (i * 7) % rows);
    twice('gather rows', () => be.gather(x, [rows, cols], rowIdx, 48, 0, 'float32') as TypedArray);
    twice(
      'gather int32',
      () =>
        be.gather(
          ints,
          [n],
          Int32Array.from({ length: 2000 }, (_, i) => (i * 13) % n),
          2000,
          0,
          'int32',
        ) as TypedArray,
    );
    twice('slice', () => be.slice(x, [rows, cols], [3, 5], [40, 30], 'float32') as TypedArray);
    twice(
      'concat',
      () =>
        be.concat(
          [x, y],
          [
            [rows, cols],
            [rows, cols],
          ],
          1,
          'float32',
        ) as TypedArray,
    );
    twice('upload', () => be.upload(x, 'float32', false) as TypedArray);
    twice('fill', () => be.fill(n, 2.5, 'float32') as TypedArray);
    twice('cast', () => be.cast(x, n, 'float32', 'int32') as TypedArray);
    // Pooling and the convolutions on 16 images of 3 x 12 x 12 (each output 1,024 values or more).
    const img = Float32Array.from({ length: 16 * 3 * 144 }, (_, i) => Math.sin(i / 5) * 2);
    const pool = { n: 48, c: 1, h: 12, w: 12, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, outH: 6, outW: 6 };
    twice('maxPool2d', () => fused.maxPool2d!(img, pool) as TypedArray[]);
    twice(
      'maxPool2d 3x3',
      () => fused.maxPool2d!(img, { ...pool, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, outH: 12, outW: 12 }) as TypedArray[],
    );
    const win = { n: 16, c: 3, h: 12, w: 12, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, outH: 12, outW: 12 };
    const kw = Float32Array.from({ length: 4 * 27 }, (_, i) => Math.cos(i / 3) / 4);
    const kb = Float32Array.from({ length: 4 }, (_, i) => i / 10 - 0.1);
    twice('conv2d', () => fused.conv2d!(img, kw, kb, win, 4) as TypedArray);
    twice('conv2dReluPool', () => fused.conv2dReluPool!(img, kw, kb, win, 4) as TypedArray[]);
    const dyConv = Float32Array.from({ length: 16 * 4 * 144 }, (_, i) => Math.sin(i / 9));
    twice('conv2dBackward dx', () => [fused.conv2dBackward!(dyConv, img, kw, win, 4, [true, false, false])[0]!] as TypedArray[]);
    const [pv, pi] = fused.conv2dReluPool!(img, kw, kb, win, 4) as [Float32Array, Int32Array];
    const dyPool = Float32Array.from({ length: pv.length }, (_, i) => Math.cos(i / 4));
    twice(
      'conv2dReluPoolBackward dx',
      () => [fused.conv2dReluPoolBackward!(dyPool, pv, pi, img, kw, win, 4, [true, false, false])[0]!] as TypedArray[],
    );
  });

  describe('through tensors', () => {
    const before = getBackend();
    afterEach(async () => {
      await setBackend(before);
    });

    it('reuses the memory of disposed tensors and keeps every live value intact', async () => {
      await setBackend(cpuBackend({ threads: 1 }));
      const n = 4 * RECYCLE_MIN;
      const x = zeros([n]).add(1);
      // A slice viewing x's memory: disposing x must not hand that memory to anything else.
      const head = x.slice([0], [n / 2]);
      const values = x.mul(3);
      const pending = values.data();
      x.dispose();
      values.dispose();
      // New outputs of the same length come from the free lists, zeroed before the kernel writes.
      const fresh = tidy(() => zeros([n]).add(2).mul(5));
      expect(Array.from(await pending).every((v) => v === 3)).toBe(true);
      expect(head.toArray()).toEqual(Array(n / 2).fill(1));
      expect(fresh.toArray()).toEqual(Array(n).fill(10));
      // The user's array, adopted without a copy, is never taken.
      const mine = new Float32Array(n).fill(4);
      const t = tensor(mine, { copy: false });
      t.dispose();
      const other = zeros([n]).add(9);
      expect(mine.every((v) => v === 4)).toBe(true);
      expect(other.toArray()).toEqual(Array(n).fill(9));
    });

    it('recycles the temporaries of a step run in tidy, so the next step takes them back', async () => {
      await setBackend(cpuBackend({ threads: 1 }));
      resetRecycling();
      const grid = (rows: number, cols: number, f: (i: number) => number): number[][] =>
        Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => f(r * cols + c)));
      const w = tensor(grid(64, 64, Math.sin));
      const x = tensor(grid(32, 64, Math.cos));
      const step = (): number[] => tidy(() => x.matmul(w).relu().square().mul(0.5).sum(1).toArray() as number[]);
      const first = step();
      const held = recycledBytes();
      expect(held).toBeGreaterThan(0);
      const again = step();
      expect(again).toEqual(first);
      expect(recycledBytes()).toBe(held);
    });
  });
});
