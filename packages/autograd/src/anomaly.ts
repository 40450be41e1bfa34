import { BpError, NotAvailableError, Tensor, fmtShape, getBackend } from '@bp/tensor';
import { setOpObserver } from '@bp/tensor/internal';
import { setGradObserver } from './tape.js';

/** Thrown by {@link detectAnomaly} at the first op whose result holds NaN or Infinity. */
export class AnomalyError extends BpError {}

function firstBad(t: Tensor): number {
  if (t.dtype !== 'float32') return -1;
  const v = t.dataSync();
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return i;
  return -1;
}

function describe(t: Tensor, i: number): string {
  const v = t.dataSync()[i];
  return `${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'} at flat index ${i} of ${fmtShape(t.shape)}`;
}

/**
 * A matrix product recorded by `matmulT` (a Linear layer's `x @ Wᵀ`, and
 * gradients) may have transposed either input, so `[n,k]` and `[m,k]` can be
 * a valid product: says which one, read from the output's shape.
 */
function transposeNote(inputs: readonly Tensor[], output: Tensor): string {
  const [a, b] = inputs;
  if (!a || !b || a.rank < 2 || b.rank < 2 || output.rank < 2) return '';
  const transA = a.shape[a.rank - 2] !== output.shape[output.rank - 2];
  const transB = b.shape[b.rank - 1] !== output.shape[output.rank - 1];
  return transA || transB ? ` (computed as ${fmtShape(a.shape)}${transA ? 'ᵀ' : ''} @ ${fmtShape(b.shape)}${transB ? 'ᵀ' : ''})` : '';
}

/**
 * Runs `fn` checking the result of every op, forward and backward, and throws
 * an {@link AnomalyError} naming the first op that produced NaN or Infinity
 * (as PyTorch's `detect_anomaly`). Slow: it reads every result; use it to debug.
 *
 * It reads each result synchronously, as the op makes it, so it needs a backend that can
 * (`syncRead` not false): on one that reads only asynchronously (WebGPU) it throws a
 * `NotAvailableError` naming the backend; run the computation on the CPU backend to find the op.
 */
export function detectAnomaly<T>(fn: () => T): T {
  const b = getBackend();
  if (b.syncRead === false) {
    throw new NotAvailableError(
      'detectAnomaly',
      `the '${b.name}' backend reads values only asynchronously, and detectAnomaly reads every result as it is made: ` +
        `run it on a synchronous backend (await setBackend('cpu'))`,
    );
  }
  const prevOp = setOpObserver((op, inputs, output) => {
    const i = firstBad(output);
    if (i < 0) return;
    const badIn = inputs.findIndex((x) => firstBad(x) >= 0);
    const why = badIn >= 0 ? ` (its input ${badIn} already held non-finite values)` : '';
    throw new AnomalyError(
      'detectAnomaly',
      `op '${op}' produced ${describe(output, i)} from inputs ${inputs.map((x) => fmtShape(x.shape)).join(', ')}` +
        `${op === 'matmul' || op === 'matmulT' ? transposeNote(inputs, output) : ''}${why}`,
    );
  });
  const prevGrad = setGradObserver((op, grads) => {
    grads.forEach((g, j) => {
      if (!g) return;
      const i = firstBad(g);
      if (i >= 0) {
        throw new AnomalyError('detectAnomaly', `the backward of op '${op}' produced ${describe(g, i)} for input ${j}`);
      }
    });
  });
  const restore = () => {
    setOpObserver(prevOp);
    setGradObserver(prevGrad);
  };
  let result: T;
  try {
    result = fn();
  } catch (e) {
    restore();
    throw e;
  }
  if (result instanceof Promise) return result.finally(restore) as T;
  restore();
  return result;
}
