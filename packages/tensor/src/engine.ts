import type { Tensor } from './tensor.js';

/**
 * The seam between @bp/tensor and @bp/autograd. Ops call {@link record} after
 * computing their output; until @bp/autograd installs its hooks, recording is
 * a no-op and tensors carry no graph. Attributes are what the op's gradient
 * rule needs (axes, shapes, flags), never tensors' values.
 */
export interface AutogradHooks {
  record(op: string, inputs: readonly Tensor[], output: Tensor, attrs: Record<string, unknown>): void;
  backward(t: Tensor, grad?: Tensor): void;
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

/** Records `output = op(inputs)` for autograd when any input needs a gradient. */
export function record(op: string, inputs: readonly Tensor[], output: Tensor, attrs: Record<string, unknown> = {}): Tensor {
  if (observer) observer(op, inputs, output);
  if (hooks !== null && gradEnabled) {
    for (let i = 0; i < inputs.length; i++) {
      if (inputs[i].requiresGrad) {
        hooks.record(op, inputs, output, attrs);
        break;
      }
    }
  }
  return output;
}
