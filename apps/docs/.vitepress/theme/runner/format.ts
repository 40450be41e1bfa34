/**
 * Text forms of values for the example console: tensors print their dtype,
 * shape and numbers to 4 significant digits, so outputs read like PyTorch's.
 */
import { Tensor, type NestedArray } from '@bp/tensor';

/** A number the way the console shows it: short, with exponents only for the very large or small. */
export function fmtNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-4)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

function fmtNested(a: NestedArray, maxItems: number): string {
  if (!Array.isArray(a)) return fmtNumber(a);
  const parts = a.slice(0, maxItems).map((x) => fmtNested(x as NestedArray, maxItems));
  if (a.length > maxItems) parts.push(`… ${a.length - maxItems} more`);
  return `[${parts.join(', ')}]`;
}

/** `tensor([[1, 2], [3, 4]])  float32 [2,2]`, with long axes cut. */
export function fmtTensor(t: Tensor, maxItems = 8): string {
  const body = t.rank === 0 ? fmtNumber(t.item()) : fmtNested(t.toArray(), maxItems);
  const flags = t.requiresGrad ? ', requiresGrad' : '';
  return `tensor(${body})  ${t.dtype} [${t.shape.join(',')}]${flags}`;
}

/** Any value as console text. */
export function fmtValue(v: unknown, depth = 0): string {
  if (v instanceof Tensor) return fmtTensor(v);
  if (typeof v === 'string') return depth === 0 ? v : JSON.stringify(v);
  if (typeof v === 'number') return fmtNumber(v);
  if (v === null || v === undefined || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'function') return `[function ${v.name || 'anonymous'}]`;
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const arr = Array.from(v as unknown as ArrayLike<number>);
    const head = arr.slice(0, 16).map(fmtNumber).join(', ');
    return `${v.constructor.name}(${arr.length}) [${head}${arr.length > 16 ? ', …' : ''}]`;
  }
  if (depth > 3) return '…';
  if (Array.isArray(v)) return `[${v.map((x) => fmtValue(x, depth + 1)).join(', ')}]`;
  if (v instanceof Map) return `Map {${[...v].map(([k, x]) => `${fmtValue(k, depth + 1)} => ${fmtValue(x, depth + 1)}`).join(', ')}}`;
  const entries = Object.entries(v as Record<string, unknown>);
  const name = (v as object).constructor?.name;
  const prefix = name && name !== 'Object' ? `${name} ` : '';
  return `${prefix}{ ${entries.map(([k, x]) => `${k}: ${fmtValue(x, depth + 1)}`).join(', ')} }`;
}
