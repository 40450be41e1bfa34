import type { Backend } from '../backend/backend.js';
import { arrayFor, type TypedArray } from '../dtype.js';
import { binary, unary, where } from './elementwise.js';
import { matmul } from './matmul.js';
import { concat, gather, pad, scatterAdd, slice, transpose } from './movement.js';
import { reduce } from './reduce.js';
import { col2im, im2col } from './window.js';

function softmaxRows(x: TypedArray, rows: number, cols: number, log: boolean): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let mx = -Infinity;
    for (let j = 0; j < cols; j++) if (x[o + j] > mx) mx = x[o + j];
    if (mx === -Infinity) mx = 0;
    let s = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(x[o + j] - mx);
      out[o + j] = e;
      s += e;
    }
    if (log) {
      const ls = Math.log(s) + mx;
      for (let j = 0; j < cols; j++) out[o + j] = x[o + j] - ls;
    } else {
      const inv = 1 / s;
      for (let j = 0; j < cols; j++) out[o + j] *= inv;
    }
  }
  return out;
}

/**
 * The default backend: plain typed arrays in the JavaScript heap, so storage
 * is garbage collected like any object and reading back is free.
 */
export function cpuBackend(): Backend<TypedArray> {
  return {
    name: 'cpu',
    upload: (values, dtype) => {
      const out = arrayFor(dtype, values.length);
      out.set(values);
      return out;
    },
    read: (x) => x,
    readAsync: async (x) => x,
    fill: (size, value, dtype) => arrayFor(dtype, size).fill(value),
    cast: (x, size, _from, to) => {
      const out = arrayFor(to, size);
      if (to === 'int32') for (let i = 0; i < size; i++) out[i] = Math.trunc(x[i]);
      else out.set(x);
      return out;
    },
    unary,
    binary: (op, a, aShape, _ad, b, bShape, _bd, outShape, outDtype) => binary(op, a, aShape, b, bShape, outShape, outDtype),
    where,
    reduce,
    matmul,
    transpose,
    slice,
    pad,
    concat,
    gather,
    scatterAdd,
    im2col,
    col2im,
    fused: {
      softmax: (x, rows, cols) => softmaxRows(x, rows, cols, false),
      logSoftmax: (x, rows, cols) => softmaxRows(x, rows, cols, true),
    },
    info: () => ({ kind: 'cpu', threads: 1 }),
  };
}
