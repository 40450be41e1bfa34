import type { Tensor } from './tensor.js';
import type { ElementwiseAttrs } from './ops/elementwise.js';
import type { MatmulAttrs } from './ops/matmul.js';
import type { MovementAttrs } from './ops/movement.js';
import type { NnAttrs } from './ops/nn.js';
import type { ReduceAttrs } from './ops/reduce.js';

/**
 * Every op that autograd records, with the attributes its gradient rule needs.
 * Each op module declares its own part (`ElementwiseAttrs`, `ReduceAttrs`, …);
 * this is their union. @bp/autograd's gradient table is a mapped type over its
 * keys, so an op recorded here without a gradient rule fails to typecheck.
 * Attributes are plain values (axes, shapes, flags); tensors a rule needs besides
 * the inputs and the output travel as `saved`, never inside attributes.
 */
export interface OpAttrs extends ElementwiseAttrs, ReduceAttrs, MatmulAttrs, MovementAttrs, NnAttrs {}

/** The name of a recorded op. */
export type OpName = keyof OpAttrs;

/** No attributes. */
export type NoAttrs = Record<never, never>;

/** The trailing arguments of {@link record}: attributes (optional when the op has none) and saved tensors. */
export type RecordArgs<K extends OpName> = NoAttrs extends OpAttrs[K]
  ? [attrs?: OpAttrs[K], saved?: readonly Tensor[]]
  : [attrs: OpAttrs[K], saved?: readonly Tensor[]];

/**
 * The seam between @bp/tensor and @bp/autograd. Ops call {@link record} after
 * computing their output; until @bp/autograd installs its hooks, recording is
 * a no-op and tensors carry no graph.
 */
export interface AutogradHooks {
  record<K extends OpName>(op: K, inputs: readonly Tensor[], output: Tensor, attrs: OpAttrs[K], saved: readonly Tensor[]): void;
  backward(t: Tensor, grad?: Tensor, opts?: BackwardOptions): void;
}

/** Options of `Tensor.backward`. */
export interface BackwardOptions {
  /**
   * Keep the recorded graph after this backward pass so that another backward
   * can run through it (PyTorch's `retain_graph`). Default false: the graph's
   * saved tensors are released and a second backward through it throws.
   */
  retainGraph?: boolean;
}

/** Called for every op's output while active (used by `detectAnomaly`). */
export type OpObserver = (op: string, inputs: readonly Tensor[], output: Tensor) => void;

let hooks: AutogradHooks | null = null;
let observer: OpObserver | null = null;
let gradEnabled = true;

/** Installs autograd (done by importing `@bp/autograd`). */
export function installAutograd(h: AutogradHooks): void {
  hooks = h;
}

/** The installed autograd hooks, if any. */
export function autogradHooks(): AutogradHooks | null {
  return hooks;
}

/** Whether ops currently record a graph (false inside `noGrad`). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Whether {@link record} would record an op with these inputs now (autograd installed, grad
 * enabled, an input requiring grad): ops that can save something for their gradient ask first.
 * @internal
 */
export function willRecord(inputs: readonly Tensor[]): boolean {
  return hooks !== null && gradEnabled && inputs.some((t) => t.requiresGrad);
}

/** Turns graph recording on or off; returns the previous setting. */
export function setGradEnabled(on: boolean): boolean {
  const prev = gradEnabled;
  gradEnabled = on;
  return prev;
}

/** Sets (or clears, with null) the observer of every op's output; returns the previous one. */
export function setOpObserver(fn: OpObserver | null): OpObserver | null {
  const prev = observer;
  observer = fn;
  return prev;
}

const EMPTY: readonly Tensor[] = [];

/** Records `output = op(inputs)` for autograd when any input needs a gradient. */
export function record<K extends OpName>(op: K, inputs: readonly Tensor[], output: Tensor, ...rest: RecordArgs<K>): Tensor {
  if (observer) observer(op, inputs, output);
  if (hooks !== null && gradEnabled) {
    for (let i = 0; i < inputs.length; i++) {
      if (inputs[i].requiresGrad) {
        hooks.record(op, inputs, output, (rest[0] ?? {}) as OpAttrs[K], rest[1] ?? EMPTY);
        break;
      }
    }
  }
  return output;
}
