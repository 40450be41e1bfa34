import { gather, narrow, pad, reshape, scatterAdd, slice, transpose, type MovementAttrs, type Tensor } from '@bp/tensor';
import type { GradientRules } from './registry.js';
import { sumToShape } from './util.js';

/** The gradient of every movement op. */
export const movementGradients: GradientRules<keyof MovementAttrs> = {
  reshape: (dy, { attrs: { inShape } }) => [reshape(dy, inShape.slice())],
  transpose: (dy, { attrs: { perm } }) => {
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return [transpose(dy, inv)];
  },
  broadcastTo: (dy, { attrs: { inShape } }) => [sumToShape(dy, inShape)],
  // The gradient of a slice is zero outside the box: pad it back.
  slice: (dy, { attrs: { begin, inShape } }) => [
    pad(
      dy,
      inShape.map((d, i) => [begin[i], d - begin[i] - dy.shape[i]] as [number, number]),
    ),
  ],
  pad: (dy, { inputs: [x], attrs: { pads } }) => [
    slice(
      dy,
      pads.map((p) => p[0]),
      x.shape.slice(),
    ),
  ],
  concat: (dy, { attrs: { axis, sizes } }) => {
    const out: Tensor[] = [];
    let start = 0;
    for (const s of sizes) {
      out.push(narrow(dy, axis, start, s));
      start += s;
    }
    return out;
  },
  gather: (dy, { inputs: [, idx], attrs: { axis, inShape } }) => [scatterAdd(dy, idx, axis, inShape.slice()), null],
  scatterAdd: (dy, { inputs: [, idx], attrs: { axis } }) => [gather(dy, idx, axis), null],
};
