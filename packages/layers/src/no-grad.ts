import { setGradEnabled } from '@bp/tensor';

/**
 * Runs `fn` without recording a graph, like @bp/autograd's `noGrad` (synchronous
 * `fn` only). The layers use this one so that a model can be loaded and run
 * with @bp/tensor alone; without @bp/autograd no graph is recorded anyway.
 * @internal
 */
export function withoutGraph<T>(fn: () => T): T {
  const prev = setGradEnabled(false);
  try {
    return fn();
  } finally {
    setGradEnabled(prev);
  }
}
