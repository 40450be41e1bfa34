/**
 * One seeded generator serves every random draw in bp (initialisation,
 * shuffling, dropout, synthetic data), so `manualSeed(n)` makes a whole run
 * reproducible. The generator is xoshiro128**, seeded through splitmix32.
 */
const state = new Uint32Array(4);

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

let spareNormal: number | null = null;

/** Seeds every random draw in every bp package. */
export function manualSeed(seed: number): void {
  const sm = splitmix32(Math.floor(seed) ^ 0x5eed);
  for (let i = 0; i < 4; i++) state[i] = sm();
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
  spareNormal = null;
}
manualSeed(Date.now() % 0xffffffff);

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A uniform 32-bit integer from the global generator. */
export function nextUint32(): number {
  const result = Math.imul(rotl(Math.imul(state[1], 5) >>> 0, 7), 9) >>> 0;
  const t = (state[1] << 9) >>> 0;
  state[2] ^= state[0];
  state[3] ^= state[1];
  state[1] ^= state[2];
  state[0] ^= state[3];
  state[2] ^= t;
  state[3] = rotl(state[3], 11);
  return result;
}

/** A uniform float in [0, 1). */
export function random(): number {
  return nextUint32() / 4294967296;
}

/** A standard normal draw (Box-Muller, caching the second value). */
export function randomNormal(): number {
  if (spareNormal !== null) {
    const v = spareNormal;
    spareNormal = null;
    return v;
  }
  let u = 0;
  while (u === 0) u = random();
  const v = random();
  const r = Math.sqrt(-2 * Math.log(u));
  spareNormal = r * Math.sin(2 * Math.PI * v);
  return r * Math.cos(2 * Math.PI * v);
}

/** A uniform integer in [0, n). */
export function randomInt(n: number): number {
  return Math.floor(random() * n);
}

/** A random permutation of 0..n-1 (Fisher-Yates). */
export function randomPermutation(n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** The generator's full state, to save in a checkpoint. */
export interface RandomState {
  s: [number, number, number, number];
  spare: number | null;
}

/** Captures the generator's state (e.g. into a checkpoint). */
export function getRandomState(): RandomState {
  return { s: [state[0], state[1], state[2], state[3]], spare: spareNormal };
}

/** Restores a state from {@link getRandomState}, so a resumed run draws the same numbers. */
export function setRandomState(rs: RandomState): void {
  for (let i = 0; i < 4; i++) state[i] = rs.s[i] >>> 0;
  spareNormal = rs.spare;
}
