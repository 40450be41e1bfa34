/**
 * The Chromium test page: for one GL mode (`?mode=webgl2` or `?mode=webgl`),
 * the primitive parity checks, then every conformance case and the training
 * check with the gpu backend selected. Each case logs its name as it starts,
 * so a page that runs out of time names the case it was in.
 */
import '@bp/autograd';
import '@bp/losses';
import '@bp/optim';
import { setBackend, setDebugChecks } from '@bp/tensor';
import { conformanceCases } from '@bp/conformance';
import { gpu, type GpuMode } from '../src/index.js';
import { parityCases } from './parity-cases.js';
import { TOLERANCE } from './tolerance.js';
import { compareKerasMlp, type KerasMlpComparison } from './keras-mlp.js';
import { trainCheck } from './train-check.js';
import { unpackMnist } from './unpack-mnist.js';

/** One case's outcome. */
export interface CaseResult {
  mode: string;
  suite: 'parity' | 'conformance' | 'train';
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
}

/** What the page reports. */
export interface BrowserReport {
  results: CaseResult[];
  info: Record<string, unknown>[];
  /** The Keras MNIST MLP on a subset, CPU backend vs WebGL2 (on the webgl2 page). */
  mnist?: KerasMlpComparison;
  ms: number;
}

async function main(): Promise<BrowserReport> {
  const t0 = performance.now();
  const results: CaseResult[] = [];
  const info: Record<string, unknown>[] = [];
  let mnist: KerasMlpComparison | undefined;
  const mode = new URLSearchParams(location.search).get('mode') as GpuMode | null;
  if (mode !== 'webgl2' && mode !== 'webgl') throw new Error(`the page needs ?mode=webgl2 or ?mode=webgl, not ${String(mode)}`);
  const b = gpu({ mode });
  const record = async (suite: CaseResult['suite'], name: string, fn: () => void | Promise<void>) => {
    // a macrotask between cases keeps the page responsive to the harness
    await new Promise((r) => setTimeout(r, 0));
    console.log(`${mode} ${suite} ${name}`);
    const t = performance.now();
    try {
      await fn();
      results.push({ mode, suite, name, ok: true, ms: performance.now() - t });
    } catch (e) {
      results.push({ mode, suite, name, ok: false, error: String((e as Error)?.stack ?? e), ms: performance.now() - t });
    }
  };
  for (const c of parityCases) {
    await record('parity', `${c.group}: ${c.name}`, () => {
      const before = b.liveTensors();
      c.run(b, TOLERANCE);
      if (b.liveTensors() !== before) throw new Error(`live tensors went from ${before} to ${b.liveTensors()}`);
    });
  }
  await setBackend(b);
  // The bad-input cases expect the value checks a GPU backend skips by default.
  setDebugChecks(true);
  for (const c of conformanceCases({ tolerance: TOLERANCE, quick: true })) {
    await record('conformance', `${c.group}: ${c.name}`, () => c.run());
  }
  await record('train', 'MLP 784-128-10 matches the CPU backend', async () => {
    await trainCheck(b);
  });
  if (mode === 'webgl2') {
    // One mode is enough for the real-data check: the kernels are the same GLSL in both.
    await record('train', "Keras MNIST MLP on a subset reaches the CPU backend's test accuracy", async () => {
      const data = unpackMnist(await (await fetch('/mnist.bin')).arrayBuffer());
      mnist = await compareKerasMlp(b, data);
    });
  }
  await setBackend('cpu');
  info.push(b.info());
  b.destroy();
  return { results, info, mnist, ms: performance.now() - t0 };
}

main().then(
  (r) => ((window as unknown as { __bpResult: BrowserReport }).__bpResult = r),
  (e: unknown) => ((window as unknown as { __bpFatal: string }).__bpFatal = String((e as Error)?.stack ?? e)),
);
