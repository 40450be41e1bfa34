import { UNARY_OPS } from '@bp/tensor/internal';
import { GPU, type Texture } from 'gpu.js';
import {
  ArgumentError,
  BpError,
  NotAvailableError,
  cpuBackend,
  type AdamConstants,
  type Backend,
  type DType,
  type ReduceOp,
  type TypedArray,
  type Window2d,
} from '@bp/tensor';
import { KernelCache } from './kernel-cache.js';
import { prod, type KernelSpec } from './kernels/codegen.js';
import { binaryKernel, copyKernel, fillKernel, unaryKernel, whereKernel } from './kernels/elementwise.js';
import { matmulKernel } from './kernels/matmul.js';
import { CONCAT_GROUP, concatKernel, gatherKernel, padKernel, scatterAddKernel, sliceKernel, transposeKernel } from './kernels/movement.js';
import { BLOCK as SUM_BLOCK, blockSumKernel, LONG_SUM, reduceKernel } from './kernels/reduce.js';
import { logSumExpKernel, softmaxFromLseKernel } from './kernels/softmax.js';
import {
  adamMaxKernel,
  adamMomentKernel,
  adamParamKernel,
  conv2dBiasGradKernel,
  conv2dInputGradKernel,
  conv2dKernel,
  conv2dWeightGradKernel,
  crossEntropyBackwardKernel,
  crossEntropyKernel,
  INLINE_KEPT_MAX,
  keptRowsKernel,
  linearKernel,
  reluBackwardKernel,
  type AdamKernel,
} from './kernels/fused.js';
import {
  layerNormGradSumsKernel,
  layerNormInputGradKernel,
  layerNormMeanKernel,
  layerNormOutKernel,
  layerNormRstdKernel,
  layerNormWeightTermsKernel,
} from './kernels/layer-norm.js';
import { col2imKernel, im2colKernel } from './kernels/window.js';
import { chooseMode, chooseModeAsync, GL_MODES, webgpuAdapter, type GpuMode, type GpuModeOption, type ModeChoice } from './modes.js';
import { GpuStorage, StorageTracker, WebGpuCell, type DeviceData, type WebGpuBuffer } from './storage.js';

/** Options of {@link gpu}. */
export interface GpuBackendOptions {
  /**
   * Forces a gpu.js mode: `'webgl2'`, `'webgl'` (browsers), `'headlessgl'`
   * (Node with the `gl` module built and a display), `'webasm'` (WebAssembly
   * kernels on the CPU), `'cpu'` (gpu.js' JavaScript kernels) or `'gpu'`
   * (gpu.js' own pick). By default the best mode that runs here is used.
   */
  mode?: GpuModeOption;
}

/** What {@link GpuBackend.info} reports. */
export interface GpuBackendInfo extends Record<string, unknown> {
  kind: 'gpu';
  /** The gpu.js mode in use. */
  mode: GpuMode;
  /** True when kernels run on a hardware graphics device (not SwiftShader, llvmpipe or the CPU modes). */
  realGpu: boolean;
  /** The GL renderer string, or on WebGPU the adapter's vendor, architecture and device, where there is one. */
  renderer: string | null;
  /** Whether results stay in device textures between ops. */
  deviceMemory: boolean;
  /** Storages alive now: created and neither disposed nor garbage collected. */
  liveTensors: number;
  /** Kernels compiled so far (one per op, shape and dtype). */
  kernels: number;
  /** Kernels gpu.js ran on its JavaScript fallback instead of the chosen mode, with reasons. */
  fallbacks: string[];
  /** Why better modes were passed over (e.g. headless-gl without the `gl` module). */
  skipped: string[];
  /** Kernel launches, readbacks and uploads since the backend was made (see {@link GpuBackend.counters}). */
  counters: GpuCounters;
}

/**
 * Running totals of the work a backend sent to the device: watch the difference over a
 * training step. `readbacks` counts values read back to the host (`read`/`readAsync`), each
 * of which makes the host wait for the device; `launches` counts kernels run.
 */
