// detectAnomaly reads every result as it is made: on a backend that reads only asynchronously
// (WebGPU) it cannot, and says so instead of failing inside the first read.
import { NotAvailableError, cpuBackend, getBackend, log, setBackend, tensor, type Backend, type TypedArray } from '@bp/tensor';
import { afterEach, describe, expect, it } from 'vitest';
import { detectAnomaly } from './index.js';

function asyncOnly(): Backend {
  const cpu = cpuBackend();
  return {
    ...cpu,
    name: 'async-test',
    syncRead: false,
    valueChecks: false,
    read() {
      throw new Error('read() must not be called on a backend with syncRead: false');
    },
    readAsync: (x, size, dtype) => Promise.resolve(cpu.read(x as TypedArray, size, dtype)),
  };
}

describe('detectAnomaly on a backend that reads only asynchronously', () => {
  const before = getBackend();
  afterEach(async () => {
    await setBackend(before);
  });

  it('throws a NotAvailableError naming the backend and what to do, before running fn', async () => {
    await setBackend(asyncOnly());
    let ran = false;
    const call = () =>
      detectAnomaly(() => {
        ran = true;
        return log(tensor([0]));
      });
    expect(call).toThrow(NotAvailableError);
    expect(call).toThrow(/^detectAnomaly: the 'async-test' backend reads values only asynchronously.*run it on a synchronous backend/);
    expect(ran).toBe(false);
  });
});
