import { afterAll, describe, expect, it } from 'vitest';
import { ArgumentError, NotAvailableError, getBackend, listBackends, setBackend, tensor } from '@bp/tensor';
import { gpu, gpuAsync, webgpuAvailable } from './index.js';

describe('storage lifetime and live-tensor count', () => {
  const b = gpu({ mode: 'webasm' });
  afterAll(() => b.destroy());

  it('counts storages and frees them on dispose', () => {
    const start = b.liveTensors();
    const x = b.upload(Float32Array.from([1, 2, 3]), 'float32');
    const y = b.unary('exp', x, 3, 'float32');
    expect(b.liveTensors()).toBe(start + 2);
    b.dispose(x);
    b.dispose(x);
    expect(b.liveTensors()).toBe(start + 1);
    expect(() => b.read(x, 3, 'float32')).toThrow(ArgumentError);
    expect(() => b.unary('neg', x, 3, 'float32')).toThrow(/disposed tensor/);
    expect(Array.from(b.read(y, 3, 'float32'))).toEqual(Array.from(Float32Array.from([1, 2, 3], Math.exp)));
    b.dispose(y);
    expect(b.liveTensors()).toBe(start);
  });

  it('frees the storage of tensors that become unreachable', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'the tests run with --expose-gc').toBeTypeOf('function');
    const start = b.liveTensors();
    (() => {
      for (let i = 0; i < 50; i++) b.fill(16, i, 'float32');
    })();
    expect(b.liveTensors()).toBe(start + 50);
    // Finalizers run in later tasks, after a collection finds the storages dead.
    for (let i = 0; i < 20 && b.liveTensors() > start; i++) {
      gc!();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(b.liveTensors()).toBe(start);
  });

  it('keeps tensors of the Tensor API alive while referenced and frees them through Tensor.dispose', async () => {
    const prev = getBackend();
    await setBackend(b);
    try {
      const start = b.liveTensors();
      const t = tensor([
        [1, 2],
        [3, 4],
      ]);
      const u = t.matmul(t);
      expect(u.toArray()).toEqual([
        [7, 10],
        [15, 22],
      ]);
      expect(await u.data()).toEqual(Float32Array.from([7, 10, 15, 22]));
      expect(b.liveTensors()).toBe(start + 2);
      u.dispose();
      t.dispose();
      expect(b.liveTensors()).toBe(start);
    } finally {
      await setBackend(prev);
    }
  });

  it('compiles each kernel once per op and shape', () => {
    const x = b.upload(new Float32Array(12), 'float32');
    const before = b.info().kernels;
    for (let i = 0; i < 3; i++) b.dispose(b.reduce('sum', x, [3, 4], [1], 'float32'));
    expect(b.info().kernels).toBe(before + 1);
    // elementwise kernels do not depend on the size: one kernel serves both
    const y = b.upload(new Float32Array(7), 'float32');
    b.dispose(b.unary('tanh', x, 12, 'float32'));
    const afterFirst = b.info().kernels;
    b.dispose(b.unary('tanh', y, 7, 'float32'));
    expect(b.info().kernels).toBe(afterFirst);
    b.dispose(x);
    b.dispose(y);
  });
});

describe('modes and info', () => {
  it('reports the mode, device facts and counts', () => {
    const b = gpu({ mode: 'cpu' });
    const info = b.info();
    expect(info).toMatchObject({
      kind: 'gpu',
      mode: 'cpu',
      realGpu: false,
      deviceMemory: false,
      liveTensors: 0,
      kernels: 0,
      fallbacks: [],
    });
    b.destroy();
  });

  it('picks the best mode that runs here by default, and says why better ones were skipped', () => {
    const b = gpu();
    // No GL in this Node process unless the gl module was built (pnpm test:headlessgl).
    expect(['headlessgl', 'webasm']).toContain(b.mode);
    if (b.mode !== 'headlessgl') {
      expect(b.info().skipped.join(' ')).toMatch(/headlessgl: .*(gl|display)/);
      // The bindings error's "Tried:" list is left out, not cut off after its colon.
      expect(b.info().skipped.join(' ')).not.toMatch(/Tried:?\)/);
    }
    b.destroy();
  });

  it('rejects unknown and unavailable modes with a reason and what was tried', async () => {
    // Node has no navigator.gpu; the `webgpu` package (Dawn) needs a newer libstdc++ than Debian 12 has.
    const webgpu = await webgpuAvailable();
    if (!webgpu) {
      expect(() => gpu({ mode: 'webgpu' })).toThrow(NotAvailableError);
      expect(() => gpu({ mode: 'webgpu' })).toThrow(/^gpu: mode 'webgpu' cannot start: .*\. Tried: webgpu$/);
      await expect(gpuAsync({ mode: 'webgpu' })).rejects.toThrow(/mode 'webgpu' cannot start/);
      const b = await gpuAsync();
      expect(b.info().skipped[0]).toMatch(/^webgpu: /);
      b.destroy();
    }
    expect(() => gpu({ mode: 'nope' as never })).toThrow(
      /^gpu: unknown mode 'nope'; use one of webgpu, headlessgl, webgl2, webgl, webasm, cpu or 'gpu'$/,
    );
    expect(() => gpu({ mode: 'nope' as never })).toThrow(ArgumentError);
    expect(() => gpu({ mode: 'webgl2' })).toThrow(NotAvailableError);
    expect(() => gpu({ mode: 'webgl2' })).toThrow(/^gpu: mode 'webgl2' cannot start: webgl2 exists only in browsers\. Tried: webgl2$/);
  });

  it('registers itself as "gpu" through the register entry', async () => {
    await import('./register.js');
    expect(listBackends()).toContain('gpu');
    const prev = getBackend();
    try {
      const b = await setBackend('gpu');
      expect(b.name).toBe('gpu');
      // Awaited: where Dawn loads, setBackend('gpu') picks WebGPU, which reads asynchronously only.
      expect(await tensor([1, 2, 3]).mul(2).array()).toEqual([2, 4, 6]);
    } finally {
      await setBackend(prev);
    }
  });
});
