/**
 * Turns an arbitrary state object (an optimizer's `stateDict()`: nested
 * records of numbers, arrays, booleans and tensors) into plain JSON plus a
 * flat map of named tensors, and back. The tensors can then go into a
 * safetensors file and the rest into its JSON metadata, with nothing lost:
 * JSON round-trips every finite double exactly, and the few non-finite
 * numbers are spelled out.
 */
import { FormatError, Tensor } from '@bp/tensor';
import { terminalQuote } from './terminal-safe.js';

const TENSOR_KEY = '$tensor';
const NUMBER_KEY = '$number';

/** JSON-compatible value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * `value` as JSON, with every tensor moved into `tensors` under `prefix` plus
 * its path (`optimizer.state.0.exp_avg`) and replaced by `{ "$tensor": name }`.
 */
export function packState(value: unknown, prefix: string, tensors: Record<string, Tensor>): Json {
  if (value instanceof Tensor) {
    tensors[prefix] = value;
    return { [TENSOR_KEY]: prefix };
  }
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : { [NUMBER_KEY]: String(value) };
  if (Array.isArray(value)) return value.map((v, i) => packState(v, `${prefix}.${i}`, tensors));
  if (typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) out[k] = packState(v, `${prefix}.${k}`, tensors);
    }
    return out;
  }
  throw new FormatError('checkpoint', `cannot store a value of type ${typeof value} at ${prefix}`);
}

/** How deeply {@link unpackState} follows nested arrays and objects. */
export const MAX_STATE_DEPTH = 64;

/** The inverse of {@link packState}: tensors are looked up in `tensors` by name. */
export function unpackState(json: Json, tensors: Readonly<Record<string, Tensor>>, depth = 0): unknown {
  if (json === null || typeof json !== 'object') return json;
  // Optimizer and training state is a few levels deep; a forged one must not exhaust the stack.
  if (depth >= MAX_STATE_DEPTH) throw new FormatError('checkpoint', `its state nests more than ${MAX_STATE_DEPTH} levels deep`);
  if (Array.isArray(json)) return json.map((v) => unpackState(v, tensors, depth + 1));
  const keys = Object.keys(json);
  if (keys.length === 1 && keys[0] === TENSOR_KEY) {
    const name = json[TENSOR_KEY] as string;
    // Own keys only: a name such as 'constructor' must not find Object.prototype's.
    const t = typeof name === 'string' && Object.hasOwn(tensors, name) ? tensors[name] : undefined;
    if (!(t instanceof Tensor))
      throw new FormatError('checkpoint', `refers to tensor ${terminalQuote(String(name))}, which the file does not contain`);
    return t;
  }
  if (keys.length === 1 && keys[0] === NUMBER_KEY) return Number(json[NUMBER_KEY]);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json))
    Object.defineProperty(out, k, { value: unpackState(v, tensors, depth + 1), enumerable: true, writable: true, configurable: true });
  return out;
}