export interface GpuCounters {
  launches: number;
  readbacks: number;
  uploads: number;
}

/** The gpu.js backend: a {@link Backend} plus the controls a GPU needs. */
export interface GpuBackend extends Backend<GpuStorage> {
  /** The gpu.js mode in use. */
  readonly mode: GpuMode;
  /** Frees a storage's texture now; using it afterwards throws. */
  dispose(x: GpuStorage): void;
  /** Storages alive now; watch it to find tensors that are kept longer than needed. */
  liveTensors(): number;
  /** Kernel launches, readbacks and uploads so far (a copy). */
  counters(): GpuCounters;
  /** Mode, device and memory facts, for `bp info` and benchmarks. */
  info(): GpuBackendInfo;
  /** Frees every kernel and the GL context; the backend must not be used after. */
  destroy(): void;
  /** Resolves when every queued kernel has run (WebGPU; at once on the other modes). */
  flush(): Promise<void>;
}

/**
 * The most cells a kernel may read or write. gpu.js computes cell addresses in
 * float32, which is exact only up to 2^24: past it, neighbouring cells alias and
 * results would be silently wrong, so larger tensors are refused (or, for
 * gather and slice on the host-memory modes, served on the host; see
 * {@link gpu}).
 */
export const MAX_KERNEL_CELLS = 2 ** 24;

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|microsoft basic render/i;

/**
 * A backend that runs every primitive as a gpu.js kernel.
 *
 * ```ts
 * import { setBackend } from '@bp/tensor';
 * import { gpu } from '@bp/backend-gpu';
 * await setBackend(gpu());
 * ```
 *
 * Values are float32 everywhere; int32 tensors are stored as floats, exact
 * for magnitudes below 2^24. On the GL modes results stay in textures until
 * read; a texture is freed by `tensor.dispose()` or, failing that, when its
 * tensor is garbage collected.
 *
 * Except in gpu.js' `cpu` mode, a kernel reads and writes at most
 * {@link MAX_KERNEL_CELLS} (2^24) values per tensor; larger tensors throw an `ArgumentError` naming the op and size. On
 * the modes without device memory (`webasm`, `cpu`) a larger tensor can still
 * be uploaded and have rows gathered or sliced from it on the host, which is
 * what `fit` does with a dataset such as the 47 million pixels of MNIST.
 */
export function gpu(options: GpuBackendOptions = {}): GpuBackend {
  return make(chooseMode(options.mode));
}

/**
 * {@link gpu}, after asking for a WebGPU adapter first (in Node, through the `webgpu`
 * package where its Dawn build loads), so that WebGPU is the first choice wherever it
 * starts, then WebGL2, WebGL, headless-gl, WebAssembly and JavaScript. `setBackend('gpu')`
 * uses it. On WebGPU the backend is asynchronous (`syncRead: false`): read values with
 * `await t.data()` / `await t.item()`. In Node on WebGPU, end the program with
 * `process.exit()`: Dawn keeps the event loop running while its GPU object lives.
 */
export async function gpuAsync(options: GpuBackendOptions = {}): Promise<GpuBackend> {
  return make(await chooseModeAsync(options.mode));
}

/** The first line of an error, without paths. */
function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}

