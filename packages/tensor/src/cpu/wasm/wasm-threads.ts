import type { WasmRuntime } from './wasm-runtime.js';

/** Ints of the control block per worker: sequence number, done number, failure flag, ready flag, 10 arguments. */
const SLOT = 16;
const SEQ = 0;
const DONE = 1;
const FAILED = 2;
const READY = 3;
const ARGS = 4;

/**
 * Runs in each worker (Node worker_threads, evaluated as CommonJS): instantiates
 * the kernels on the shared memory, then sleeps in Atomics.wait until the main
 * thread posts a new sequence number, runs gemm_blocked on its arguments and
 * posts the number back. A trap is reported through the failure flag so the main
 * thread never waits for work that will not come.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, base } = workerData;
const c = new Int32Array(control);
const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm_blocked;
Atomics.store(c, base + ${READY}, 1);
let seen = 0;
for (;;) {
  Atomics.wait(c, base + ${SEQ}, seen);
  seen = Atomics.load(c, base + ${SEQ});
  const a = base + ${ARGS};
  try {
    gemm(c[a], c[a + 1], c[a + 2], c[a + 3], c[a + 4], c[a + 5], c[a + 6], c[a + 7], c[a + 8], c[a + 9]);
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
          workerData: { module, memory: this.rt.memory, control: this.control.buffer, base: w * SLOT },
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

  /**
   * gemm_blocked over all `nb` panels, split between the main thread and the ready
   * workers. Addresses and sizes as in kernels.wat; returns when every part is done.
   */
  run(a: number, b: number, c: number, mp: number, k: number, np: number, nb: number, kc: number, mc: number): void {
    const gemm = this.rt.exports.gemm_blocked;
    const helpers: number[] = [];
    for (let w = 0; w < this.alive.length; w++) {
      if (this.alive[w] && Atomics.load(this.control, w * SLOT + READY) === 1) helpers.push(w);
    }
    const parts = Math.min(helpers.length + 1, nb);
    const chunk = Math.ceil(nb / parts);
    this.seq = (this.seq + 1) | 0;
    const ctl = this.control;
    const posted: [number, number, number][] = [];
    for (let p = 1; p < parts; p++) {
      const w = helpers[p - 1];
      const nb0 = p * chunk;
      const nb1 = Math.min(nb, nb0 + chunk);
      if (nb0 >= nb1) continue;
      const base = w * SLOT;
      ctl.set([a, b, c, mp, k, np, nb0, nb1, kc, mc], base + ARGS);
      Atomics.store(ctl, base + SEQ, this.seq);
      Atomics.notify(ctl, base + SEQ);
      posted.push([w, nb0, nb1]);
    }
    gemm(a, b, c, mp, k, np, 0, Math.min(chunk, nb), kc, mc);
    for (const [w, nb0, nb1] of posted) {
      const base = w * SLOT;
      const done = Atomics.load(ctl, base + DONE);
      // A worker that has not answered within a minute is taken for dead (its events cannot
      // arrive while this thread blocks): its part is computed here and it gets no more work.
      if (done !== this.seq && Atomics.wait(ctl, base + DONE, done, 60_000) === 'timed-out') {
        this.alive[w] = false;
        gemm(a, b, c, mp, k, np, nb0, nb1, kc, mc);
      } else if (Atomics.load(ctl, base + FAILED) === 1) {
        this.alive[w] = false;
        gemm(a, b, c, mp, k, np, nb0, nb1, kc, mc);
      }
    }
  }
}
