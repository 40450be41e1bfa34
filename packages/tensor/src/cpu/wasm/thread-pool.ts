import { TASK_FIELDS } from './kernels-wasm.js';
import { ARGS_SLOTS, type TaskArgs, type TaskName, type WasmRuntime } from './wasm-runtime.js';

/** The kernels a worker can run, by their index in the control block. */
const TASKS = Object.keys(TASK_FIELDS) as TaskName[];

/**
 * Below this much work (multiply-adds, or their equivalent), waking a worker costs more than
 * sharing the work saves.
 */
export const THREAD_MIN_WORK = 1 << 21;

/**
 * A posted part no worker has picked up for this long means the worker is gone: it is not
 * waited for (its part runs on the calling thread at once in any case), only counted dead.
 */
export const DEAD_AFTER_MS = 2000;

/**
 * The thread policy tries the setting it is not using for two calls in every this many (the first
 * of them, run with cold caches, is not counted).
 */
export const EXPLORE = 32;

/**
 * Calls after the thread policy turns to the other setting when it tries the one it left again;
 * then twice as many each time, up to {@link EXPLORE}. A few runs slowed together (the second core
 * taken by another process for a few milliseconds) can turn it to one thread, and waiting a whole
 * EXPLORE for the next look kept one thread on for 16 to 70 calls in a row where two were 1.4
 * times faster. Measured on a two-core Intel Xeon with AVX-512, Node 20, a Keras MLP epoch at
 * batch 128 in a fresh process (two 128x784x128 product kinds, 429 calls each): one thread for 0
 * to 161 calls of a kind with a fixed EXPLORE, 0 to 30 with this; within `pnpm bench`, where the
 * batch-32 epoch runs first, the epoch took 0.61 to 0.62 s either way.
 */
export const EXPLORE_AFTER_TURN = 4;

/** Runs of each setting the thread policy counts before it settles on the faster one. */
export const WARMUP = 3;

let policy: 'measure' | 'all' = 'measure';

/**
 * For tests and measurements: every pool's policy, measuring (the default) or always all threads
 * above {@link THREAD_MIN_WORK}.
 */
export function setThreadPolicy(mode: 'measure' | 'all'): void {
  policy = mode;
}

/**
 * Milliseconds a worker spins on its control block after a part (or a wake-up call) before it
 * sleeps in Atomics.wait: waking a sleeping thread takes 10 to 50 microseconds, as much as a
 * 256x256 product's share of the work takes a fifth of.
 */
export const WORKER_SPIN_MS = 0.2;

/**
 * Milliseconds the calling thread spins for a worker's part to finish before it sleeps in
 * Atomics.wait: the last chunk a worker claimed is usually done within that.
 */
export const CALLER_SPIN_MS = 0.2;

/** Int32 fields of the control block per worker. */
const SLOT = 8;
/** The last sequence number posted. */
const SEQ = 0;
/** The sequence number still open to claim, 0 once the calling thread took the part back, -1 once a worker claimed it. */
const CLAIM = 1;
/** The last sequence number a worker finished. */
const DONE = 2;
/** 1 when that part trapped. */
const FAILED = 3;
/** 1 once the worker has instantiated the kernels. */
const READY = 4;
/** The task's index in {@link TASKS}. */
const KERNEL = 5;
/** The byte address of the task's argument struct. */
const ARGS = 6;
/** The last sequence number the worker woke up for, claimed or not. */
const SEEN = 7;

/**
 * The body of each worker, given `module, memory, control, base, names`: instantiates the kernels
 * on the shared memory, then sleeps in Atomics.wait until a new sequence number is posted. It
 * claims the part by swapping the open sequence number for -1; the part may have been taken back
 * by the calling thread meanwhile (then it does nothing). A trap is reported through the failure flag.
 */
const WORKER_LOOP = `
const c = new Int32Array(control);
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
const kernels = names.map((n) => exports[n]);
Atomics.store(c, base + ${READY}, 1);
let seen = 0;
for (;;) {
  // Spin a little before sleeping: a product often follows the last one (or the wake-up call
  // that precedes it) within microseconds, and waking from Atomics.wait takes tens of them.
  if (Atomics.load(c, base + ${SEQ}) === seen) {
    const until = performance.now() + ${WORKER_SPIN_MS};
    while (Atomics.load(c, base + ${SEQ}) === seen && performance.now() < until);
  }
  Atomics.wait(c, base + ${SEQ}, seen);
  seen = Atomics.load(c, base + ${SEQ});
  Atomics.store(c, base + ${SEEN}, seen);
  if (Atomics.compareExchange(c, base + ${CLAIM}, seen, -1) !== seen) continue;
  let failed = 0;
  try {
    kernels[c[base + ${KERNEL}]](c[base + ${ARGS}]);
  } catch {
    failed = 1;
  }
  Atomics.store(c, base + ${FAILED}, failed);
  Atomics.store(c, base + ${DONE}, seen);
  Atomics.notify(c, base + ${DONE});
}
`;

