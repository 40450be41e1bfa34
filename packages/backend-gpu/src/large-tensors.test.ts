import { ArgumentError, gather, getBackend, setBackend, tensor } from '@bp/tensor';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_KERNEL_CELLS, gpu } from './index.js';
import { NODE_MODES } from '../test/modes.js';

// Rows of 784, like an MNIST dataset; 21,500 rows is 16,856,000 values, just past 2^24,
// where float32 addresses alias neighbouring cells (row 21,399 and beyond came back
// shifted by one cell before gather was served on the host).
const ROWS = 21_500;
const COLS = 784;
const PICK = [0, 21_000, 21_399, 21_400, 21_499];

function dataset() {
  const x = new Float32Array(ROWS * COLS);
  for (let i = 0; i < x.length; i++) x[i] = i % 1009;
  return tensor(x, { shape: [ROWS, COLS] });
}

describe(`tensors over ${MAX_KERNEL_CELLS} values`, () => {
  const previous = getBackend();
  afterEach(async () => {
    await setBackend(previous);
  });

  for (const mode of NODE_MODES) {
    it(`${mode} mode: gather and narrow take exact rows`, async () => {
      const b = gpu({ mode });
      try {
        await setBackend(b);
        const t = dataset();
        expect(t.size).toBeGreaterThan(MAX_KERNEL_CELLS);
        const rows = gather(t, PICK, 0).dataSync();
        PICK.forEach((r, k) => {
          for (const c of [0, 1, 401, 783]) expect(rows[k * COLS + c]).toBe((r * COLS + c) % 1009);
        });
        const last = t.narrow(0, ROWS - 2, 2).dataSync();
        expect(last[COLS + 783]).toBe((ROWS * COLS - 1) % 1009);
      } finally {
        b.destroy();
      }
    });
  }

  it('webasm mode: other kernels refuse them with an error naming the op and size', async () => {
    const b = gpu({ mode: 'webasm' });
    try {
      await setBackend(b);
      const t = dataset();
      expect(() => t.sum(1)).toThrow(ArgumentError);
      expect(() => t.sum(1)).toThrow(/gpu reduce: a tensor of 16,856,000 values is over the 16,777,216/);
    } finally {
      b.destroy();
    }
  });
});
