import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cpuBackend } from '../cpu-backend.js';
import { EXPLORE, EXPLORE_AFTER_TURN, RATE_WINDOW, THREAD_MIN_WORK, ThreadPool, WARMUP, setThreadPolicy } from './thread-pool.js';
import { DATA_AT, WasmRuntime, kernelModule } from './wasm-runtime.js';
import { wasmGemm } from './wasm-gemm.js';
import type { AdamConstants } from '../../backend/backend.js';
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

/** A CPU backend on two threads, once both run, and one on a single thread: the pair each comparison below runs on. */
async function twoAndOne(): Promise<[ReturnType<typeof cpuBackend>, ReturnType<typeof cpuBackend>]> {
  const multi = cpuBackend({ threads: 2 });
  const single = cpuBackend({ threads: 1 });
  expect(await until(() => multi.info!().threads === 2, 10_000)).toBe(true);
  return [multi, single];
}

// The bit-for-bit comparisons below must run split: no measuring policy choosing one thread.
beforeAll(() => setThreadPolicy('all'));
afterAll(() => setThreadPolicy('measure'));

describe.skipIf(!threaded)('matrix products on worker threads', () => {
  it('give the same bits as one thread, for every transpose and ragged sizes', async () => {
    const [multi, single] = await twoAndOne();
    for (const [m, k, n] of [
      [64, 300, 200],
      [33, 784, 130],
      [128, 128, 17],
      [200, 64, 256],
      // B packed into panels by both threads (from 512 columns and 256 rows), ragged last panel;
      // A packed into 4-row strips before the split where k > 256 (37 and 262 rows: padded strips).
      [37, 260, 517],
      [12, 256, 1024],
      [262, 264, 520],
    ]) {
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
    // A linear layer's product with its bias and ReLU (a batch times a [out, in] weight, computed as
    // C^T = W @ X^T on both threads as on one).
    const x = values(32 * 784, 5);
    const w = values(128 * 784, 6);
    const bias = values(128, 7);
    for (const relu of [false, true]) {
      const got = multi.fused!.linear!(x, w, bias, 32, 784, 128, relu);
      const want = single.fused!.linear!(x, w, bias, 32, 784, 128, relu);
      expect(firstDifference(got, want)).toBe(-1);
    }
  });

  it("compute a linear layer's weight gradient on a worker while this thread goes on, with the bits of one thread", async () => {
    const [multi, single] = await twoAndOne();
    const detach = vi.spyOn(ThreadPool.prototype, 'detach');
    try {
      // Large enough for a worker (whole and padded row counts, dw with pad rows and columns);
      // then small ones, on this thread.
      for (const [rows, inF, outF] of [
        [512, 64, 256],
        [256, 100, 130],
        [257, 100, 128],
        [33, 17, 130],
        [128, 200, 9],
        [7, 511, 64],
      ]) {
        const dz = values(rows * outF, rows + outF);
        const x = values(rows * inF, rows + inF);
        const w = values(outF * inF, outF + inF);
        const [dx, dw] = multi.fused!.linearBackward!(dz, x, w, rows, inF, outF);
        expect(firstDifference(dx, single.matmul(dz, w, 1, 1, rows, outF, inF, false, false)), `dx ${rows}x${inF}x${outF}`).toBe(-1);
        // Read through the backend, as tensors read: that waits for the worker's part.
        const got = multi.read(dw, outF * inF, 'float32');
        expect(firstDifference(got, single.matmul(dz, x, 1, 1, outF, rows, inF, true, false)), `dw ${rows}x${inF}x${outF}`).toBe(-1);
      }
      expect(detach.mock.results.filter((r) => r.value === true)).toHaveLength(3);
    } finally {
      detach.mockRestore();
    }
  });

  it('complete a weight gradient started on a worker before any kernel reads, lists, disposes of or reuses it', async () => {
    const [multi, single] = await twoAndOne();
    const [rows, inF, outF] = [512, 64, 256];
    const dz = values(rows * outF, 3);
    const x = values(rows * inF, 4);
    const w = values(outF * inF, 5);
    const want = single.matmul(dz, x, 1, 1, outF, rows, inF, true, false) as Float32Array;
    const n = outF * inF;
    const start = (): Float32Array => multi.fused!.linearBackward!(dz, x, w, rows, inF, outF)[1] as Float32Array;
    // Given to a kernel at once: negated, every value.
    expect(firstDifference(multi.unary('neg', start(), n, 'float32'), single.unary('neg', want, n, 'float32'))).toBe(-1);
    // In a list argument.
    const other = new Float32Array([3]);
    const s = multi.fused!.sumOfSquares!([other, start()], [1, n]) as Float32Array;
    expect(s[0]).toBe((single.fused!.sumOfSquares!([other, want], [1, n]) as Float32Array)[0]);
    // Disposed of before anything read it: the worker's result is copied out first, so the array
    // handed out again holds no late write.
    const dw = start();
    const join = vi.spyOn(ThreadPool.prototype, 'join');
    try {
      multi.dispose!(dw);
      expect(join).toHaveBeenCalledTimes(1);
      expect(firstDifference(dw, want)).toBe(-1);
    } finally {
      join.mockRestore();
    }
    // The next call waits for the one before: both complete.
    const a = start();
    const b = start();
    expect(firstDifference(multi.read(a, n, 'float32'), want)).toBe(-1);
    expect(firstDifference(multi.read(b, n, 'float32'), want)).toBe(-1);
  });

  it('run a product given one thread on the private memory, with the same bits', async () => {
    const shared = new WasmRuntime(kernelModule(true)!, new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true }));
    const solo = new WasmRuntime(kernelModule()!);
    shared.threads = new ThreadPool(shared, kernelModule(true)!, 1);
    shared.solo = solo;
    const plain = new WasmRuntime(kernelModule()!);
    try {
      // 8 x 4000 x 64 is below THREAD_MIN_WORK: one thread, so the operands go to the private
      // memory (which grows to hold them) and the shared one is left as it was.
      const [m, k, n] = [8, 4000, 64];
      expect(m * k * n).toBeLessThan(THREAD_MIN_WORK);
      const before = shared.memory.buffer.byteLength;
      for (const tB of [false, true]) {
        const a = values(m * k, 5);
        const b = values(k * n, 6);
        const got = new Float32Array(m * n);
        const want = new Float32Array(m * n);
        wasmGemm(shared, a, 0, b, 0, got, 0, m, k, n, false, tB);
        wasmGemm(plain, a, 0, b, 0, want, 0, m, k, n, false, tB);
        expect(firstDifference(got, want)).toBe(-1);
      }
      expect(shared.memory.buffer.byteLength).toBe(before);
      expect(solo.memory.buffer.byteLength).toBeGreaterThan(before);
    } finally {
      await shared.threads.close();
    }
  });

  it('give convolutions and their gradients the same bits as one thread', async () => {
    const [multi, single] = await twoAndOne();
    // The MNIST CNN's two layers at batch 64 (large enough to be split), and a strided odd one.
    for (const [n, c, h, outC, stride, pad] of [
      [64, 1, 28, 16, 1, 1],
      [64, 16, 14, 32, 1, 1],
      [9, 3, 17, 5, 2, 0],
    ]) {
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

  it('give the convolution with ReLU and pooling, and its gradients, the same bits as one thread, pooling and unpooling split', async () => {
    const [multi, single] = await twoAndOne();
    const split = vi.spyOn(ThreadPool.prototype, 'runSplit');
    try {
      // The MNIST CNN's two layers at batch 64, and an odd convolution output (last row and column dropped).
      for (const [n, c, h, outC] of [
        [64, 1, 28, 16],
        [64, 16, 14, 32],
        [65, 3, 17, 6],
      ]) {
        const outH = h - 2 + (h === 17 ? 0 : 2);
        const pad = h === 17 ? 0 : 1;
        const win = { n, c, h, w: h, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: pad, padW: pad, outH, outW: outH };
        const x = values(n * c * h * h, n + c);
        const w = values(outC * c * 9, outC);
        const b = values(outC, 3);
        const q = n * outC * (outH >> 1) * (outH >> 1);
        const dy = values(q, 7);
        split.mockClear();
        const [vm, im] = multi.fused!.conv2dReluPool!(x, w, b, win, outC);
        const [vs, is] = single.fused!.conv2dReluPool!(x, w, b, win, outC);
        expect(firstDifference(vm, vs)).toBe(-1);
        expect(firstDifference(im, is)).toBe(-1);
        // Some pooled values are 0 (no gradient through them), some positive.
        expect(vs.some((v) => v === 0) && vs.some((v) => v > 0)).toBe(true);
        const gm = multi.fused!.conv2dReluPoolBackward!(dy, vs, is, x, w, win, outC, [true, true, true]);
        const gs = single.fused!.conv2dReluPoolBackward!(dy, vs, is, x, w, win, outC, [true, true, true]);
        for (let i = 0; i < 3; i++) expect(firstDifference(gm[i]!, gs[i]!), `gradient ${i}`).toBe(-1);
        expect(split.mock.calls.map((call) => call[0]).sort()).toEqual(['maxpool2x2', 'unpool']);
      }
    } finally {
      split.mockRestore();
    }
  });

  it('split 2x2 max pooling by planes with the same values and positions as one thread', async () => {
    const [multi, single] = await twoAndOne();
    // 1,023 planes of 16x16: large enough to be split, and an odd count so the halves differ.
    const n = 1023;
    const x = values(n * 256, 11).map((v, i) => (i % 101 === 0 ? NaN : Math.round(v * 8) / 8));
    const win = { n, c: 1, h: 16, w: 16, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, outH: 8, outW: 8 };
    const [vm, im] = multi.fused!.maxPool2d!(x, win) as [Float32Array, Int32Array];
    const [vs, is] = single.fused!.maxPool2d!(x, win) as [Float32Array, Int32Array];
    expect(firstDifference(vm, vs)).toBe(-1);
    expect(firstDifference(im, is)).toBe(-1);
  });

  it('split GELU (forward, with its saved Φ) with the bits of one thread', async () => {
    const [multi, single] = await twoAndOne();
    const run = vi.spyOn(ThreadPool.prototype, 'run');
    try {
      // From 65,536 values the policy may thread it; a ragged count, NaN, ±Infinity, -0 and the
      // far tails of erf on both sides of the split.
      for (const n of [65_536 + 5, 200_003]) {
        const x = values(n, 12).map((v, i) => [v * 6, NaN, Infinity, -Infinity, -0, -9, 5][i % 7 === 0 ? (i / 7) % 7 : 0]);
        const [ym, cm] = multi.fused!.geluForward!(x, n) as [Float32Array, Float32Array];
        const [ys, cs] = single.fused!.geluForward!(x, n) as [Float32Array, Float32Array];
        expect(firstDifference(ym, ys), `gelu of ${n}`).toBe(-1);
        expect(firstDifference(cm, cs), `Φ of ${n}`).toBe(-1);
      }
      expect(run.mock.calls.filter(([task]) => task === 'gelu_fwd')).toHaveLength(2);
    } finally {
      run.mockRestore();
    }
  });

  it('split GELU, exp, sigmoid, tanh, log, expm1 and log1p with the bits of one thread', async () => {
    const [multi, single] = await twoAndOne();
    const run = vi.spyOn(ThreadPool.prototype, 'run');
    try {
      // Large enough for the policy to consider two threads for each; a ragged count, NaN, ±Infinity,
      // -0, subnormals and values past the exponential's range on both sides of the split.
      const n = 200_003;
      const specials = [NaN, Infinity, -Infinity, -0, 1e-40, -120, 95];
      const x = values(n, 13).map((v, i) => (i % 7 === 0 ? specials[(i / 7) % 7] : v * 30));
      for (const op of ['gelu', 'exp', 'sigmoid', 'tanh', 'log', 'expm1', 'log1p'] as const) {
        const input = op === 'log' || op === 'log1p' ? x.map(Math.abs) : x;
        expect(firstDifference(multi.unary(op, input, n, 'float32'), single.unary(op, input, n, 'float32')), op).toBe(-1);
      }
      for (const op of ['exp', 'sigmoid', 'tanh', 'log'])
        expect(
          run.mock.calls.filter(([task]) => task === `${op}_fwd`),
          op,
        ).toHaveLength(1);
    } finally {
      run.mockRestore();
    }
  });

  it('start while a synchronous loop runs, without waiting for the event loop', () => {
    // A training loop that starts right after the backend is made and never awaits: the workers
    // must still come up (where Node can load built-in modules synchronously, 20.16 and later).
    const proc = process as { getBuiltinModule?: unknown };
    if (typeof proc.getBuiltinModule !== 'function') return;
    const be = cpuBackend({ threads: 2 });
    const end = Date.now() + 20_000;
    while (be.info!().threads !== 2 && Date.now() < end);
    expect(be.info!().threads).toBe(2);
  });

  it('do not keep a Node process alive', async () => {
    const { build } = await import('esbuild');
    const dir = mkdtempSync(join(tmpdir(), 'bp-threads-'));
    const entry = join(dir, 'entry.ts');
    const backend = fileURLToPath(new URL('../cpu-backend.ts', import.meta.url));
    writeFileSync(
      entry,
      `
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
    `,
    );
    const out = join(dir, 'entry.mjs');
    await build({ entryPoints: [entry], outfile: out, bundle: true, platform: 'node', format: 'esm', logLevel: 'silent' });
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [out], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('2 256');
    expect(Date.now() - t0).toBeLessThan(25_000);
  });
});

describe('a region held for a worker', () => {
  it('is settled before a call reaches into it, when another is reserved, and only once', () => {
    const rt = new WasmRuntime(kernelModule()!);
    rt.heap(DATA_AT + 1000);
    const from = rt.reserve(500);
    // Above everything used so far, 16-float aligned.
    expect(from).toBeGreaterThanOrEqual(DATA_AT + 1000);
    expect(from % 16).toBe(0);
    const out = new Float32Array(4);
    const settle = vi.fn();
    rt.hold(from, out, settle);
    expect(rt.pendingOutput).toBe(out);
    rt.heap(from); // up to the region: nothing to settle
    expect(settle).not.toHaveBeenCalled();
    rt.heap(from + 1);
    expect(settle).toHaveBeenCalledTimes(1);
    expect(rt.pendingOutput).toBeNull();
    rt.settle();
    expect(settle).toHaveBeenCalledTimes(1);
    // A new reservation settles the one held before, and lies above what calls have used since.
    rt.hold(rt.reserve(10), out, settle);
    const next = rt.reserve(10);
    expect(settle).toHaveBeenCalledTimes(2);
    expect(next).toBeGreaterThanOrEqual(from + 1);
  });
});

describe.skipIf(!threaded)('the thread pool', () => {
  /** A runtime on a shared memory with a pool of one worker, once that worker is ready. */
  async function pooled(deadAfterMs?: number): Promise<[WasmRuntime, ThreadPool]> {
    const module = kernelModule(true)!;
    const rt = new WasmRuntime(module, new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true }));
    const pool = new ThreadPool(rt, module, 1, deadAfterMs);
    rt.threads = pool;
    expect(await until(() => pool.ready === 1, 10_000)).toBe(true);
    return [rt, pool];
  }

  /** 2x2 max pooling of `n` 4x4 planes of known values, split in two parts; the pooled maxima. */
  function poolPlanes(rt: WasmRuntime, pool: ThreadPool, n: number): Float32Array {
    const x = Float32Array.from({ length: n * 16 }, (_, i) => i);
    const vAt = DATA_AT + n * 16;
    const mem = rt.heap(vAt + 2 * n * 4);
    mem.set(x, DATA_AT);
    pool.runSplit('maxpool2x2', n, 2, (p0, p1) => ({
      x: DATA_AT * 4,
      planes: p1 - p0,
      h: 4,
      w: 4,
      oh: 2,
      ow: 2,
      vals: (vAt + p0 * 4) * 4,
      idx: (vAt + n * 4 + p0 * 4) * 4,
      first: p0,
      relu: 0,
    }));
    return mem.slice(vAt, vAt + n * 4);
  }

  // Each 2x2 window's maximum is its bottom-right cell: plane b, window (oy, ox) -> 16b + 4(2oy+1) + 2ox+1.
  const want = (n: number) =>
    Float32Array.from({ length: n * 4 }, (_, i) => 16 * Math.floor(i / 4) + 4 * (2 * Math.floor((i % 4) / 2) + 1) + 2 * (i % 2) + 1);

  it('takes back a part a dead worker never claims, then retires the workers and says so once', async () => {
    const [rt, pool] = await pooled(200);
    expect(poolPlanes(rt, pool, 6)).toEqual(want(6));
    // Kill the worker behind the pool's back (no exit event reaches it), as a crash the calling
    // thread cannot observe while it blocks.
    const worker = (pool as unknown as { workers: Worker[] }).workers[0];
    worker.removeAllListeners();
    await worker.terminate();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      // The posted part is never claimed: this thread runs it, without waiting for the worker.
      expect(poolPlanes(rt, pool, 6)).toEqual(want(6));
      expect(pool.ready).toBe(1);
      await new Promise((r) => setTimeout(r, 300));
      expect(poolPlanes(rt, pool, 6)).toEqual(want(6));
      expect(pool.ready).toBe(0);
      expect(pool.threadsFor(1e9)).toBe(1);
      expect(poolPlanes(rt, pool, 6)).toEqual(want(6));
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/worker thread 1 stopped answering; the CPU backend continues on one thread/);
    } finally {
      warn.mockRestore();
    }
  });

  it('runs a detached part on the worker while this thread goes on, and joins it', async () => {
    const [rt, pool] = await pooled();
    // 6 planes pooled by the worker from a region above what other calls use.
    const n = 6;
    const from = rt.reserve(32 + n * 16 + 2 * n * 4);
    const mem = rt.heap(0);
    mem.set(
      Float32Array.from({ length: n * 16 }, (_, i) => i),
      from + 32,
    );
    const vAt = from + 32 + n * 16;
    const args = { x: (from + 32) * 4, planes: n, h: 4, w: 4, oh: 2, ow: 2, vals: vAt * 4, idx: (vAt + n * 4) * 4, first: 0, relu: 0 };
    expect(pool.detach('maxpool2x2', rt.writeArgsAt(from * 4, 'maxpool2x2', args))).toBe(true);
    // Out until joined: its worker takes no other part, and no second one is posted.
    expect(pool.hasDetached).toBe(true);
    expect(pool.ready).toBe(0);
    expect(pool.detach('maxpool2x2', from * 4)).toBe(false);
    pool.join();
    expect(pool.hasDetached).toBe(false);
    expect(pool.ready).toBe(1);
    expect(rt.heap(0).slice(vAt, vAt + n * 4)).toEqual(want(n));
  });

  it('runs a detached part here when its worker never took it up', async () => {
    const [rt, pool] = await pooled(200);
    const worker = (pool as unknown as { workers: Worker[] }).workers[0];
    worker.removeAllListeners();
    await worker.terminate();
    const n = 3;
    const mem = rt.heap(DATA_AT + n * 16 + 2 * n * 4);
    mem.set(
      Float32Array.from({ length: n * 16 }, (_, i) => i),
      DATA_AT,
    );
    const vAt = DATA_AT + n * 16;
    const args = { x: DATA_AT * 4, planes: n, h: 4, w: 4, oh: 2, ow: 2, vals: vAt * 4, idx: (vAt + n * 4) * 4, first: 0, relu: 0 };
    expect(pool.detach('maxpool2x2', rt.writeArgsAt(0, 'maxpool2x2', args))).toBe(true);
    pool.join();
    expect(rt.heap(0).slice(vAt, vAt + n * 4)).toEqual(want(n));
  });

  it('reruns a call on this thread when a worker traps, and retires the workers', async () => {
    const [rt, pool] = await pooled();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      // This thread's part pools 64 planes of 128x128 (long enough for the worker to wake and
      // claim its part); the worker's part writes past the end of memory, so it traps there, and
      // again when it is rerun here. Had this thread taken the part back first, it traps here
      // with the workers still in use: then try again.
      const planes = 64;
      const side = 128;
      const outAt = DATA_AT + planes * side * side;
      rt.heap(outAt + (planes * side * side) / 2);
      const part = (vals: number, idx: number) => ({
        x: DATA_AT * 4,
        planes,
        h: side,
        w: side,
        oh: side / 2,
        ow: side / 2,
        vals,
        idx,
        first: 0,
        relu: 0,
      });
      const outside = rt.memory.buffer.byteLength;
      for (let attempt = 0; attempt < 50 && warn.mock.calls.length === 0; attempt++) {
        const parts = [part(outAt * 4, (outAt + (planes * side * side) / 4) * 4), part(outside, outside)];
        expect(() => pool.run('maxpool2x2', parts)).toThrow(WebAssembly.RuntimeError);
      }
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/maxpool2x2 failed on a worker thread/);
      expect(pool.ready).toBe(0);
    } finally {
      warn.mockRestore();
    }
  });

  it('calls every kernel with one threads-for-work policy', async () => {
    const [, pool] = await pooled();
    expect(pool.threadsFor(THREAD_MIN_WORK - 1)).toBe(1);
    expect(pool.threadsFor(THREAD_MIN_WORK)).toBe(2);
  });

  it('measures: all threads while they are faster, one thread while it is, trying the other now and then', async () => {
    const [, pool] = await pooled();
    setThreadPolicy('measure');
    try {
      const work = THREAD_MIN_WORK * 4;
      // Nothing measured yet: both settings, alternating two calls at a time until each has
      // WARMUP runs counted. The first run after a change of setting (cold caches) is not
      // counted: here it takes 1000 ms, the counted ones 10 ms (all threads) and 15 ms (one).
      for (let i = 0; i < WARMUP; i++) {
        for (const [threads, ms] of [
          [2, 10],
          [1, 15],
        ]) {
          expect(pool.threadsFor(work)).toBe(threads);
          pool.record(threads, work, 1000);
          expect(pool.threadsFor(work)).toBe(threads);
          pool.record(threads, work, ms);
        }
      }
      // All threads measured faster (10 ms against 15, the cold 1000 ms left out): they are used,
      // one thread tried for two calls in every EXPLORE.
      const picks = Array.from({ length: 2 * EXPLORE }, () => pool.threadsFor(work));
      expect(picks.filter((t) => t === 1)).toHaveLength(4);
      expect(picks.filter((t) => t === 2)).toHaveLength(2 * EXPLORE - 4);
      // A run or two slowed down (a worker descheduled for a moment) does not move it: each setting
      // goes by its best run of the last RATE_WINDOW.
      for (const ms of [1000, 60, 60]) pool.record(2, work, ms);
      expect(Array.from({ length: 2 * EXPLORE }, () => pool.threadsFor(work)).filter((t) => t === 2)).toHaveLength(2 * EXPLORE - 4);
      // Each kind of kernel (a product's kind names its shape), and each size class (power of two
      // of work), is measured on its own; small work stays on one thread.
      expect(pool.threadsFor(work, 'conv')).toBe(2);
      expect(pool.threadsFor(work, 'gemm 9 4 7')).toBe(2);
      expect(pool.threadsFor(work * 2)).toBe(2);
      expect(pool.threadsFor(work + 1)).toBe(2);
      expect(pool.threadsFor(THREAD_MIN_WORK - 1)).toBe(1);
      expect(pool.threadsFor(THREAD_MIN_WORK - 1, 'conv')).toBe(1);
      // The other cores get busy: all threads now take 40 ms; once those runs fill the window the
      // policy turns to one thread, and tries all threads again after EXPLORE_AFTER_TURN calls,
      // then twice as many each time up to EXPLORE (here at 4, 8, 16 and 32 calls from the turn).
      for (let i = 0; i < RATE_WINDOW; i++) pool.record(2, work, 40);
      const later = Array.from({ length: 2 * EXPLORE }, () => pool.threadsFor(work));
      const tries = [4, 8, 16, 32].map((c) => c * (EXPLORE_AFTER_TURN / 4));
      expect(later.flatMap((t, i) => (t === 2 ? [i] : []))).toEqual(tries.flatMap((c) => [c, c + 1]));
      // Still busy (every run reported now): steady again, trying all threads every EXPLORE calls.
      const steady: number[] = [];
      for (let i = 0; i < 2 * EXPLORE; i++) {
        const t = pool.threadsFor(work);
        steady.push(t);
        pool.record(t, work, t === 2 ? 40 : 15);
      }
      expect(steady.filter((t) => t === 2)).toHaveLength(4);
      // What slowed them passes: one try of all threads that runs fast again (the first run of a
      // try, cold, is not counted) turns the policy back to them at the next call, and one thread
      // is tried again EXPLORE_AFTER_TURN calls after that turn.
      const back: number[] = [];
      for (let i = 0; i < 2 * EXPLORE; i++) {
        const t = pool.threadsFor(work);
        back.push(t);
        pool.record(t, work, t === 2 ? 10 : 15);
      }
      const turn = back.indexOf(2) + 2;
      expect(back.slice(turn, turn + EXPLORE_AFTER_TURN + 3)).toEqual([...Array<number>(EXPLORE_AFTER_TURN).fill(2), 1, 1, 2]);
    } finally {
      setThreadPolicy('all');
    }
  });
});