/** A Node worker (worker_threads, evaluated as CommonJS): its data comes as workerData. */
const NODE_WORKER = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, base, names } = workerData;
${WORKER_LOOP}`;

/** A browser worker (from a Blob URL): its data comes as the first message. */
const BROWSER_WORKER = `
onmessage = (e) => {
  onmessage = null;
  const { module, memory, control, base, names } = e.data;
${WORKER_LOOP}};
`;

/** Counted runs of each setting whose best rate the thread policy goes by. */
export const RATE_WINDOW = 8;

/** What the thread policy knows of one kind and size of work. */
interface Rate {
  /** Work per millisecond on one thread and on all: the best of the last RATE_WINDOW counted runs; 0 until measured. */
  one: number;
  all: number;
  /** The last RATE_WINDOW counted rates of each setting (a ring, at `counted % RATE_WINDOW`). */
  recent: { one: Float64Array; all: Float64Array };
  /** Calls the policy has answered. */
  eligible: number;
  /** The setting of the last call reported, null before the first. */
  last: 'one' | 'all' | null;
  /** The setting measured faster at the last call past the warm-up, null before. */
  best: 'one' | 'all' | null;
  /** The call at which the policy next tries the other setting (for that call and the one after). */
  exploreAt: number;
  /** Calls from one try of the other setting to the next: {@link EXPLORE_AFTER_TURN} after a turn, doubling up to {@link EXPLORE}. */
  gap: number;
  /** Runs counted on one thread and on all. */
  counted: { one: number; all: number };
}

/** The parts of Node's `process`, `worker_threads` and `os` the pool uses. */
interface NodeProcess {
  getBuiltinModule?: (id: string) => unknown;
}
interface NodeThreads {
  Worker: new (src: string, opts: object) => WorkerLike;
}
interface NodeOs {
  availableParallelism(): number;
}

interface WorkerLike {
  unref(): void;
  terminate(): Promise<number>;
  on(event: 'error' | 'exit', listener: () => void): void;
}

/** The parts of a browser Worker the pool uses. */
interface BrowserWorker {
  postMessage(data: unknown): void;
  terminate(): void;
  addEventListener(event: 'error' | 'messageerror', listener: () => void): void;
}

interface BrowserScope {
  Worker?: new (url: string, opts?: object) => BrowserWorker;
  Blob?: new (parts: string[], opts: { type: string }) => object;
  URL?: { createObjectURL(blob: object): string };
  navigator?: { hardwareConcurrency?: number };
}

/**
 * Whether kernels can run on worker threads here, with the calling thread blocking in
 * Atomics.wait for them: Node, or a browser worker of a cross-origin isolated page (where
 * SharedArrayBuffer exists). A page's main thread may not block, so it gets none.
 */
export function canUseThreads(): boolean {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return false;
  const g = globalThis as { process?: { versions?: { node?: string } }; WorkerGlobalScope?: unknown; crossOriginIsolated?: boolean };
  if (typeof g.process?.versions?.node === 'string') return true;
  return typeof g.WorkerGlobalScope === 'function' && g.crossOriginIsolated === true && typeof (g as BrowserScope).Worker === 'function';
}

/**
 * Worker threads that run the module's thread kernels (the matrix product, the convolution
 * drivers, 2x2 max pooling) on the memory they share with the calling thread. A call is split
 * into parts that write disjoint memory (or claim work from a shared counter); the calling thread
 * runs the first part and each ready worker one other.
 *
 * Never a long block on a dead worker: a part that no worker has claimed by the time the calling
 * thread finishes its own is taken back and run there, so only a worker that is computing is
 * waited for. A worker that exits, reports an error or a trap, or leaves a part unclaimed for
 * {@link DEAD_AFTER_MS}, retires the pool: the backend continues on one thread and says so once
 * on the console.
 *
 * Where {@link canUseThreads}: in Node (worker_threads; the workers are unref'd and sleep between
 * calls, so they never keep a process alive) and in a browser worker of a cross-origin isolated
 * page (nested workers from a Blob URL). A page's main thread may not block, so it gets one thread.
 */
export class ThreadPool {
  private readonly control: Int32Array;
  private readonly workers: { terminate(): unknown }[] = [];
  private readonly posted: number[] = [];
  private readonly unseenSince: number[] = [];
  private retired = false;
  private seq = 0;
  /**
   * Per kind of kernel and size class (see rateOf): measured rates (work per millisecond, smoothed) on one thread and on all
   * (0 until measured), and the calls large enough to thread so far.
   */
  private readonly rates = new Map<string, Map<number, Rate>>();
  /** The part {@link detach} posted and {@link join} has not waited for yet. */
  private detached: { worker: number; seq: number; task: TaskName; addr: number } | null = null;

  /**
   * Starts up to `maxWorkers` workers (fewer on machines with fewer cores) on `rt`'s shared memory.
   * A worker that leaves a part unclaimed for `deadAfterMs` is counted dead.
   */
  constructor(
    private readonly rt: WasmRuntime,
    module: WebAssembly.Module,
    maxWorkers: number,
    private readonly deadAfterMs = DEAD_AFTER_MS,
  ) {
    const n = Math.max(0, Math.min(maxWorkers, ARGS_SLOTS - 1));
    this.control = new Int32Array(new SharedArrayBuffer(Math.max(1, n) * SLOT * 4));
    const g = globalThis as BrowserScope & { process?: NodeProcess };
    if (g.process === undefined && g.Worker && g.Blob && g.URL) this.startBrowser(module, n, g);
    else {
      // Node: at once where the process can load built-in modules synchronously (Node 20.16 and
      // later), so a training loop that starts right away and never awaits gets the workers too
      // (a dynamic import would resolve only once the loop yields); else after the import.
      const proc = g.process;
      if (typeof proc?.getBuiltinModule === 'function') {
        this.startNode(module, n, proc.getBuiltinModule('node:worker_threads') as NodeThreads, proc.getBuiltinModule('node:os') as NodeOs);
      } else void this.importAndStart(module, n);
    }
  }

  private async importAndStart(module: WebAssembly.Module, maxWorkers: number): Promise<void> {
    try {
      // Computed specifiers keep browser bundlers from trying to resolve Node modules.
      const threadsSpec = 'node:worker_threads';
      const osSpec = 'node:os';
      const threads = (await import(/* @vite-ignore */ threadsSpec)) as NodeThreads;
      const os = (await import(/* @vite-ignore */ osSpec)) as NodeOs;
      this.startNode(module, maxWorkers, threads, os);
    } catch {
      // No worker threads here: stay single-threaded.
    }
  }

  private startNode(module: WebAssembly.Module, maxWorkers: number, { Worker }: NodeThreads, os: NodeOs): void {
    try {
      const count = Math.min(maxWorkers, os.availableParallelism() - 1);
      for (let w = 0; w < count; w++) {
        const worker = new Worker(NODE_WORKER, {
          eval: true,
          workerData: { module, memory: this.rt.memory, control: this.control.buffer, base: w * SLOT, names: TASKS },
        });
        worker.unref();
        const fail = (): void => this.retire(`worker thread ${w + 1} stopped`);
        worker.on('error', fail);
        worker.on('exit', fail);
        this.workers.push(worker);
        this.posted.push(0);
        this.unseenSince.push(0);
      }
    } catch {
      // No worker threads here: stay single-threaded.
    }
  }

  private startBrowser(module: WebAssembly.Module, maxWorkers: number, g: BrowserScope): void {
    try {
      const count = Math.min(maxWorkers, (g.navigator?.hardwareConcurrency ?? 2) - 1);
      const url = g.URL!.createObjectURL(new g.Blob!([BROWSER_WORKER], { type: 'text/javascript' }));
      for (let w = 0; w < count; w++) {
        const worker = new g.Worker!(url);
        const fail = (): void => this.retire(`worker thread ${w + 1} stopped`);
        worker.addEventListener('error', fail);
        worker.addEventListener('messageerror', fail);
        worker.postMessage({ module, memory: this.rt.memory, control: this.control.buffer, base: w * SLOT, names: TASKS });
        this.workers.push(worker);
        this.posted.push(0);
        this.unseenSince.push(0);
      }
    } catch {
      // No nested workers here: stay single-threaded.
    }
  }

  /** Stops using the workers, and says why once. */
  private retire(why: string): void {
    if (this.retired) return;
    this.retired = true;
    console.warn(`bp: ${why}; the CPU backend continues on one thread.`);
  }

  /** The workers that have started, are not retired and are not running a detached part. */
  private helpers(): number[] {
    const out: number[] = [];
    if (this.retired) return out;
    const busy = this.detached?.worker ?? -1;
    for (let w = 0; w < this.workers.length; w++) if (w !== busy && Atomics.load(this.control, w * SLOT + READY) === 1) out.push(w);
    return out;
  }

  /** Workers ready to take a part now (0 once the pool is retired). */
  get ready(): number {
    return this.helpers().length;
  }

  /** Threads a split can use now: the calling one and the ready workers. */
  get parallelism(): number {
    return 1 + this.ready;
  }

  /**
   * The one thread policy of every kernel: how many threads to split `work` multiply-adds (or
   * their equivalent) over. Below {@link THREAD_MIN_WORK}, 1. Above, it measures rather than
   * assumes that the other cores are free: callers report each run's time ({@link record}), and
   * the pool uses all threads while they are measured faster than one, else one thread, trying
   * the other setting for two calls every {@link EXPLORE} so a core that frees up (or gets busy)
   * is seen; after it turns from one setting to the other, the one it left is tried again after
   * {@link EXPLORE_AFTER_TURN} calls, then twice as many each time up to EXPLORE, so a turn caused
   * by a few slow runs in a row is undone within a few calls. Each setting is judged by its best
   * run of the last {@link RATE_WINDOW}: on a shared machine a run or two slowed by another process (or a worker descheduled for a moment) must not
   * turn the pool to one thread, as a moving mean did (measured on a two-core AMD EPYC with AVX-512,
   * Node 20, the Keras MLP's two 128x784x128 products per step: 1.2 to 1.5 ms a pair with the mean,
   * which took one thread for up to 80% of calls, 0.95 to 1.3 with the best). Until each setting has {@link WARMUP} runs counted, it alternates between them.
   * Each kind of kernel and each power of two of work is measured on its own. The first call
   * after a change of setting is not counted: it finds the operands' memory and the other
   * thread's caches cold, which the setting then used does not pay on every call.
   * Results are the same bits whatever it picks.
   */
  threadsFor(work: number, kind = 'gemm'): number {
    if (work < THREAD_MIN_WORK) return 1;
    const all = this.parallelism;
    if (all === 1 || policy === 'all') return all;
    const rate = this.rateOf(kind, work);
    const call = rate.eligible++;
    // First WARMUP counted runs of each setting, alternating two calls at a time: one sample,
    // taken while a worker was still starting or was descheduled, must not settle it.
    if (rate.counted.all < WARMUP || rate.counted.one < WARMUP) return (call >> 1) % 2 === 0 ? all : 1;
    const best = rate.all >= rate.one ? 'all' : 'one';
    if (rate.best === null) {
      // Settled for the first time: the next try of the other setting at the next multiple of EXPLORE.
      rate.exploreAt = call - (call % EXPLORE) + EXPLORE;
    } else if (rate.best !== best) {
      // Turned: the one left is tried again soon, in case what slowed it has passed.
      rate.gap = EXPLORE_AFTER_TURN;
      rate.exploreAt = call + EXPLORE_AFTER_TURN;
    }
    rate.best = best;
    if (call >= rate.exploreAt) {
      if (call > rate.exploreAt) {
        // The second call of the try: the next one `gap` calls after this try began, then twice as far.
        rate.exploreAt += rate.gap;
        rate.gap = Math.min(EXPLORE, 2 * rate.gap);
      }
      return best === 'one' ? all : 1;
    }
    return best === 'one' ? 1 : all;
  }

  /**
   * Reports that `work` of `kind` (as given to {@link threadsFor}) took `ms` milliseconds on
   * `threads` threads.
   */
  record(threads: number, work: number, ms: number, kind = 'gemm'): void {
    if (work < THREAD_MIN_WORK || !(ms > 0)) return;
    const rate = this.rateOf(kind, work);
    const key = threads > 1 ? 'all' : 'one';
    const switched = rate.last !== key;
    rate.last = key;
    if (switched) return;
    const r = work / ms;
    const n = ++rate.counted[key];
    const recent = rate.recent[key];
    recent[n % RATE_WINDOW] = r;
    // Another process on a core, or a worker descheduled for a moment, only ever slows a run down: the
    // best recent run of a setting is what it can do now. A core that stays busy slows every run of
    // the setting that uses it, which then leaves the window within RATE_WINDOW runs.
    let best = 0;
    for (let i = 0; i < RATE_WINDOW; i++) if (recent[i] > best) best = recent[i];
    rate[key] = best;
  }

  /**
   * The rates of `kind` for work of about `work`'s size: one record per power of two, since the
   * share of a call that waking and joining the workers costs falls as the work grows, and the
   * best setting for a 256x256 product need not be the best for a 1024x1024 one.
   */
  private rateOf(kind: string, work: number): Rate {
    // By kind, then by power of two (a number: no string to build and hash for every call).
    let bySize = this.rates.get(kind);
    if (bySize === undefined) this.rates.set(kind, (bySize = new Map()));
    const power = Math.floor(Math.log2(work));
    let rate = bySize.get(power);
    if (rate === undefined)
      bySize.set(
        power,
        (rate = {
          one: 0,
          all: 0,
          recent: { one: new Float64Array(RATE_WINDOW), all: new Float64Array(RATE_WINDOW) },
          eligible: 0,
          last: null,
          best: null,
          exploreAt: 0,
          gap: EXPLORE,
          counted: { one: 0, all: 0 },
        }),
      );
    return rate;
  }

  /** Stops the workers (a backend that is done with them can give them back). */
  async close(): Promise<void> {
    this.retired = true;
    const d = this.detached;
    this.detached = null;
    await Promise.all(this.workers.map(async (w) => w.terminate()));
    // A detached part is run again here: its worker may have stopped in the middle of it.
    if (d !== null) this.rt.exports[d.task](d.addr);
  }

  /**
   * Wakes up to `threads - 1` workers ahead of a {@link run} that will use them, so they spin
   * (for {@link WORKER_SPIN_MS}) instead of sleeping while the caller gets the operands ready:
   * the run's parts are then picked up in about a microsecond instead of tens.
   */
  wake(threads: number): void {
    const ctl = this.control;
    const now = performance.now();
    const helpers = this.helpers();
    for (let i = 0; i < Math.min(threads - 1, helpers.length); i++) {
      this.post(helpers[i], now);
      Atomics.notify(ctl, helpers[i] * SLOT + SEQ);
    }
  }

  /** Posts a new sequence number to worker `w` (with nothing to claim unless the caller opens it). */
  private post(w: number, now: number): number {
    const base = w * SLOT;
    this.seq = (this.seq % 0x3fffffff) + 1;
    if (Atomics.load(this.control, base + SEEN) === this.posted[w]) this.unseenSince[w] = now;
    this.posted[w] = this.seq;
    Atomics.store(this.control, base + SEQ, this.seq);
    return this.seq;
  }

  /**
   * Posts `task` (its argument struct at byte `addr`, where no other call writes) to a ready
   * worker and returns at once, so this thread goes on with other work while it runs; until
   * {@link join}, that worker takes no other part (calls split their work over the others, or
   * run on this thread). One part at a time: false (nothing posted) when one is out already or
   * no worker is ready. The part must give the same result when run again ({@link join} reruns
   * it here if the worker fails).
   */
  detach<K extends TaskName>(task: K, addr: number): boolean {
    if (this.detached !== null) return false;
    const helpers = this.helpers();
    if (helpers.length === 0) return false;
    const w = helpers[0];
    this.detached = { worker: w, seq: this.postPart(w, task, addr, performance.now()), task, addr };
    return true;
  }

  /** Whether a part {@link detach} posted is still out (not joined). */
  get hasDetached(): boolean {
    return this.detached !== null;
  }

  /**
   * Returns once the part {@link detach} posted is done: at once if it is (or none is out); runs
   * it here if no worker took it up; waits for the worker computing it; reruns it here (and
   * retires the workers) if that worker failed.
   */
  join(): void {
    const d = this.detached;
    if (d === null) return;
    this.detached = null;
    const end = this.finishPart(d.worker, d.seq);
    if (end === 'failed') this.retire(`${d.task} failed on a worker thread`);
    if (end !== 'done') this.rt.exports[d.task](d.addr);
  }

  /** Posts the part of `task` whose argument struct is at byte `addr` to worker `w`, open for it to claim; returns its sequence number. */
  private postPart(w: number, task: TaskName, addr: number, now: number): number {
    const base = w * SLOT;
    const ctl = this.control;
    ctl[base + KERNEL] = TASKS.indexOf(task);
    ctl[base + ARGS] = addr;
    Atomics.store(ctl, base + CLAIM, (this.seq % 0x3fffffff) + 1);
    const s = this.post(w, now);
    Atomics.notify(ctl, base + SEQ);
    return s;
  }

  /**
   * Ends part `s` posted to worker `w`: takes it back if no worker has claimed it
   * (`'unclaimed'`: the caller runs it), else waits until the worker is done with it (a claimed
   * part is always finished, or reported as a trap): `'done'`, or `'failed'` when it trapped.
   */
  private finishPart(w: number, s: number): 'unclaimed' | 'done' | 'failed' {
    const ctl = this.control;
    const base = w * SLOT;
    if (Atomics.compareExchange(ctl, base + CLAIM, s, 0) === s) return 'unclaimed';
    if (Atomics.load(ctl, base + DONE) !== s) {
      const until = performance.now() + CALLER_SPIN_MS;
      while (Atomics.load(ctl, base + DONE) !== s && performance.now() < until);
    }
    for (let done = Atomics.load(ctl, base + DONE); done !== s; done = Atomics.load(ctl, base + DONE)) {
      Atomics.wait(ctl, base + DONE, done);
    }
    return Atomics.load(ctl, base + FAILED) === 1 ? 'failed' : 'done';
  }

  /**
   * Splits `0 .. n` into one contiguous range per thread (at most `threads`) and runs `task` on
   * each with the arguments `args(i0, i1)` (see {@link run}).
   */
  runSplit<K extends TaskName>(task: K, n: number, threads: number, args: (i0: number, i1: number) => TaskArgs<K>): void {
    const chunk = Math.ceil(n / Math.max(1, Math.min(threads, n)));
    const parts: TaskArgs<K>[] = [];
    for (let i0 = 0; i0 < n; i0 += chunk) parts.push(args(i0, Math.min(n, i0 + chunk)));
    this.run(task, parts);
  }

  /**
   * Runs `task` once for each argument struct, at the same time: `parts[0]` on this thread, the
   * others on ready workers (parts beyond them run here too). The parts must write disjoint memory
   * or claim their work from a shared counter, and running a whole call again must give the same
   * result: when a worker traps, every part is run again here in order, after `reset` (which
   * rewinds such a counter). `meanwhile`, if given, runs on this thread once the other parts are
   * posted and before `parts[0]`, so that the workers start on their parts while it runs (it must
   * not touch the memory they use). Returns when every part is done.
   */
  run<K extends TaskName>(task: K, parts: readonly TaskArgs<K>[], reset?: () => void, meanwhile?: () => void): void {
    if (parts.length === 0) return;
    const fn = this.rt.exports[task];
    const ctl = this.control;
    const now = performance.now();
    const helpers: number[] = [];
    for (const w of this.helpers()) {
      const base = w * SLOT;
      // A worker that has not even woken for a part posted long ago is gone.
      if (Atomics.load(ctl, base + SEEN) !== this.posted[w] && now - this.unseenSince[w] > this.deadAfterMs) {
        this.retire(`worker thread ${w + 1} stopped answering`);
        helpers.length = 0;
        break;
      }
      helpers.push(w);
    }
    const spread = Math.min(parts.length, helpers.length + 1);
    if (parts.length > ARGS_SLOTS) throw new Error(`ThreadPool.run: ${parts.length} parts of ${task} (at most ${ARGS_SLOTS})`);
    const addrs = parts.map((args, p) => this.rt.writeArgs(p, task, args));
    const sent: [number, number, number][] = [];
    for (let p = 1; p < spread; p++) {
      const w = helpers[p - 1];
      sent.push([w, this.postPart(w, task, addrs[p], now), p]);
    }
    meanwhile?.();
    fn(addrs[0]);
    for (let p = spread; p < parts.length; p++) fn(addrs[p]);
    let failed = false;
    for (const [w, s, p] of sent) {
      const end = this.finishPart(w, s);
      // Not claimed yet: the worker is asleep, busy elsewhere or gone; this thread runs it.
      if (end === 'unclaimed') fn(addrs[p]);
      else if (end === 'failed') failed = true;
    }
    if (failed) {
      this.retire(`${task} failed on a worker thread`);
      reset?.();
      // The parts' addresses are still in place: nothing else ran since they were written.
      for (let p = 0; p < parts.length; p++) fn(addrs[p]);
    }
  }
}
