import { clamp, maximum, minimum, min, prod, type Tensor } from '@bp/tensor';

type Axis = number | number[];
type RefOp = (xs: Tensor[], a: Record<string, unknown>) => Tensor;

/** bp's side of the reference ops for the elementwise math, activations, reductions and scans. */
export const mathOps: Record<string, RefOp> = {
  prod: ([x], a) => prod(x, a.axis as Axis | undefined, (a.keepDims as boolean | undefined) ?? false),
  min: ([x], a) => min(x, a.axis as Axis | undefined, (a.keepDims as boolean | undefined) ?? false),
  maximum: ([a, b]) => maximum(a, b),
  minimum: ([a, b]) => minimum(a, b),
  clampT: ([x, lo, hi]) => clamp(x, lo, hi),
};
