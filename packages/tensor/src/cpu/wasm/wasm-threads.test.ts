import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../cpu-backend.js';
import { kernelModule } from './wasm-runtime.js';
import { values } from './__fixtures__/values.js';

/**
 * The first byte offset at which two arrays' bits differ, or -1 (-2 for different lengths).
 * A plain loop: deep equality of multi-megabyte arrays in the test framework takes minutes on a busy machine.
 */
function firstDifference(a: ArrayBufferView, b: ArrayBufferView): number {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) return -2;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return cond();
}

const threaded = kernelModule(true) !== null && typeof SharedArrayBuffer === 'function';

describe.skipIf(!threaded)('matrix products on worker threads', () => {
  it('give the same bits as one thread, for every transpose and ragged sizes', async () => {
    const multi = cpuBackend({ threads: 2 });
    const single = cpuBackend({ threads: 1 });
    expect(await until(() => multi.info!().threads === 2, 10_000)).toBe(true);
    for (const [m, k, n] of [[64, 300, 200], [33, 784, 130], [128, 128, 17], [200, 64, 256]]) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          const a = values(m * k, m + k);
          const b = values(k * n, k + n);
          const got = multi.matmul(a, b, 1, 1, m, k, n, tA, tB);
          const want = single.matmul(a, b, 1, 1, m, k, n, tA, tB);
          expect(firstDifference(got, want)).toBe(-1);
        }
      }
    }
  });

  it('give convolutions and their gradients the same bits as one thread', async () => {
    const multi = cpuBackend({ threads: 2 });
    const single = cpuBackend({ threads: 1 });
    expect(await until(() => multi.info!().threads === 2, 10_000)).toBe(true);
    // The MNIST CNN's two layers at batch 64 (large enough to be split), and a strided odd one.
    for (const [n, c, h, outC, stride, pad] of [[64, 1, 28, 16, 1, 1], [64, 16, 14, 32, 1, 1], [9, 3, 17, 5, 2, 0]]) {
      const outH = Math.floor((h + 2 * pad - 3) / stride) + 1;
      const win = { n, c, h, w: h, kh: 3, kw: 3, strideH: stride, strideW: stride, padH: pad, padW: pad, outH, outW: outH };
      const x = values(n * c * h * h, n + c);
      const w = values(outC * c * 9, outC);
      const b = values(outC, 3);
      const dy = values(n * outC * outH * outH, 7);
      expect(firstDifference(multi.fused!.conv2d!(x, w, b, win, outC), single.fused!.conv2d!(x, w, b, win, outC))).toBe(-1);
      const gm = multi.fused!.conv2dBackward!(dy, x, w, win, outC, [true, true, true]);
      const gs = single.fused!.conv2dBackward!(dy, x, w, win, outC, [true, true, true]);
      for (let i = 0; i < 3; i++) expect(firstDifference(gm[i]!, gs[i]!), `gradient ${i}`).toBe(-1);
    }
  });

  it('split 2x2 max pooling by planes with the same values and positions as one thread', async () => {
    const multi = cpuBackend({ threads: 2 });
    const single = cpuBackend({ threads: 1 });
    expect(await until(() => multi.info!().threads === 2, 10_000)).toBe(true);
    // 1,023 planes of 16x16: large enough to be split, and an odd count so the halves differ.
    const n = 1023;
    const x = values(n * 256, 11).map((v, i) => (i % 101 === 0 ? NaN : Math.round(v * 8) / 8));
    const win = { n, c: 1, h: 16, w: 16, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, outH: 8, outW: 8 };
    const [vm, im] = multi.fused!.maxPool2d!(x, win) as [Float32Array, Int32Array];
    const [vs, is] = single.fused!.maxPool2d!(x, win) as [Float32Array, Int32Array];
    expect(firstDifference(vm, vs)).toBe(-1);
    expect(firstDifference(im, is)).toBe(-1);
  });

  it('do not keep a Node process alive', async () => {
    const { build } = await import('esbuild');
    const dir = mkdtempSync(join(tmpdir(), 'bp-threads-'));
    const entry = join(dir, 'entry.ts');
    const backend = fileURLToPath(new URL('../cpu-backend.ts', import.meta.url));
    writeFileSync(entry, `
      import { cpuBackend } from ${JSON.stringify(backend)};
      const be = cpuBackend({ threads: 2 });
      const n = 256;
      const a = new Float32Array(n * n).fill(1);
      const t0 = Date.now();
      const poll = () => {
        if (be.info().threads < 2 && Date.now() - t0 < 10000) return setTimeout(poll, 20);
        const c = be.matmul(a, a, 1, 1, n, n, n, false, false);
        console.log(be.info().threads, c[0]);
      };
      poll();
    `);
    const out = join(dir, 'entry.mjs');
    await build({ entryPoints: [entry], outfile: out, bundle: true, platform: 'node', format: 'esm', logLevel: 'silent' });
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [out], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('2 256');
    expect(Date.now() - t0).toBeLessThan(25_000);
  });
});
