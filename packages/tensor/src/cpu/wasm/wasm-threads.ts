import type { WasmRuntime } from './wasm-runtime.js';

/**
 * The kernels a worker can run, by their index in the control block. Each takes its
 * addresses and sizes as i32 arguments, and the parts given to different threads write
 * disjoint memory.
 */
export const THREAD_KERNELS = ['gemm_blocked', 'conv_fwd', 'conv_bwd_w', 'conv_bwd_x', 'maxpool2x2'] as const;
export type ThreadKernel = (typeof THREAD_KERNELS)[number];

/** Ints of the control block per worker: sequence number, done number, failure flag, ready flag, kernel, 20 arguments. */
const SLOT = 32;
const SEQ = 0;
const DONE = 1;
const FAILED = 2;
const READY = 3;
const KERNEL = 4;
const ARGS = 5;
const MAX_ARGS = SLOT - ARGS;

/**
 * Runs in each worker (Node worker_threads, evaluated as CommonJS): instantiates
 * the kernels on the shared memory, then sleeps in Atomics.wait until the main
 * thread posts a new sequence number, runs the posted kernel on its arguments and
 * posts the number back. A trap is reported through the failure flag so the main
 * thread never waits for work that will not come.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, base, names } = workerData;
const c = new Int32Array(control);
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
const kernels = names.map((n) => exports[n]);
Atomics.store(c, base + ${READY}, 1);
let seen = 0;
for (;;) {
  Atomics.wait(c, base + ${SEQ}, seen);
  seen = Atomics.load(c, base + ${SEQ});
  try {
    kernels[c[base + ${KERNEL}]](...c.subarray(base + ${ARGS}, base + ${SLOT}));
    Atomics.store(c, base + ${FAILED}, 0);
  } catch {
    Atomics.store(c, base + ${FAILED}, 1);
  }
  Atomics.store(c, base + ${DONE}, seen);
  Atomics.notify(c, base + ${DONE});
}
`;

interface WorkerLike {
  unref(): void;
  on(event: 'error' | 'exit', listener: () => void): void;
}

/**
 * Extra threads for the matrix kernel. The main thread and each worker take
 * their own range of 8-column panels of C, so no thread writes what another
 * reads or writes. Workers start in the background: until they report ready,
 * products run on the main thread alone. They are unref'd and sleep in
 * Atomics.wait between products, so they never keep a process alive.
 *
 * Only where the main thread may block in Atomics.wait (Node, or a browser
 * worker) and SharedArrayBuffer exists; elsewhere the backend stays single-threaded.
 */
export class GemmThreads {
  private readonly control: Int32Array;
  private readonly alive: boolean[] = [];
  private seq = 0;

  /** Starts up to `maxWorkers` workers (fewer on machines with fewer cores) on `rt`'s shared memory. */
  constructor(private readonly rt: WasmRuntime, module: WebAssembly.Module, maxWorkers: number) {
    this.control = new Int32Array(new SharedArrayBuffer(Math.max(1, maxWorkers) * SLOT * 4));
    void this.start(module, maxWorkers);
  }

