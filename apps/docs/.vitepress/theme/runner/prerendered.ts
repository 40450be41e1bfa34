/**
 * Example outputs computed at build time (scripts/prerender.ts) and shown in
 * the page until the reader runs the example.
 */
import type { WorkerMessage } from './protocol.js';

/** What one example showed when it ran at build time, in Node on the CPU backend. */
export interface Prerendered {
  messages: WorkerMessage[];
  /** How long the run took, in milliseconds. */
  ms: number;
  /** Whether it ran at the `quick` sizes. */
  quick: boolean;
  status: 'done' | 'error';
}

/** A short stable key for an example's source (FNV-1a, 32 bits, as hex). */
export function exampleKey(code: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < code.length; i++) {
    h ^= code.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0') + code.length.toString(16);
}
