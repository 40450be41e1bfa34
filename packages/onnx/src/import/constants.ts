import { FormatError } from '@bp/tensor';
import { DataType, type TensorProto, int64 } from '../proto/onnx.js';

/** A constant of the graph (an initializer or a folded Constant/Transpose), as plain values. */
export interface Constant {
  dims: number[];
  /** float32 values for FLOAT tensors, plain numbers for integer ones. */
  values: Float32Array | number[];
  dataType: number;
  /** Where the values come from, for messages: `initializer "0.weight"`, or the Constant node. */
  what?: string;
}

/** Quotes a name read from a file for an error message: escaped, and cut at 60 characters. */
export function shown(s: string | undefined | null): string {
  const t = s ?? '';
  return JSON.stringify(t.length > 60 ? `${t.slice(0, 60)}…` : t);
}

/**
 * Reads an initializer's values. Every size is checked against the bytes the
 * file actually holds before anything is allocated, so a forged shape cannot
 * make the reader allocate more than the file's size.
 */
export function readTensor(t: TensorProto, source: string, what: string): Constant {
  if ((t.data_location ?? 0) !== 0 || (t.external_data?.length ?? 0) > 0) {
    throw new FormatError(source, `${what} keeps its data in an external file; bp reads only self-contained .onnx files`);
  }
  if (t.segment) throw new FormatError(source, `${what} is a segment of a tensor; bp reads only whole tensors`);
  const dims = (t.dims ?? []).map(int64);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new FormatError(source, `${what} has invalid dims [${dims.join(', ')}]`);
  let count = 1;
  for (const d of dims) {
    count *= d;
    if (count > 2 ** 31) throw new FormatError(source, `${what} has dims [${dims.join(', ')}] too large to load`);
  }
  const dataType = t.data_type ?? 0;
  const raw = t.raw_data && t.raw_data.length > 0 ? t.raw_data : null;
  const mismatch = (have: number, unit: string) =>
    new FormatError(source, `${what} has dims [${dims.join(', ')}] (${count} values) but holds ${have} ${unit}`);
  if (dataType === DataType.FLOAT) {
    if (raw) {
      if (raw.length !== count * 4) throw mismatch(raw.length, 'bytes of raw data');
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const values = new Float32Array(count);
      for (let i = 0; i < count; i++) values[i] = view.getFloat32(i * 4, true);
      return { dims, values, dataType, what };
    }
    const data = t.float_data ?? [];
    if (data.length !== count) throw mismatch(data.length, 'float_data values');
    return { dims, values: Float32Array.from(data), dataType, what };
  }
  if (dataType === DataType.INT64 || dataType === DataType.INT32) {
    if (raw) {
      const width = dataType === DataType.INT64 ? 8 : 4;
      if (raw.length !== count * width) throw mismatch(raw.length, 'bytes of raw data');
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const values: number[] = [];
      for (let i = 0; i < count; i++) values.push(width === 8 ? Number(view.getBigInt64(i * 8, true)) : view.getInt32(i * 4, true));
      return { dims, values, dataType, what };
    }
    const data = dataType === DataType.INT64 ? (t.int64_data ?? []).map(int64) : (t.int32_data ?? []);
    if (data.length !== count) throw mismatch(data.length, 'integer values');
    return { dims, values: data.slice(), dataType, what };
  }
  throw new FormatError(source, `${what} has data type ${dataType}; bp reads float32 weights and int64/int32 shapes only`);
}

/**
 * The shortest decimal that is the same float32 as `f`: a float attribute
 * or weight written from 1e-5 reads back as 1e-5, not 0.0000099999997.
 */
export function shortestFloat32(f: number): number {
  if (!Number.isFinite(f)) return f;
  const single = Math.fround(f);
  for (let p = 1; p <= 9; p++) {
    const d = Number(single.toPrecision(p));
    if (Math.fround(d) === single) return d;
  }
  return single;
}
