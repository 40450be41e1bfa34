import type { AdamConstants } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { DTypeError, ShapeError, fmtShape } from '../errors.js';
import { bumpVersion, ensureExclusive, type Tensor } from '../tensor.js';
import { checkTensor } from './util.js';

/** Whether the active backend has a fused Adam kernel ({@link adamUpdateInPlace} would run). */
export function hasFusedAdam(): boolean {
  return getBackend().fused?.adamUpdate !== undefined;
}

/**
 * One Adam/AdamW step on the active backend's fused kernel, written in place into the
 * storage of `param`, `expAvg`, `expAvgSq` and `maxExpAvgSq` (every tensor sharing
 * that storage sees the change, so the caller must own it). Without AMSGrad, the parameter and the
 * moments may first move to a storage where the backend updates them fastest (the same values;
 * every tensor sharing their storage follows). Not recorded by autograd.
 * Returns false and changes nothing when the backend has no such kernel; the caller then
 * composes the update from ops. Throws unless all tensors are float32 with `param`'s size.
 */
export function adamUpdateInPlace(
  param: Tensor,
  grad: Tensor,
  expAvg: Tensor,
  expAvgSq: Tensor,
  maxExpAvgSq: Tensor | null,
  c: AdamConstants,
): boolean {
  const named: [string, Tensor | null][] = [
    ['param', param],
    ['grad', grad],
    ['expAvg', expAvg],
    ['expAvgSq', expAvgSq],
    ['maxExpAvgSq', maxExpAvgSq],
  ];
  for (const [name, t] of named) {
    if (t === null && name === 'maxExpAvgSq') continue;
    checkTensor('adamUpdateInPlace', t, name);
    if (t.dtype !== 'float32') throw new DTypeError('adamUpdateInPlace', `${name} must be float32, got ${t.dtype} ${fmtShape(t.shape)}`);
    if (t.size !== param.size) {
      throw new ShapeError('adamUpdateInPlace', `${name} ${fmtShape(t.shape)} does not match param ${fmtShape(param.shape)}`);
    }
  }
  const b = getBackend();
  const kernel = b.fused?.adamUpdate;
  if (kernel === undefined) return false;
  for (const t of [param, expAvg, expAvgSq, maxExpAvgSq]) if (t !== null) ensureExclusive(t);
  const place = b.fused?.adamPlace;
  const refs = [param, expAvg, expAvgSq].map((t) => t._live());
  if (place !== undefined && maxExpAvgSq === null && new Set(refs).size === 3) {
    // Parameter and moments move to where the backend updates them fastest (the same values; a
    // storage already there stays: replacing it with itself does nothing).
    const placed = place(param._on(b), expAvg._on(b), expAvgSq._on(b), param.size);
    refs.forEach((r, i) => r.replace(placed[i], b));
  }
  kernel(param._on(b), grad._on(b), expAvg._on(b), expAvgSq._on(b), maxExpAvgSq === null ? null : maxExpAvgSq._on(b), param.size, c);
  for (const t of [param, expAvg, expAvgSq, maxExpAvgSq]) if (t !== null) bumpVersion(t);
  return true;
}
