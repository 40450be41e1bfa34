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
  'movement > repeat and repeatInterleave',
]);
