import { GPU } from 'gpu.js';
import { ArgumentError, NotAvailableError } from '@bp/tensor';

/** The gpu.js modes this backend runs on. */
export type GpuMode = 'webgpu' | 'webgl2' | 'webgl' | 'headlessgl' | 'webasm' | 'cpu';

/** A mode to force, or `'gpu'` for gpu.js' own pick among the GL modes and webasm. */
export type GpuModeOption = GpuMode | 'gpu';

/** Modes whose kernels run on a graphics device and keep results in device memory (textures or buffers). */
export const GL_MODES: readonly GpuMode[] = ['webgpu', 'headlessgl', 'webgl2', 'webgl'];

/**
 * Preference order: WebGPU's compute shaders first (browsers with
 * `navigator.gpu` and an adapter; Node where the `webgpu` package's Dawn
 * build loads), then a GL device (headless-gl only exists in Node, the WebGL
 * ones only in browsers), then gpu.js' WebAssembly kernels, then its plain
 * JavaScript ones. WebGPU is asynchronous: it needs an adapter requested with
 * `await`, so only {@link chooseModeAsync} (used by `gpuAsync()` and
 * `setBackend('gpu')`) picks it by default; `gpu()` takes it when asked by name.
 */
const ORDER: readonly GpuMode[] = ['webgpu', 'headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu'];

interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<WebGpuAdapter | null> };
}

interface WebGpuAdapter {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  isFallbackAdapter?: boolean;
}

function nav(): GpuNavigator | undefined {
  return (globalThis as { navigator?: GpuNavigator }).navigator;
}

let dawnReason: string | null | undefined;

/**
 * In Node, installs `navigator.gpu` from the `webgpu` package (Dawn) where it loads.
 * Returns null on success, else why not (e.g. Debian 12's libstdc++ is too old for its build).
 */
export function loadDawn(): string | null {
  if (dawnReason !== undefined) return dawnReason;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; versions?: { node?: string } } }).process;
  if (!proc?.versions?.node) return (dawnReason = 'not in Node');
  if (nav()?.gpu) {
    // A program that installed Dawn itself (`navigator.gpu = create([])`) meets the same setter.
    keepErrorHandlers((globalThis as { GPUDevice?: { prototype?: object } }).GPUDevice);
    return (dawnReason = null);
  }
  const mod = proc.getBuiltinModule?.('node:module') as NodeModuleApi | undefined;
  if (!mod) return (dawnReason = 'this Node has no process.getBuiltinModule (Node >= 20.16 needed to load the `webgpu` package)');
  try {
    const base = mod.createRequire(import.meta.url).resolve('gpu.js');
    const dawn = mod.createRequire(base)('webgpu') as { create(flags: string[]): unknown; globals?: Record<string, unknown> };
    const g = globalThis as Record<string, unknown>;
    keepErrorHandlers(dawn.globals?.GPUDevice as { prototype?: object } | undefined);
    if (dawn.globals) for (const [k, v] of Object.entries(dawn.globals)) if (!(k in g)) g[k] = v;
    const gpuApi = dawn.create([]);
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpuApi, configurable: true });
    else g.navigator = { gpu: gpuApi };
    return (dawnReason = null);
  } catch (e) {
    const first = String((e as Error).message ?? e).split('\n')[0];
    return (dawnReason = `the \`webgpu\` package (Dawn) does not load here: ${first.replace(/\/[^\s']*\//g, '')}`);
  }
}

/**
 * Dawn's Node build in the `webgpu` package 0.2.x, the version gpu.js installs, refuses every
 * value assigned to `device.onuncapturederror` ("object is not of the correct interface type"),
 * and gpu.js assigns one to the device it makes, so no kernel could run. Where the native setter
 * refuses a value, `device.onuncapturederror` keeps it instead (Dawn prints uncaptured errors
 * itself); where it accepts one, nothing changes. Exported for its test.
 */
export function keepErrorHandlers(deviceClass: { prototype?: object } | undefined): void {
  const proto = deviceClass?.prototype;
  const native = proto && Object.getOwnPropertyDescriptor(proto, 'onuncapturederror');
  if (!native?.set || !native.configurable) return;
  const kept = new WeakMap<object, unknown>();
  Object.defineProperty(proto, 'onuncapturederror', {
    configurable: true,
    enumerable: native.enumerable,
    get(this: object) {
      return kept.has(this) ? kept.get(this) : native.get?.call(this);
    },
    set(this: object, handler: unknown) {
      try {
        native.set!.call(this, handler);
        kept.delete(this);
      } catch {
        kept.set(this, handler);
      }
    },
  });
}

function webgpuReason(): string {
  if (nav()?.gpu) return 'navigator.gpu exists but no adapter was found';
  const dawn = loadDawn();
  if (dawn === 'not in Node') return 'navigator.gpu is missing (this browser has no WebGPU, or the page is not a secure origin)';
  return dawn ?? 'no adapter was found';
}

let adapterFound: boolean | undefined;
/** A WebGPU adapter's name (vendor, architecture, device) and whether it is a software fallback. */
export interface AdapterName {
  renderer: string | null;
  fallback: boolean;
}

let adapterName: AdapterName = { renderer: null, fallback: false };

/** Whether a WebGPU adapter answers here (in Node, after loading Dawn). Cached. */
export async function webgpuAvailable(): Promise<boolean> {
  if (adapterFound !== undefined) return adapterFound;
  // In Node, also where the program installed `navigator.gpu` itself (loadDawn then patches its device class).
  if (loadDawn() !== null && !nav()?.gpu) return (adapterFound = false);
  try {
    const adapter = await nav()!.gpu!.requestAdapter();
    adapterFound = adapter != null;
    if (adapter) adapterName = describeAdapter(adapter);
  } catch {
    adapterFound = false;
  }
  return adapterFound;
}

