import type { Texture } from 'gpu.js';
import { ArgumentError } from '@bp/tensor';

/**
 * What a storage holds: a gpu.js pipeline texture on the GL modes, or a plain
 * Float32Array on the modes that have no device memory (webasm, cpu).
 */
export type DeviceData = Texture | Float32Array | WebGpuCell;

/** A WebGPU pipeline result as gpu.js hands it back: a storage buffer read asynchronously. */
export interface WebGpuBuffer {
  toArray(): Promise<Float32Array | number[]>;
  delete(): void;
}

/**
 * A storage on the WebGPU mode: the kernel producing it is queued, and `done` settles
 * once it ran; `result` is then its buffer, or `error` says why it failed (naming the op).
 */
export class WebGpuCell {
  result: WebGpuBuffer | null = null;
  error: Error | null = null;
  constructor(
    /** Settles (never rejects) when the producing kernel has run or failed. */
    public done: Promise<void>,
  ) {}
}

/** The part of a storage the finalizer may touch: never the storage object itself, or it would never be collected. */
interface Handle {
  data: DeviceData | null;
}

/**
 * Counts and frees the storages of one backend instance. Each storage is
 * registered with a FinalizationRegistry, so textures of tensors that become
 * unreachable are deleted even when nobody calls `dispose`.
 */
export class StorageTracker {
  private live = 0;
  /**
   * Where a WebGPU storage is freed: after every kernel queued before the release has
   * run (set by the WebGPU mode to append to its queue).
   */
  deferFree: ((free: () => void) => void) | null = null;
  private readonly registry = new FinalizationRegistry<Handle>((h) => this.release(h));

  /** Storages created and not yet released (disposed or collected). */
  get liveCount(): number {
    return this.live;
  }

  /** Wraps device data as a storage of `size` float32 cells and starts tracking it. */
  track(data: DeviceData, size: number): GpuStorage {
    const handle: Handle = { data };
    const s = new GpuStorage(handle, size);
    this.live++;
    this.registry.register(s, handle, s);
    return s;
  }

  /** Frees a storage now; later uses of it throw. Disposing twice is harmless. */
  dispose(s: GpuStorage): void {
    if (s._handle.data === null) return;
    this.registry.unregister(s);
    this.release(s._handle);
  }

  /**
   * An in-place write: `into` takes `from`'s data (a kernel's result) and its old data is
   * freed (on WebGPU, after every kernel queued so far, which may still read it); `from`
   * is left disposed. Every tensor sharing `into` sees the new values.
   */
  moveInto(into: GpuStorage, from: GpuStorage): void {
    const data = from._handle.data;
    const old = into._handle.data;
    if (data === null || old === null) throw new ArgumentError('gpu', `an in-place write into a disposed tensor (${into.size} values)`);
    this.registry.unregister(from);
    from._handle.data = null;
    into._handle.data = data;
    // Releasing the old data takes one storage off the live count: the one `from` was.
    this.release({ data: old });
  }

  private release(h: Handle): void {
    const d = h.data;
    if (d === null) return;
    h.data = null;
    this.live--;
    if (d instanceof Float32Array) return;
    if (d instanceof WebGpuCell) {
      const free = () => {
        try {
          d.result?.delete();
        } catch {
          // The device is gone: nothing left to free.
        }
        d.result = null;
      };
      if (this.deferFree) this.deferFree(free);
      else void d.done.then(free);
      return;
    }
    try {
      d.delete();
    } catch {
      // The GL context is already gone (backend destroyed or context lost): nothing left to free.
    }
  }
}

/**
 * A tensor's values on the gpu backend: `size` float32 cells, row-major.
 * int32 tensors are stored as floats too, exact for magnitudes below 2^24.
 */
export class GpuStorage {
  /** @internal */
  constructor(
    /** @internal */ readonly _handle: Handle,
    /** Number of cells. */
    readonly size: number,
  ) {}

  /** False once disposed. */
  get alive(): boolean {
    return this._handle.data !== null;
  }
}
