import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../errors.js';
import { WasmRuntime, kernelModule } from './wasm-runtime.js';

const module = kernelModule();

describe.skipIf(module === null)("the kernels' memory past what it can address", () => {
  it('is a ShapeError saying how much was needed, not a RangeError from WebAssembly.Memory.grow', () => {
    const rt = new WasmRuntime(module!);
    // 2^31 floats: 8 GiB, twice what a 32-bit WebAssembly memory can address.
    expect(() => rt.heap(2 ** 31)).toThrow(ShapeError);
    expect(() => rt.heap(2 ** 31)).toThrow(
      /cpu backend: this op needs 8192 MiB of WebAssembly memory .* split the work into smaller batches/,
    );
    // The runtime still works afterwards.
    expect(rt.heap(1024).length).toBeGreaterThanOrEqual(1024);
  });
});