/**
 * The WebGPU adapter's vendor, architecture and device or description, as one string
 * (`'nvidia hopper NVIDIA H200'`, `'google swiftshader'`, `'mesa software llvmpipe (LLVM 15.0.6, 256 bits)'`),
 * and whether it is a software fallback. Exported for its test.
 */
export function describeAdapter(adapter: WebGpuAdapter): AdapterName {
  const i = adapter.info ?? {};
  const parts = [i.vendor, i.architecture, i.device || i.description].filter((p): p is string => !!p);
  return { renderer: parts.length > 0 ? parts.join(' ') : null, fallback: adapter.isFallbackAdapter === true };
}

/** What {@link webgpuAvailable} learned of the adapter: its name, and whether it is a software fallback. */
export function webgpuAdapter(): AdapterName {
  return adapterName;
}

function supported(mode: GpuMode): boolean {
  switch (mode) {
    case 'webgpu':
      return adapterFound === true || (adapterFound === undefined && !!nav()?.gpu);
    case 'headlessgl':
      return GPU.isHeadlessGLSupported;
    case 'webgl2':
      return GPU.isWebGL2Supported;
    case 'webgl':
      return GPU.isWebGLSupported;
    case 'webasm':
      return GPU.isWebAssemblySupported;
    case 'cpu':
      return true;
  }
}

interface NodeModuleApi {
  createRequire(path: string): { (id: string): unknown; resolve(id: string): string };
}

/** Why headless-gl cannot run here, in words a user can act on. */
export function headlessGlReason(): string {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; cwd(): string } }).process;
  if (!proc) return 'headless-gl exists only in Node';
  const mod = proc.getBuiltinModule?.('node:module') as NodeModuleApi | undefined;
  if (!mod) return 'headless-gl did not start (the optional `gl` module is missing, or no display); see the README';
  try {
    const fromCwd = mod.createRequire(`${proc.cwd()}/`);
    let base: string;
    try {
      base = mod.createRequire(import.meta.url).resolve('gpu.js');
    } catch {
      base = fromCwd.resolve('gpu.js');
    }
    const create = mod.createRequire(base)('gl') as (
      w: number,
      h: number,
    ) => { getExtension(n: string): { destroy(): void } | null } | null;
    const ctx = create(1, 1);
    if (!ctx) return 'the `gl` module loads but cannot open a context: no display (run under xvfb-run)';
    ctx.getExtension('STACKGL_destroy_context')?.destroy();
    return 'the `gl` module opens a context, but gpu.js rejected it (no float textures?)';
  } catch (e) {
    // The bindings error's first line ends in "Tried:", and the list of paths after it is long: keep the sentence.
    const first = String((e as Error).message ?? e)
      .split('\n')[0]
      .replace(/[.\s]*Tried:\s*$/, '');
    return `the optional native module \`gl\` is not built (${first}); see the README to enable headless-gl`;
  }
}

/** The chosen mode and, when better modes were passed over, why. */
export interface ModeChoice {
  mode: GpuMode;
  /** Reasons the modes ahead of it in the preference order were not used. */
  skipped: string[];
}

/** Picks the gpu.js mode: the requested one (which must be available), or the best that runs here. */
export function chooseMode(requested?: GpuModeOption): ModeChoice {
  if (requested !== undefined && requested !== 'gpu') {
    if (!(ORDER as readonly string[]).includes(requested)) {
      throw new ArgumentError('gpu', `unknown mode '${String(requested)}'; use one of ${ORDER.join(', ')} or 'gpu'`);
    }
    if (requested === 'webgpu' && !nav()?.gpu) loadDawn();
    if (!supported(requested)) {
      throw new NotAvailableError('gpu', `mode '${requested}' cannot start: ${whyNot(requested)}. Tried: ${requested}`);
    }
    return { mode: requested, skipped: [] };
  }
  const skipped: string[] = [];
  for (const mode of ORDER) {
    if (requested === 'gpu' && mode === 'cpu') break;
    // WebGPU needs an awaited adapter: the synchronous pick takes it only once one has answered.
    if (mode === 'webgpu' && adapterFound !== true) {
      if (adapterFound === false || !nav()?.gpu) skipped.push(`webgpu: ${webgpuReason()}`);
      else skipped.push("webgpu: not probed (use await gpuAsync() or setBackend('gpu') to try it)");
      continue;
    }
    if (supported(mode)) return { mode, skipped };
    skipped.push(`${mode}: ${whyNot(mode)}`);
  }
  if (requested === 'gpu') {
    throw new NotAvailableError('gpu', `mode 'gpu' found no GPU or WebAssembly mode that starts here. Tried: ${skipped.join('; ')}`);
  }
  return { mode: 'cpu', skipped };
}

/** Why `mode` cannot start here, in words a user can act on. */
function whyNot(mode: GpuMode): string {
  switch (mode) {
    case 'webgpu':
      return webgpuReason();
    case 'headlessgl':
      return headlessGlReason();
    case 'webgl2':
    case 'webgl':
      return typeof document === 'undefined'
        ? `${mode} exists only in browsers`
        : `this browser gives no ${mode} context with float textures`;
    default:
      return `gpu.js reports ${mode} unsupported in this environment`;
  }
}

/**
 * {@link chooseMode}, after asking for a WebGPU adapter (in Node, after loading Dawn), so
 * that WebGPU is the first choice wherever it starts.
 */
export async function chooseModeAsync(requested?: GpuModeOption): Promise<ModeChoice> {
  if (requested === undefined || requested === 'gpu' || requested === 'webgpu') await webgpuAvailable();
  return chooseMode(requested);
}
