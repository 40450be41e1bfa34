import { afterEach, describe, expect, it } from 'vitest';
import { NotAvailableError, cpuBackend, getBackend, setBackend, tensor, type Backend, type TypedArray } from './index.js';

/**
 * The CPU kernels behind a backend that can only read asynchronously, as WebGPU:
 * every read waits a macrotask, as a device readback would.
 */
function asyncOnly(): Backend {
  const cpu = cpuBackend();
  return {
    ...cpu,
    name: 'async-test',
    syncRead: false,
    read() {
      throw new Error('read() must not be called on a backend with syncRead: false');
    },
    readAsync: (x, size, dtype) => new Promise((resolve) => setTimeout(() => resolve(cpu.read(x as TypedArray, size, dtype)), 1)),
  };
}

describe('reading on a backend that cannot read synchronously', () => {
  const before = getBackend();
  afterEach(async () => {
    await setBackend(before);
  });

  it('await t.data(), await t.item() and await t.array() work', async () => {
    await setBackend(asyncOnly());
    const t = tensor([
      [1, 2],
      [3, 4],
    ]);
    const s = t.sum();
    expect(Array.from(await t.mul(2).data())).toEqual([2, 4, 6, 8]);
    expect(await s.item()).toBe(10);
    expect(await t.array()).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('dataSync, toArray and item without await throw a NotAvailableError naming the awaited form', async () => {
    await setBackend(asyncOnly());
    const t = tensor([1.5]);
    expect(() => t.dataSync()).toThrow(NotAvailableError);
    expect(() => t.dataSync()).toThrow(/'async-test' backend cannot read values synchronously.*use await t\.data\(\)/);
    expect(() => t.toArray()).toThrow(/use await t\.array\(\)/);
    const pending = t.item();
    expect(() => pending + 1).toThrow(NotAvailableError);
    expect(() => `${pending}`).toThrow(/write `await t\.item\(\)`/);
    expect(() => pending > 1).toThrow(/item\(\) without await gives a pending value/);
    expect(() => JSON.stringify({ loss: pending })).toThrow(NotAvailableError);
    expect(await pending).toBe(1.5);
    // Printing never reads synchronously.
    expect(String(t)).toBe('Tensor(float32 [1])');
  });

  it('the CPU backend still reads synchronously: item() is a number', () => {
    const v = tensor([2, 3]).sum().item();
    expect(typeof v).toBe('number');
    expect(v).toBe(5);
    expect(tensor([1, 2]).toArray()).toEqual([1, 2]);
  });
});
