import type { Tolerance } from './parity-cases.js';

/** The tolerance against the CPU backend that the README states: `|gpu - cpu| <= atol + rtol * |cpu|`. */
export const TOLERANCE: Tolerance = { atol: 1e-5, rtol: 1e-4 };
