/**
 * The Web Worker that runs examples, so a long training run never freezes
 * the page; Stop terminates it. It selects the backend the page asked for,
 * then runs the example through {@link runExample}.
 */
import { setBackend } from '@bp/tensor';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { loadGpuPackage, ortSettings, runExample } from './execute.js';
import { makeScope, sketchModels } from './scope.js';
import { describeError } from './errors.js';
import type { RunRequest, SketchInput, WorkerMessage } from './protocol.js';

// onnxruntime-web's wasm binary, served by this site (Vite copies it into the build).
ortSettings.wasm = new URL(ortWasm, self.location.href).href;

const post = (m: WorkerMessage): void => (self as unknown as Worker).postMessage(m);

let gpuInfo: (() => Record<string, unknown>) | null = null;

async function useBackend(choice: RunRequest['backend']): Promise<void> {
  if (choice === 'gpu') {
    if (!gpuInfo) {
      const pkg = await loadGpuPackage();
      const backend = pkg.gpu();
      await setBackend(backend);
      gpuInfo = () => backend.info();
    } else {
      await setBackend('gpu');
    }
    const info = gpuInfo();
    const device = info.realGpu ? 'hardware GPU' : 'no hardware GPU: software rendering or a CPU mode';
    post({
      type: 'ready',
      backend: 'gpu',
      detail: `GPU backend: gpu.js mode ${String(info.mode)} (${device}${info.renderer ? `, ${String(info.renderer)}` : ''})`,
    });
  } else {
    await setBackend('cpu');
    post({ type: 'ready', backend: 'cpu', detail: 'CPU backend' });
  }
}

async function run(req: RunRequest): Promise<void> {
  const t0 = performance.now();
  try {
    await useBackend(req.backend);
  } catch (e) {
    post({ type: 'error', ...describeError(e) });
    return;
  }
  sketchModels.clear();
  const scope = makeScope(post, { quick: req.quick, siteRoot: req.siteRoot, params: req.params });
  const { error } = await runExample(req.code, scope);
  if (error) post({ type: 'error', ...error });
  else post({ type: 'done', ms: performance.now() - t0 });
}

/** A drawing for a `sketch(...)` of the last run: classify it with that run's model. */
function classifySketch(req: SketchInput): void {
  const classify = sketchModels.get(req.id);
  if (!classify) return;
  try {
    post({ type: 'sketch-result', id: req.id, probs: classify(req.pixels) });
  } catch (e) {
    post({ type: 'error', ...describeError(e) });
  }
}

self.addEventListener('message', (ev: MessageEvent<RunRequest | SketchInput>) => {
  if (ev.data?.type === 'run') void run(ev.data);
  else if (ev.data?.type === 'sketch-input') classifySketch(ev.data);
});
