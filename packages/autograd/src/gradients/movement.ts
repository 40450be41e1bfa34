import { gather, narrow, pad, reshape, scatterAdd, slice, transpose, type Tensor } from '@bp/tensor';
import { registerGradient } from './registry.js';
import { sumToShape } from './util.js';

registerGradient('reshape', (dy, { attrs }) => [reshape(dy, (attrs.inShape as number[]).slice())]);

registerGradient('transpose', (dy, { attrs }) => {
  const perm = attrs.perm as number[];
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return [transpose(dy, inv)];
});

registerGradient('broadcastTo', (dy, { attrs }) => [sumToShape(dy, attrs.inShape as number[])]);

// The gradient of a slice is zero outside the box: pad it back.
registerGradient('slice', (dy, { attrs }) => {
  const begin = attrs.begin as number[];
  const inShape = attrs.inShape as number[];
  return [pad(dy, inShape.map((d, i) => [begin[i], d - begin[i] - dy.shape[i]] as [number, number]))];
});

registerGradient('pad', (dy, { inputs: [x], attrs }) => {
  const pads = attrs.pads as [number, number][];
  return [slice(dy, pads.map((p) => p[0]), x.shape.slice())];
});

registerGradient('concat', (dy, { attrs }) => {
  const axis = attrs.axis as number;
  const sizes = attrs.sizes as number[];
  const out: Tensor[] = [];
  let start = 0;
  for (const s of sizes) {
    out.push(narrow(dy, axis, start, s));
    start += s;
  }
  return out;
});

registerGradient('gather', (dy, { inputs: [, idx], attrs }) => [
  scatterAdd(dy, idx, attrs.axis as number, (attrs.inShape as number[]).slice()),
  null,
]);

registerGradient('scatterAdd', (dy, { inputs: [, idx], attrs }) => [gather(dy, idx, attrs.axis as number), null]);

