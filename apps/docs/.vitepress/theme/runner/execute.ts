/**
 * Runs one example's source: transformed to a function body, called as an
 * async function with `require` answering the bp packages and the page
 * helpers in scope. Shared by the worker and the Node test of the examples.
 */
import * as tensorPkg from '@bp/tensor';
import * as autogradPkg from '@bp/autograd';
import * as layersPkg from '@bp/layers';
import * as lossesPkg from '@bp/losses';
import * as optimPkg from '@bp/optim';
import * as datasetsPkg from '@bp/datasets';
import { describeError } from './errors.js';
import { toFunctionBody } from './transform.js';

/** The packages an example can import, by name; `@bp/backend-gpu`, `@bp/onnx` and `onnxruntime-web` are added when loaded. */
export const modules: Record<string, unknown> = {
  '@bp/tensor': tensorPkg,
  '@bp/autograd': autogradPkg,
  '@bp/layers': layersPkg,
  '@bp/losses': lossesPkg,
  '@bp/optim': optimPkg,
  '@bp/datasets': datasetsPkg,
};

/** Loads `@bp/backend-gpu` and makes it importable by examples. */
export async function loadGpuPackage(): Promise<typeof import('@bp/backend-gpu')> {
  const pkg = await import('@bp/backend-gpu');
  modules['@bp/backend-gpu'] = pkg;
  return pkg;
}

/**
 * Where onnxruntime-web finds its wasm binary. The worker points it at the
 * site's own copy, so nothing is fetched from elsewhere; in Node the default
 * (the package's folder) is right.
 */
export const ortSettings: { wasm?: string } = {};

/** Loads `@bp/onnx` and `onnxruntime-web` (its wasm build, one thread) and makes them importable by examples. */
export async function loadOnnxPackages(): Promise<void> {
  const [onnx, ort] = await Promise.all([import('@bp/onnx'), import('onnxruntime-web/wasm')]);
  ort.env.wasm.numThreads = 1;
  if (ortSettings.wasm) ort.env.wasm.wasmPaths = { wasm: ortSettings.wasm };
  modules['@bp/onnx'] = onnx;
  modules['onnxruntime-web'] = ort;
}

const LAZY = ['@bp/backend-gpu', '@bp/onnx', 'onnxruntime-web'];

type AsyncFn = (...args: unknown[]) => Promise<unknown>;
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => AsyncFn;

/** Runs `code`; resolves with the error it threw, described for the page, or null. */
export async function runExample(
  code: string,
  scope: Record<string, unknown>,
): Promise<{ error: ReturnType<typeof describeError> | null }> {
  try {
    // gpu.js is large: its package is loaded only for examples that import it.
    if (code.includes('@bp/backend-gpu') && !modules['@bp/backend-gpu']) await loadGpuPackage();
    // So are ONNX Runtime's wasm build and the exporter.
    if ((code.includes("'@bp/onnx'") || code.includes("'onnxruntime-web'")) && !modules['@bp/onnx']) await loadOnnxPackages();
    const body = toFunctionBody(code);
    const require = (id: string): unknown => {
      const m = modules[id];
      if (!m) {
        const known = [...new Set([...Object.keys(modules), ...LAZY])].join(', ');
        throw new Error(`import '${id}': examples on this site can import ${known}`);
      }
      return m;
    };
    const names = Object.keys(scope);
    const fn = new AsyncFunction('require', 'exports', ...names, body);
    await fn(require, {}, ...names.map((n) => scope[n]));
    return { error: null };
  } catch (e) {
    return { error: describeError(e) };
  }
}
