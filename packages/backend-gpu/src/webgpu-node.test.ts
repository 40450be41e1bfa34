/**
 * What running on Dawn (the `webgpu` package, Node's WebGPU) on a real GPU taught: Dawn 0.2.x
 * refuses `device.onuncapturederror`, NVIDIA's driver folds `inf - inf` to 0, and `info()` must
 * name the adapter. Dawn itself does not load on every machine that runs these tests, so they
 * check the pieces with stand-ins and the generated kernel sources.
 */
import { describe, expect, it } from 'vitest';
import type { UnaryOp } from '@bp/tensor';
import { UNARY_OPS } from '@bp/tensor/internal';
import { binaryKernel, SPECIAL_VALUES, unaryKernel } from './kernels/elementwise.js';
import { describeAdapter, keepErrorHandlers } from './modes.js';

describe('device.onuncapturederror on Dawn', () => {
  /** A device class whose native setter refuses every value, as Dawn 0.2.9's does. */
  function refusingDevice() {
    class Device {}
    Object.defineProperty(Device.prototype, 'onuncapturederror', {
      configurable: true,
      enumerable: true,
      get: () => null,
      set: () => {
        throw new TypeError('object is not of the correct interface type');
      },
    });
    return Device;
  }

  it('keeps the handler the native setter refuses, per device', () => {
    const Device = refusingDevice();
    const d = new Device() as { onuncapturederror: unknown };
    expect(() => (d.onuncapturederror = () => 1)).toThrow(/interface type/);
    keepErrorHandlers(Device);
    const handler = () => 2;
    d.onuncapturederror = handler;
    expect(d.onuncapturederror).toBe(handler);
    const other = new Device() as { onuncapturederror: unknown };
    expect(other.onuncapturederror).toBeNull();
  });

  it('leaves a setter that accepts handlers doing its own work', () => {
    const seen: unknown[] = [];
    class Device {
      stored: unknown = null;
    }
    Object.defineProperty(Device.prototype, 'onuncapturederror', {
      configurable: true,
      get(this: Device) {
        return this.stored;
      },
      set(this: Device, v: unknown) {
        seen.push(v);
        this.stored = v;
      },
    });
    keepErrorHandlers(Device);
    const d = new Device() as Device & { onuncapturederror: unknown };
    const handler = () => 3;
    d.onuncapturederror = handler;
    expect(seen).toEqual([handler]);
    expect(d.stored).toBe(handler);
    expect(d.onuncapturederror).toBe(handler);
  });

  it('does nothing without a class or an accessor', () => {
    expect(() => keepErrorHandlers(undefined)).not.toThrow();
    class Plain {}
    keepErrorHandlers(Plain);
    expect(Object.getOwnPropertyDescriptor(Plain.prototype, 'onuncapturederror')).toBeUndefined();
  });
});

describe('NaN in kernels', () => {
  it('comes from the nan argument, never from inf - inf', () => {
    expect(SPECIAL_VALUES[0]).toBe(Infinity);
    expect(Number.isNaN(SPECIAL_VALUES[1])).toBe(true);
    const ops = Object.keys(UNARY_OPS) as UnaryOp[];
    let withNan = 0;
    for (const op of ops) {
      const k = unaryKernel(op, 8);
      if (!k) continue;
      expect(k.source, op).not.toMatch(/inf\s*-\s*inf/);
      if (/\bnan\b/.test(k.source)) {
        withNan++;
        expect(k.source, op).toMatch(/^function \(x, inf, nan\)/);
        expect(k.scalars, op).toBe(SPECIAL_VALUES);
      }
    }
    // log, sqrt, log1p, asin, acos, acosh, atanh, rsqrt, log2 and log10 at least
    expect(withNan).toBeGreaterThanOrEqual(10);
    const pow = binaryKernel('pow', [4], [4], [4], 'float32');
    expect(pow.source).not.toMatch(/inf\s*-\s*inf/);
    expect(pow.source).toMatch(/^function \(a, b, inf, nan\)/);
    expect(pow.scalars).toBe(SPECIAL_VALUES);
  });
});

describe('the WebGPU adapter in info()', () => {
  it('names the adapter from its info and says whether it is a software fallback', () => {
    expect(
      describeAdapter({
        info: { vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H200', description: '' },
        isFallbackAdapter: false,
      }),
    ).toEqual({ renderer: 'nvidia hopper NVIDIA H200', fallback: false });
    expect(
      describeAdapter({
        info: { vendor: 'mesa', architecture: 'software', device: '', description: 'llvmpipe: Mesa 22.3.6 (LLVM 15.0.6) 0.0.1' },
        isFallbackAdapter: true,
      }),
    ).toEqual({ renderer: 'mesa software llvmpipe: Mesa 22.3.6 (LLVM 15.0.6) 0.0.1', fallback: true });
    expect(describeAdapter({})).toEqual({ renderer: null, fallback: false });
  });
});
