/**
 * A drawn digit made to look like an MNIST image: the ink's bounding box
 * scaled to fit 20×20 (keeping its aspect ratio), then moved so that its
 * centre of mass sits at the centre of the 28×28 image, as the MNIST digits
 * were prepared.
 */

/**
 * `ink`: a square of `size`×`size` ink values (0 = paper, 1 = ink), row-major.
 * Returns 784 values in 0..1, or null when nothing was drawn.
 */
export function mnistLike(ink: ArrayLike<number>, size: number): number[] | null {
  let [r0, r1, c0, c1] = [size, -1, size, -1];
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      if (ink[r * size + c] > 0.05) {
        r0 = Math.min(r0, r);
        r1 = Math.max(r1, r);
        c0 = Math.min(c0, c);
        c1 = Math.max(c1, c);
      }
    }
  }
  if (r1 < 0) return null;
  const bh = r1 - r0 + 1;
  const bw = c1 - c0 + 1;
  const scale = 20 / Math.max(bh, bw);
  // Box-filter the ink into a 20×20 (or narrower) patch: each target pixel averages the source pixels it covers.
  const ph = Math.max(1, Math.round(bh * scale));
  const pw = Math.max(1, Math.round(bw * scale));
  const patch = new Float64Array(ph * pw);
  for (let y = 0; y < ph; y++) {
    const sy0 = r0 + Math.floor(y / scale);
    const sy1 = Math.max(sy0 + 1, Math.min(r1 + 1, r0 + Math.floor((y + 1) / scale)));
    for (let x = 0; x < pw; x++) {
      const sx0 = c0 + Math.floor(x / scale);
      const sx1 = Math.max(sx0 + 1, Math.min(c1 + 1, c0 + Math.floor((x + 1) / scale)));
      let sum = 0;
      for (let sy = sy0; sy < sy1; sy++) for (let sx = sx0; sx < sx1; sx++) sum += ink[sy * size + sx];
      patch[y * pw + x] = sum / ((sy1 - sy0) * (sx1 - sx0));
    }
  }
  // Centre of mass of the patch, placed at (14, 14).
  let m = 0,
    my = 0,
    mx = 0;
  for (let y = 0; y < ph; y++)
    for (let x = 0; x < pw; x++) {
      const v = patch[y * pw + x];
      m += v;
      my += v * (y + 0.5);
      mx += v * (x + 0.5);
    }
  const oy = Math.round(14 - my / m);
  const ox = Math.round(14 - mx / m);
  const out = new Array<number>(784).fill(0);
  for (let y = 0; y < ph; y++)
    for (let x = 0; x < pw; x++) {
      const ty = y + oy;
      const tx = x + ox;
      if (ty >= 0 && ty < 28 && tx >= 0 && tx < 28) out[ty * 28 + tx] = Math.min(1, patch[y * pw + x]);
    }
  return out;
}