function make(choice: ModeChoice): GpuBackend {
  const mode = choice.mode;
  const device = GL_MODES.includes(mode);
  const webgpu = mode === 'webgpu';
  const g = new GPU({ mode } as never);
  const cache = new KernelCache(g, device);
  const tracker = new StorageTracker();
  // gpu.js' JavaScript mode addresses cells with doubles; every other mode with float32.
  const floatAddressing = mode !== 'cpu';

  const counts: GpuCounters = { launches: 0, readbacks: 0, uploads: 0 };
  const empty = (): GpuStorage => tracker.track(new Float32Array(0), 0);

  function dataOf(s: GpuStorage): DeviceData {
    const d = s._handle.data;
    if (d === null)
      throw new ArgumentError('gpu', `a disposed tensor (${s.size} values) was used; dispose a tensor only after its last use`);
    return d;
  }

  /** Runs `spec` on storages (and raw host arrays, for uploads) and wraps the result. */
  function run(spec: KernelSpec, args: (GpuStorage | Float32Array | number)[]): GpuStorage {
    if (spec.output === 0) return empty();
    if (floatAddressing) {
      let largest = spec.output;
      for (const a of args) largest = Math.max(largest, a instanceof GpuStorage ? a.size : a instanceof Float32Array ? a.length : 0);
      if (largest > MAX_KERNEL_CELLS) {
        const op = spec.key.split(/[^a-zA-Z0-9]/)[0] || 'kernel';
        throw new ArgumentError(
          `gpu ${op}`,
          `a tensor of ${largest.toLocaleString('en-US')} values is over the ${MAX_KERNEL_CELLS.toLocaleString('en-US')} ` +
            `a gpu.js kernel can address exactly (mode ${mode}); hold it in a typed array and make a tensor of each batch` +
            (device ? '' : ', or take rows of it with gather or slice, which run on the host'),
        );
      }
    }
    const raw: unknown[] = args.map((a) => (a instanceof GpuStorage ? dataOf(a) : a));
    if (spec.scalars) raw.push(...spec.scalars);
    counts.launches++;
    if (webgpu) return tracker.track(enqueue(spec, raw), spec.output);
    const out = cache.run(spec, raw) as DeviceData;
    return tracker.track(out, spec.output);
  }

  // WebGPU: kernels go into one queue and run in order once the caller yields (gpu.js'
  // WebGPU kernels return Promises); a storage is a cell the queue fills. Frees are queued
  // too, behind every kernel that was queued before them and may read the buffer.
  let tail: Promise<void> = Promise.resolve();
  let lost: Error | null = null;
  if (webgpu) tracker.deferFree = (free) => void (tail = tail.then(free));

  /** The op a kernel computes: `exp` for `unary:exp`, `add` for `binary:add:...`, else the kernel kind. */
  function opName(spec: KernelSpec): string {
    const [kind, op] = spec.key.split(':');
    const name = (kind === 'unary' || kind === 'binary' || kind === 'reduce') && op ? op : kind.split(/[^a-zA-Z0-9]/)[0];
    return name || 'kernel';
  }

  /** The op whose kernel produced each pending result, for the error of a read that fails. */
  const producer = new WeakMap<WebGpuCell, string>();
  const LOST = /device (was )?lost|device is lost|destroyed/i;
  const lostAdvice = "this backend cannot continue: save a checkpoint where you can and resume on another backend (e.g. setBackend('cpu'))";

  function enqueue(spec: KernelSpec, raw: unknown[]): WebGpuCell {
    const cell = new WebGpuCell(Promise.resolve());
    producer.set(cell, opName(spec));
    cell.done = tail = tail
      .then(async () => {
        const inputs = raw.map((a) => {
          if (!(a instanceof WebGpuCell)) return a;
          if (a.error) throw a.error;
          if (!a.result) throw new BpError(`gpu ${opName(spec)}`, 'an input of this kernel was freed before it ran');
          return a.result;
        });
        if (lost) throw lost;
        try {
          cell.result = await (cache.run(spec, inputs) as Promise<WebGpuBuffer>);
        } catch (e) {
          const msg = firstLine(e);
          if (LOST.test(msg)) {
            lost = new BpError(`gpu ${opName(spec)}`, `the WebGPU device was lost while running '${opName(spec)}' (${msg}); ${lostAdvice}`);
            throw lost;
          }
          throw new BpError(`gpu ${opName(spec)}`, `the WebGPU kernel for '${opName(spec)}' failed: ${msg}`);
        }
      })
      .catch((e: unknown) => {
        cell.error = e instanceof Error ? e : new Error(String(e));
      });
    return cell;
  }

  async function readCell(cell: WebGpuCell, size: number): Promise<Float32Array> {
    // The copy to a staging buffer is issued in queue order (before any later free of the
    // buffer); only the mapping is awaited, off the queue.
    let pending: Promise<Float32Array | number[]> | null = null;
    await (tail = tail.then(() => {
      if (cell.error || !cell.result) return;
      pending = cell.result.toArray();
      pending.catch(() => {});
    }));
    if (cell.error) throw cell.error;
    if (!pending) throw new BpError('gpu read', 'the tensor was disposed before its values were read');
    try {
      const arr = await (pending as Promise<Float32Array | number[]>);
      const f = arr instanceof Float32Array ? arr : Float32Array.from(arr);
      return f.length === size ? f : f.subarray(0, size);
    } catch (e) {
      const msg = firstLine(e);
      const op = producer.get(cell) ?? 'kernel';
      if (LOST.test(msg)) {
        // The kernels were queued before the device went: the loss shows first in this read.
        lost ??= new BpError(`gpu ${op}`, `the WebGPU device was lost before the result of '${op}' was read back (${msg}); ${lostAdvice}`);
        throw lost;
      }
      throw new BpError('gpu read', `reading ${size} values back from the WebGPU device failed: ${msg}`);
    }
  }

  const fill = (size: number, value: number): GpuStorage => run(fillKernel(size), [value]);

  /** Runs `fn` with a one-cell storage of `value`, freed afterwards. */
  function withScalar(value: number, fn: (v: GpuStorage) => GpuStorage): GpuStorage {
    const v = fill(1, value);
    try {
      return fn(v);
    } finally {
      tracker.dispose(v);
    }
  }

  function read(x: GpuStorage, size: number, dtype: DType): TypedArray {
    if (webgpu) {
      throw new NotAvailableError('gpu', 'the webgpu mode reads values only asynchronously: use await t.data() or await t.item()');
    }
    counts.readbacks++;
    const d = dataOf(x);
    let f: Float32Array;
    if (d instanceof Float32Array) f = d;
    else {
      const arr = (d as Texture).toArray() as Float32Array;
      f = arr.length === size ? arr : arr.subarray(0, size);
    }
    return dtype === 'int32' ? Int32Array.from(f) : f;
  }

  function concatStorages(xs: GpuStorage[], shapes: (readonly number[])[], axis: number): GpuStorage {
    if (xs.length === 1) return run(copyKernel(xs[0].size, false), xs);
    const outer = prod(shapes[0].slice(0, axis));
    if (xs.length <= CONCAT_GROUP)
      return run(
        concatKernel(
          outer,
          shapes.map((s) => prod(s.slice(axis))),
        ),
        xs,
      );
    // Too many inputs for one kernel's texture units: concatenate groups, then the groups.
    const parts: GpuStorage[] = [];
    const partShapes: number[][] = [];
    for (let i = 0; i < xs.length; i += CONCAT_GROUP) {
      const gx = xs.slice(i, i + CONCAT_GROUP);
      const gs = shapes.slice(i, i + CONCAT_GROUP);
      parts.push(concatStorages(gx, gs, axis));
      const shape = gs[0].slice();
      shape[axis] = gs.reduce((acc, s) => acc + s[axis], 0);
      partShapes.push(shape);
    }
    try {
      return concatStorages(parts, partShapes, axis);
    } finally {
      for (const p of parts) tracker.dispose(p);
    }
  }

  function softmaxRows(x: GpuStorage, rows: number, cols: number, log: boolean): GpuStorage {
    if (rows * cols === 0) return empty();
    const lse = run(logSumExpKernel(rows, cols), [x]);
    try {
      return run(softmaxFromLseKernel(rows, cols, log), [x, lse]);
    } finally {
      tracker.dispose(lse);
    }
  }

  /** `x @ weight^T + bias`, then relu: one kernel (see `kernels/fused.ts`). */
  function linear(
    x: GpuStorage,
    w: GpuStorage,
    bias: GpuStorage | null,
    rows: number,
    inF: number,
    outF: number,
    relu: boolean,
  ): GpuStorage {
    if (rows * outF === 0) return empty();
    if (inF === 0) {
      // An empty product: the bias (or 0) on every row, through the composite's kernels.
      const zero = fill(rows * outF, 0);
      if (bias === null) return zero;
      const shape = [rows, outF];
      const sum = run(binaryKernel('add', shape, [outF], shape, 'float32'), [zero, bias]);
      tracker.dispose(zero);
      if (!relu) return sum;
      const out = run(unaryKernel('relu', rows * outF)!, [sum]);
      tracker.dispose(sum);
      return out;
    }
    return run(linearKernel(rows, inF, outF, bias !== null, relu), bias === null ? [x, w] : [x, w, bias]);
  }

  /**
   * One Adam or AdamW step in place: a kernel each for the first moment, the second moment
   * (and AMSGrad's running maximum), then the parameter from the new moments; each result
   * then replaces its tensor's data ({@link StorageTracker.moveInto}).
   */
  function adamUpdate(
    p: GpuStorage,
    g: GpuStorage,
    m: GpuStorage,
    v: GpuStorage,
    vmax: GpuStorage | null,
    size: number,
    c: AdamConstants,
  ): void {
    if (size === 0) return;
    for (const s of [p, g, m, v, vmax]) if (s !== null) dataOf(s);
    const f = Math.fround;
    const variant = { first: c.first, l2: c.weightDecay !== 0 && !c.decoupled, decay: c.weightDecay !== 0 && c.decoupled };
    // Every value a kernel may take, by the names in its `params`; scalars rounded to float32 as the composite's are.
    const common = { p, g, wd: f(c.weightDecay), step: f(c.stepSize), eps: f(c.epsScaled), shrink: f(1 - c.lr * c.weightDecay) };
    const launch = (k: AdamKernel, args: Record<string, GpuStorage | number>) => {
      const all: Record<string, GpuStorage | number> = { ...common, ...args };
      return run(
        k,
        k.params.map((name) => all[name]),
      );
    };
    const mNew = launch(adamMomentKernel(size, 'm', variant), { old: m, b: f(c.beta1), a: f(1 - c.beta1) });
    const vNew = launch(adamMomentKernel(size, 'v', variant), { old: v, b: f(c.beta2), a: f(1 - c.beta2) });
    const maxNew = vmax === null ? null : launch(adamMaxKernel(size, c.first), { old: vmax, v: vNew });
    const pNew = launch(adamParamKernel(size, variant), { m: mNew, second: maxNew ?? vNew });
    tracker.moveInto(m, mNew);
    tracker.moveInto(v, vNew);
    if (vmax !== null && maxNew !== null) tracker.moveInto(vmax, maxNew);
    tracker.moveInto(p, pNew);
  }

  /** Softmax cross-entropy: the rows' log-sum-exp, then the loss (see `kernels/fused.ts`). */
  function crossEntropy(
    x: GpuStorage,
    labels: GpuStorage,
    rows: number,
    cols: number,
    ignoreIndex: number,
    reduction: 'mean' | 'sum' | 'none',
  ): [GpuStorage, GpuStorage] {
    const lse = run(logSumExpKernel(rows, cols), [x]);
    return [run(crossEntropyKernel(rows, cols, ignoreIndex, reduction), [x, labels, lse, NaN]), lse];
  }

  /** Its gradient as one kernel (two for the mean of a large batch: the rows kept are counted first). */
  function crossEntropyBackward(
    dy: GpuStorage,
    x: GpuStorage,
    labels: GpuStorage,
    lse: GpuStorage,
    rows: number,
    cols: number,
    ignoreIndex: number,
    reduction: 'mean' | 'sum' | 'none',
  ): GpuStorage {
    const inline = reduction !== 'mean' || rows * rows * cols <= INLINE_KEPT_MAX;
    const kernel = crossEntropyBackwardKernel(rows, cols, ignoreIndex, reduction, inline);
    if (inline) return run(kernel, [dy, x, labels, lse]);
    const kept = run(keptRowsKernel(rows, ignoreIndex), [labels]);
    try {
      return run(kernel, [dy, x, labels, lse, kept]);
    } finally {
      tracker.dispose(kept);
    }
  }

  /** A convolution as one kernel; its gradients as one kernel each (see `kernels/fused.ts`). */
  function conv2d(x: GpuStorage, w: GpuStorage, bias: GpuStorage | null, win: Window2d, outC: number): GpuStorage {
    return run(conv2dKernel(win, outC, bias !== null), bias === null ? [x, w] : [x, w, bias]);
  }

  function conv2dBackward(
    dy: GpuStorage,
    x: GpuStorage,
    w: GpuStorage,
    win: Window2d,
    outC: number,
    needs: readonly [boolean, boolean, boolean],
  ): [GpuStorage | null, GpuStorage | null, GpuStorage | null] {
    return [
      needs[0] ? run(conv2dInputGradKernel(win, outC), [dy, w]) : null,
      needs[1] ? run(conv2dWeightGradKernel(win, outC), [dy, x]) : null,
      needs[2] ? run(conv2dBiasGradKernel(win.n, outC, win.outH * win.outW), [dy]) : null,
    ];
  }

  let hostBackend: Backend<TypedArray> | undefined;
  /** The CPU backend's kernels on a host-memory storage too large for gpu.js (see MAX_KERNEL_CELLS). */
  function onHost(x: GpuStorage): { host: Backend<TypedArray>; data: Float32Array } | null {
    if (device || x.size <= MAX_KERNEL_CELLS) return null;
    hostBackend ??= cpuBackend();
    return { host: hostBackend, data: dataOf(x) as Float32Array };
  }

  let renderer: string | null | undefined;
  function rendererName(): string | null {
    if (renderer !== undefined) return renderer;
    if (webgpu) return (renderer = webgpuAdapter().renderer);
    const gl = (g as unknown as { context?: WebGLRenderingContext | null }).context;
    if (!device || !gl || typeof gl.getParameter !== 'function') return null;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    return renderer;
  }

  /** `reduce` of the backend: over contiguous axes in place, else after moving them last. */
  function reduceStorage(op: ReduceOp, x: GpuStorage, shape: readonly number[], axes: readonly number[]): GpuStorage {
    const rank = shape.length;
    let contiguous = true;
    for (let i = 1; i < axes.length; i++) if (axes[i] !== axes[i - 1] + 1) contiguous = false;
    let src = x;
    let outer: number;
    let inner: number;
    const red = prod(axes.map((a) => shape[a]));
    if (contiguous) {
      outer = prod(shape.slice(0, axes[0]));
      inner = prod(shape.slice(axes[axes.length - 1] + 1));
    } else {
      // Move the reduced axes last, then reduce rows.
      const kept = [...Array(rank).keys()].filter((a) => !axes.includes(a));
      src = run(transposeKernel(shape, [...kept, ...axes]), [x]);
      outer = prod(kept.map((a) => shape[a]));
      inner = 1;
    }
    try {
      if (outer * inner === 0) return empty();
      if (red === 0) return fill(outer * inner, op === 'prod' ? 1 : op === 'sum' || op === 'argmax' || op === 'argmin' ? 0 : NaN);
      // Long sums: block sums in parallel first, until each thread of the last pass adds at most LONG_SUM terms.
      let n = red;
      while (op === 'sum' && n > LONG_SUM) {
        const partial = run(blockSumKernel(outer, n, inner), [src]);
        if (src !== x) tracker.dispose(src);
        src = partial;
        n = Math.ceil(n / SUM_BLOCK);
      }
      return run(reduceKernel(op, outer, n, inner), [src]);
    } finally {
      if (src !== x) tracker.dispose(src);
    }
  }

  function layerNorm(
    x: GpuStorage,
    w: GpuStorage | null,
    b: GpuStorage | null,
    rows: number,
    cols: number,
    eps: number,
  ): [GpuStorage, GpuStorage, GpuStorage] {
    const mean = run(layerNormMeanKernel(rows, cols), [x]);
    const rstd = run(layerNormRstdKernel(rows, cols, eps), [x, mean]);
    const args = [x, mean, rstd, ...(w ? [w] : []), ...(b ? [b] : [])];
    return [run(layerNormOutKernel(rows, cols, w !== null, b !== null), args), mean, rstd];
  }

  function layerNormBackward(
    dy: GpuStorage,
    x: GpuStorage,
    w: GpuStorage | null,
    mean: GpuStorage,
    rstd: GpuStorage,
    rows: number,
    cols: number,
    needs: readonly [boolean, boolean, boolean],
  ): [GpuStorage | null, GpuStorage | null, GpuStorage | null] {
    let dx: GpuStorage | null = null;
    let dw: GpuStorage | null = null;
    if (needs[0]) {
      const sums = run(layerNormGradSumsKernel(rows, cols, w !== null), w ? [dy, x, mean, w] : [dy, x, mean]);
      try {
        dx = run(layerNormInputGradKernel(rows, cols, w !== null), w ? [dy, x, mean, rstd, sums, w] : [dy, x, mean, rstd, sums]);
      } finally {
        tracker.dispose(sums);
      }
    }
    if (needs[1]) {
      const terms = run(layerNormWeightTermsKernel(rows, cols), [dy, x, mean, rstd]);
      try {
        dw = reduceStorage('sum', terms, [rows, cols], [0]);
      } finally {
        tracker.dispose(terms);
      }
    }
    return [dx, dw, needs[2] ? reduceStorage('sum', dy, [rows, cols], [0]) : null];
  }

  return {
    name: 'gpu',
    mode,
    upload(values, _dtype) {
      const n = values.length;
      if (n === 0) return empty();
      counts.uploads++;
      // A copy on WebGPU, where the upload runs later and the caller may change `values` meanwhile.
      const host = values instanceof Float32Array && !webgpu ? values : Float32Array.from(values);
      if (!device) return tracker.track(Float32Array.from(host), n);
      return run({ ...copyKernel(n, false), key: 'upload' }, [host]);
    },
    read,
    async readAsync(x, size, dtype) {
      if (!webgpu) return read(x, size, dtype);
      counts.readbacks++;
      const d = dataOf(x);
      const f = size === 0 ? new Float32Array(0) : d instanceof WebGpuCell ? await readCell(d, size) : (d as Float32Array);
      return dtype === 'int32' ? Int32Array.from(f) : f;
    },
    syncRead: !webgpu,
    dispose: (x) => tracker.dispose(x),
    fill: (size, value) => fill(size, value),
    cast: (x, size, from, to) => run(copyKernel(size, from === 'float32' && to === 'int32'), [x]),
    unary(op, x, size, dtype) {
      const kernel = unaryKernel(op, size);
      if (kernel) return run(kernel, [x]);
      // A primitive with no kernel yet: its definition, on the host (correct, with one round trip).
      const f = UNARY_OPS[op].f;
      const v = read(x, size, dtype);
      const out = new Float32Array(size);
      for (let i = 0; i < size; i++) out[i] = f(v[i]);
      return this.upload(out, dtype);
    },
    binary: (op, a, aShape, _ad, b, bShape, _bd, outShape, outDtype) => run(binaryKernel(op, aShape, bShape, outShape, outDtype), [a, b]),
    where: (cond, cShape, a, aShape, b, bShape, outShape) => run(whereKernel(cShape, aShape, bShape, outShape), [cond, a, b]),
    reduce: reduceStorage,
    matmul(a, b, batchA, batchB, m, k, n, transA, transB) {
      const size = Math.max(batchA, batchB) * m * n;
      if (size > 0 && k === 0) return fill(size, 0);
      return run(matmulKernel(batchA, batchB, m, k, n, transA, transB), [a, b]);
    },
    transpose: (x, shape, perm) => run(transposeKernel(shape, perm), [x]),
    slice(x, shape, begin, size) {
      const h = onHost(x);
      if (h) return tracker.track(h.host.slice(h.data, shape, begin, size, 'float32') as Float32Array, prod(size));
      return run(sliceKernel(shape, begin, size), [x]);
    },
    pad(x, shape, pads, value) {
      const outSize = prod(shape.map((d, i) => d + pads[i][0] + pads[i][1]));
      if (outSize === 0) return empty();
      if (x.size === 0) return fill(outSize, value);
      return withScalar(value, (v) => run(padKernel(shape, pads), [x, v]));
    },
    concat(xs, shapes, axis) {
      const keep = xs.map((_, i) => i).filter((i) => prod(shapes[i]) > 0);
      if (keep.length === 0) return empty();
      return concatStorages(
        keep.map((i) => xs[i]),
        keep.map((i) => shapes[i]),
        axis,
      );
    },
    gather(x, shape, indices, nIndices, axis) {
      const h = onHost(x);
      if (h) {
        const out = h.host.gather(h.data, shape, dataOf(indices) as Float32Array, nIndices, axis, 'float32') as Float32Array;
        return tracker.track(out, out.length);
      }
      return run(gatherKernel(prod(shape.slice(0, axis)), shape[axis], prod(shape.slice(axis + 1)), nIndices), [x, indices]);
    },
    scatterAdd(src, indices, nIndices, outShape, axis) {
      const size = prod(outShape);
      if (size > 0 && nIndices === 0) return fill(size, 0);
      return run(scatterAddKernel(prod(outShape.slice(0, axis)), outShape[axis], prod(outShape.slice(axis + 1)), nIndices), [src, indices]);
    },
    im2col(x, win, padValue) {
      return withScalar(padValue, (v) => run(im2colKernel(win), [x, v]));
    },
    col2im: (cols, win) => run(col2imKernel(win), [cols]),
    fused: {
      softmax: (x, rows, cols) => softmaxRows(x, rows, cols, false),
      logSoftmax: (x, rows, cols) => softmaxRows(x, rows, cols, true),
      linear,
      reluBackward: (dy, x, size) => run(reluBackwardKernel(size), [dy, x]),
      adamUpdate,
      conv2d,
      conv2dBackward,
      crossEntropy,
      crossEntropyBackward,
      layerNorm,
      layerNormBackward,
    },
    liveTensors: () => tracker.liveCount,
    counters: () => ({ ...counts }),
    info(): GpuBackendInfo {
      const r = rendererName();
      return {
        kind: 'gpu',
        mode,
        realGpu: device && r !== null && !SOFTWARE_RENDERER.test(r) && !(webgpu && webgpuAdapter().fallback),
        renderer: r,
        deviceMemory: device,
        liveTensors: tracker.liveCount,
        kernels: cache.size,
        fallbacks: cache.fallbacks.slice(),
        skipped: choice.skipped.slice(),
        counters: { ...counts },
      };
    },
    destroy() {
      if (webgpu) {
        // Kernels still queued must not run on destroyed kernels.
        lost ??= new BpError('gpu', 'the backend was destroyed');
        void tail.then(() => {
          cache.destroy();
          // gpu.js' destroy returns a promise that settles once its context is gone; nothing waits on it.
          void g.destroy();
        });
        return;
      }
      cache.destroy();
      void g.destroy();
    },
    async flush() {
      await tail;
    },
  };
}
