/** Element types a tensor can hold. Comparisons produce `int32` zeros and ones. */
export type DType = 'float32' | 'int32';
/** The typed array behind a tensor of each dtype. */
export type TypedArray = Float32Array | Int32Array;

export function arrayFor(dtype: DType, size: number): TypedArray {
  return dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
}

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'int32';
}

/** The dtype of an arithmetic result: int32 only when both sides are int32. */
export function promote(a: DType, b: DType): DType {
  return a === 'int32' && b === 'int32' ? 'int32' : 'float32';
}