describe.skipIf(!threaded)('fused multiply-add products on worker threads', () => {
  it('give the same bits as one thread', async () => {
    const { setFlagsFromString } = await import('node:v8');
    setFlagsFromString('--experimental-wasm-relaxed-simd');
    const multi = cpuBackend({ threads: 2, fma: true });
    const single = cpuBackend({ threads: 1, fma: true });
    expect(multi.info!().fma).toBe(true);
    expect(single.info!().fma).toBe(true);
    expect(await until(() => multi.info!().threads === 2, 10_000)).toBe(true);
    for (const [m, k, n] of [
      [64, 300, 200],
      [256, 256, 256],
    ]) {
      const a = values(m * k, m + k);
      const b = values(k * n, k + n);
      expect(firstDifference(multi.matmul(a, b, 1, 1, m, k, n, false, false), single.matmul(a, b, 1, 1, m, k, n, false, false))).toBe(-1);
    }
  });
});

describe.skipIf(!threaded)("Adam's parameters in the threads' shared memory", () => {
  it('are placed there, updated split between the threads with the bits of one thread, and read in place by the products', async () => {
    const [multi, single] = await twoAndOne();
    // The Keras MLP's first weight: [128, 784].
    const [rows, inF, outF] = [128, 784, 128];
    const n = outF * inF;
    const start = [values(n, 1), new Float32Array(n), new Float32Array(n)];
    const place = (b: ReturnType<typeof cpuBackend>) =>
      b.fused!.adamPlace!(start[0].slice(), start[1].slice(), start[2].slice(), n) as [Float32Array, Float32Array, Float32Array];
    const two = place(multi);
    const one = place(single);
    expect(two.map((x) => x.buffer instanceof SharedArrayBuffer)).toEqual([true, true, true]);
    expect(one.map((x) => x.buffer instanceof SharedArrayBuffer)).toEqual([false, false, false]);
    // A smaller parameter, whose update stays on one thread, stays in a private memory.
    const small = 128 * 128;
    const kept = multi.fused!.adamPlace!(values(small, 2), new Float32Array(small), new Float32Array(small), small) as Float32Array[];
    expect(kept.map((x) => x.buffer instanceof SharedArrayBuffer)).toEqual([false, false, false]);
    const c = (first: boolean, weightDecay = 0): AdamConstants => ({
      beta1: 0.9,
      beta2: 0.999,
      stepSize: 1e-3,
      epsScaled: 1e-8,
      weightDecay,
      decoupled: true,
      lr: 1e-3,
      first,
    });
    const run = vi.spyOn(ThreadPool.prototype, 'run');
    try {
      for (let k = 0; k < 3; k++) {
        const g = values(n, 10 + k).map((x) => x * 0.1);
        multi.fused!.adamUpdate!(two[0], g, two[1], two[2], null, n, c(k === 0, k === 2 ? 0.01 : 0));
        single.fused!.adamUpdate!(one[0], g, one[1], one[2], null, n, c(k === 0, k === 2 ? 0.01 : 0));
      }
      expect(run.mock.calls.filter(([task]) => task === 'adam_part')).toHaveLength(3);
    } finally {
      run.mockRestore();
    }
    for (let i = 0; i < 3; i++) expect(firstDifference(two[i], one[i]), ['p', 'm', 'v'][i]).toBe(-1);
    // The products of a linear layer that take the weight: x @ W^T forward, dz @ W for dx. Never
    // copied in: no copy into the module's memory reads from the weight's region.
    const w = two[0];
    const inWeight = (src: unknown): boolean =>
      ArrayBuffer.isView(src) &&
      src.buffer === w.buffer &&
      src.byteOffset < w.byteOffset + w.byteLength &&
      src.byteOffset + src.byteLength > w.byteOffset;
    const x = values(rows * inF, 7);
    const dz = values(rows * outF, 8);
    const set = vi.spyOn(Float32Array.prototype, 'set');
    let y: Float32Array;
    let dx: Float32Array;
    try {
      y = multi.fused!.linear!(x, w, null, rows, inF, outF, false) as Float32Array;
      dx = multi.matmul(dz, w, 1, 1, rows, outF, inF, false, false) as Float32Array;
      expect(set.mock.calls.filter(([src]) => inWeight(src))).toHaveLength(0);
    } finally {
      set.mockRestore();
    }
    expect(firstDifference(y, single.fused!.linear!(x, one[0], null, rows, inF, outF, false))).toBe(-1);
    expect(firstDifference(dx, single.matmul(dz, one[0], 1, 1, rows, outF, inF, false, false))).toBe(-1);
  });
});
