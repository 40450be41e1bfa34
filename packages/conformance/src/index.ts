/**
 * @bp/conformance: the checks every bp backend must pass, as data. Each case
 * is a name and a function that throws on failure, so the same list runs
 * under vitest (`@bp/conformance/vitest`) and in a plain browser page.
 *
 * Cases use only the public API of @bp/tensor and @bp/autograd and never
 * select a backend: whoever runs them picks the backend under test first.
 *
 * @example
 * import { setBackend } from '@bp/tensor';
 * import { conformanceCases, settleChecks } from '@bp/conformance';
 * await setBackend('cpu');
 * for (const c of conformanceCases()) {
 *   await c.run();
 *   await settleChecks(); // the checks an asynchronous backend (WebGPU) completes later
 * }
 *
 * @packageDocumentation
 */
import type { Tolerance } from './assert.js';
import { activationCases } from './cases/activation.js';
import { autogradCases } from './cases/autograd.js';
import { convCases } from './cases/conv.js';
import { creationCases } from './cases/creation.js';
import { elementwiseCases } from './cases/elementwise.js';
import { elementwiseMathCases } from './cases/elementwise-math.js';
import { errorCases } from './cases/errors.js';
import { matmulCases } from './cases/matmul.js';
import { indexingCases } from './cases/indexing.js';
import { movementCases } from './cases/movement.js';
import { nnCases } from './cases/nn.js';
import { reduceCases } from './cases/reduce.js';
import { reduceMoreCases } from './cases/reduce-more.js';
import { reluNanCases } from './cases/relu-nan.js';
import { seedCases } from './cases/seed.js';
import { torchCases } from './cases/torch.js';
import { windowCases } from './cases/window.js';
import type { CaseContext, ConformanceCase } from './context.js';

export type { ConformanceCase } from './context.js';
export type { Tolerance } from './assert.js';
export { ConformanceError, readsSync, settleChecks } from './assert.js';

/** How {@link conformanceCases} and `runConformanceSuite` check a backend. */
export interface ConformanceOptions {
  /** A label for the backend under test, e.g. `'cpu'` or `'gpu (wasm)'`. */
  name: string;
  /** Selects the backend under test (called once before the cases). */
  setup?: () => void | Promise<void>;
  /** Undoes `setup` (called once after the cases). */
  teardown?: () => void | Promise<void>;
  /** Forward-value tolerance; default `{ atol: 1e-5, rtol: 1e-4 }`. Gradcheck tolerances scale with it. */
  tolerance?: Tolerance;
  /** Fewer and smaller gradient checks, for slow backends. */
  quick?: boolean;
  /**
   * Cases (as `'group > name'`) known to fail on this backend, e.g. kernels of a new backend
   * that lose NaN. They run as expected failures: one that starts passing fails the run, so
   * the list stays true.
   */
  knownGaps?: ReadonlySet<string>;
}

/** The default forward-value tolerance: float32 arithmetic computed in a different order. */
export const defaultTolerance: Tolerance = { atol: 1e-5, rtol: 1e-4 };

const builders = [
  creationCases,
  elementwiseCases,
  elementwiseMathCases,
  reduceCases,
  reduceMoreCases,
  nnCases,
  reluNanCases,
  activationCases,
  matmulCases,
  movementCases,
  indexingCases,
  windowCases,
  convCases,
  autogradCases,
  seedCases,
  errorCases,
  torchCases,
];

/**
 * Every conformance case, grouped (`creation`, `elementwise`, `reduce`, `nn`,
 * `matmul`, `movement`, `window`, `autograd`, `seed`, `errors`, `torch`).
 * Building the list creates no tensors; each `run()` does its own work and
 * throws a descriptive error on failure.
 */
export function conformanceCases(opts: { tolerance?: Tolerance; quick?: boolean } = {}): ConformanceCase[] {
  const ctx: CaseContext = { tol: opts.tolerance ?? defaultTolerance, quick: opts.quick ?? false };
  return builders.flatMap((b) => b(ctx));
}