  private async start(module: WebAssembly.Module, maxWorkers: number): Promise<void> {
    try {
      // Computed specifiers keep browser bundlers from trying to resolve Node modules.
      const threadsSpec = 'node:worker_threads';
      const osSpec = 'node:os';
      const { Worker } = (await import(/* @vite-ignore */ threadsSpec)) as {
        Worker: new (src: string, opts: object) => WorkerLike;
      };
      const os = (await import(/* @vite-ignore */ osSpec)) as { availableParallelism(): number };
      const workers = Math.min(maxWorkers, os.availableParallelism() - 1);
      for (let w = 0; w < workers; w++) {
        const worker = new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: { module, memory: this.rt.memory, control: this.control.buffer, base: w * SLOT, names: [...THREAD_KERNELS] },
        });
        worker.unref();
        const index = this.alive.length;
        this.alive.push(true);
        const dead = (): void => {
          this.alive[index] = false;
        };
        worker.on('error', dead);
        worker.on('exit', dead);
      }
    } catch {
      // No worker threads here: stay single-threaded.
    }
  }

  /** Workers that have started and not failed. */
  get ready(): number {
    let n = 0;
    for (let w = 0; w < this.alive.length; w++) if (this.alive[w] && Atomics.load(this.control, w * SLOT + READY) === 1) n++;
    return n;
  }

  /** Threads a split can use now: the calling one and the ready workers. */
  get parallelism(): number {
    return 1 + this.ready;
  }

  /**
   * gemm_blocked over all `nb` panels, split between the main thread and the ready
   * workers. Addresses and sizes as in kernels.wat; returns when every part is done.
   */
  run(a: number, b: number, c: number, mp: number, k: number, np: number, nb: number, kc: number, mc: number): void {
    this.runSplit('gemm_blocked', nb, (nb0, nb1) => [a, b, c, mp, k, np, nb0, nb1, kc, mc]);
  }

  /**
   * Splits `0 .. n` into one contiguous range per thread (at most {@link parallelism}) and runs
   * `kernel` on each with the arguments `args(i0, i1)` (see {@link runParts}).
   */
  runSplit(kernel: ThreadKernel, n: number, args: (i0: number, i1: number) => number[]): void {
    const chunk = Math.ceil(n / Math.min(this.parallelism, n));
    const lists: number[][] = [];
    for (let i0 = 0; i0 < n; i0 += chunk) lists.push(args(i0, Math.min(n, i0 + chunk)));
    this.runParts(kernel, lists);
  }

  /**
   * Runs `kernel` once for each argument list, at the same time: `parts[0]` on this thread,
   * the others on ready workers (at most {@link parallelism} lists). The parts must write
   * disjoint memory. Returns when every part is done; a worker that fails or does not
   * answer has its part run here instead and gets no more work.
   */
  runParts(kernel: ThreadKernel, parts: readonly (readonly number[])[]): void {
    if (parts.length === 0) return;
    const fn = this.rt.exports[kernel] as (...args: number[]) => void;
    const helpers: number[] = [];
    for (let w = 0; w < this.alive.length; w++) {
      if (this.alive[w] && Atomics.load(this.control, w * SLOT + READY) === 1) helpers.push(w);
    }
    // More parts than threads (a worker died since the caller asked): the rest run here.
    const spread = Math.min(parts.length, helpers.length + 1);
    this.seq = (this.seq + 1) | 0;
    const ctl = this.control;
    const index = THREAD_KERNELS.indexOf(kernel);
    const posted: [number, readonly number[]][] = [];
    for (let p = 1; p < spread; p++) {
      const w = helpers[p - 1];
      const base = w * SLOT;
      const args = parts[p];
      if (args.length > MAX_ARGS) throw new Error(`runParts: ${kernel} with ${args.length} arguments (at most ${MAX_ARGS})`);
      ctl[base + KERNEL] = index;
      ctl.fill(0, base + ARGS, base + SLOT);
      ctl.set(args, base + ARGS);
      Atomics.store(ctl, base + SEQ, this.seq);
      Atomics.notify(ctl, base + SEQ);
      posted.push([w, args]);
    }
    fn(...parts[0]);
    for (let p = spread; p < parts.length; p++) fn(...parts[p]);
    for (const [w, args] of posted) {
      const base = w * SLOT;
      const done = Atomics.load(ctl, base + DONE);
      // A worker that has not answered within a minute is taken for dead (its events cannot
      // arrive while this thread blocks): its part is computed here and it gets no more work.
      if (done !== this.seq && Atomics.wait(ctl, base + DONE, done, 60_000) === 'timed-out') {
        this.alive[w] = false;
        fn(...args);
      } else if (Atomics.load(ctl, base + FAILED) === 1) {
        this.alive[w] = false;
        fn(...args);
      }
    }
  }
}
