/**
 * Cases that fail when values can be read only asynchronously because the op itself reads
 * synchronously (not a debug value check, which the runner turns off there): gather,
 * scatter and scatterAdd along a dim (torch.gather) and index with index tensors compute
 * flat positions on the host; repeatInterleave with a counts tensor reads the counts;
 * detectAnomaly reads every output to look for NaN and Infinity. Each entry must keep
 * failing (it.fails) until its op no longer reads. Pass it as `knownGaps` when running
 * the suite on a backend with `syncRead: false` (WebGPU).
 */
export const asyncReadGaps: ReadonlySet<string> = new Set<string>([
  'autograd > detectAnomaly names the forward op that made NaN or Infinity',
  'autograd > detectAnomaly names the op whose backward made NaN or Infinity',
  'movement > gather along a dim (torch.gather), indexSelect, scatter and scatterAdd along a dim',
  'movement > index gather scatter scatterAdd indexSelect maskedFill einsum pad modes: gradcheck',
  'movement > index: slices with steps, integers, new axes, ellipsis, index tensors',
  'movement > repeat and repeatInterleave',
  'torch > gather: matches PyTorch 1.13.0a0: gather (torch.gather) dim 0, smaller index',
  'torch > gather: matches PyTorch 1.13.0a0: gather (torch.gather) dim 1, repeated',
  'torch > index: matches PyTorch 1.13.0a0: index x[:, i, 0, j] (not adjacent after the integer: in place)',
  'torch > index: matches PyTorch 1.13.0a0: index x[i, :, j] (separated: first)',
  'torch > index: matches PyTorch 1.13.0a0: index x[i, j] broadcast, repeated',
  'torch > scatter: matches PyTorch 1.13.0a0: scatter dim 1, distinct positions',
  'torch > scatterAdd: matches PyTorch 1.13.0a0: scatterAdd (scatter_add) dim 0, index smaller',
  'torch > scatterAdd: matches PyTorch 1.13.0a0: scatterAdd (scatter_add) dim 1',
]);
