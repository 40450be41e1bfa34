/** One MLP training measurement: `steps` of an epoch (0 = all of it) at `batchSize`. */
export interface MlpWorkload {
  batchSize: number;
  samples: number;
  steps: number;
}

/** Timing of one MLP run; `epochSeconds` extrapolates the timed steps to a whole epoch. */
export interface MlpResult {
  batchSize: number;
  stepsTimed: number;
  secondsTimed: number;
  epochSeconds: number;
  finalLoss: number;
  /** CPU time of this process (all its threads) over the timed steps, where measured. */
  cpuSeconds?: number;
}

/** Median of a non-empty list (timings on a shared machine are noisy; the median ignores outliers). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/**
 * MNIST-shaped random data: `samples x 784` pixels uniform in [0, 1) and labels in 0..9,
 * from a small linear congruential generator (the data only has to be the same size as
 * MNIST, and drawing 47 million values this way takes a fraction of a second).
 */
export function syntheticMnist(samples: number, seed = 1): { images: Float32Array; labels: Int32Array } {
  let s = seed >>> 0;
  const images = new Float32Array(samples * 784);
  for (let i = 0; i < images.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    images[i] = s * 2.3283064365386963e-10;
  }
  const labels = new Int32Array(samples);
  for (let i = 0; i < samples; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    labels[i] = Math.floor(s * 2.3283064365386963e-10 * 10);
  }
  return { images, labels };
}

/**
 * Starts a CPU-time measurement of this process (all its threads): the returned function gives
 * the seconds since, or undefined where there is no `process.cpuUsage` (a browser).
 */
export function cpuClock(): () => number | undefined {
  const proc = (globalThis as { process?: { cpuUsage?(prev?: { user: number; system: number }): { user: number; system: number } } })
    .process;
  if (typeof proc?.cpuUsage !== 'function') return () => undefined;
  const c0 = proc.cpuUsage();
  return () => {
    const c = proc.cpuUsage!(c0);
    return (c.user + c.system) / 1e6;
  };
}
