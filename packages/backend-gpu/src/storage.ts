import type { Texture } from 'gpu.js';

/**
 * What a storage holds: a gpu.js pipeline texture on the GL modes, or a plain
 * Float32Array on the modes that have no device memory (webasm, cpu).
 */
export type DeviceData = Texture | Float32Array;

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

  private release(h: Handle): void {
    const d = h.data;
    if (d === null) return;
    h.data = null;
    this.live--;
    if (d instanceof Float32Array) return;
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
