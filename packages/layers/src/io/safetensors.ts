import { ArgumentError, FormatError, type Tensor, fmtShape, isTensor, tensor } from '@bp/tensor';

/**
 * The safetensors format (https://huggingface.co/docs/safetensors), written
 * and read here without dependencies:
 *
 *     8 bytes   N, the header length, unsigned 64-bit little-endian
 *     N bytes   JSON: { "name": { "dtype", "shape", "data_offsets": [begin, end] }, ..., "__metadata__": {...} }
 *               padded with spaces to a multiple of 8
 *     rest      the tensors' bytes, little-endian, row-major; offsets are relative to here
 *
 * The writer follows the reference implementation byte for byte: tensors
 * sorted by dtype (widest first, I64 > F32 > I32) then by name, laid out
 * back to back in that order, `__metadata__` first in the header, compact JSON.
 */

/** Element types bp reads: F32 and I32 natively, I64 and F64 converted to int32/float32. */
export type SafetensorsDType = 'F32' | 'I32' | 'I64' | 'F64';

const BYTES: Record<SafetensorsDType, number> = { F32: 4, I32: 4, I64: 8, F64: 8 };
// Rank of each dtype in the reference implementation's Dtype enum (I32 < F32 < F64 < I64 there).
const ORDER: Record<SafetensorsDType, number> = { I32: 0, F32: 1, F64: 2, I64: 3 };

/** The parsed header entry of one tensor. */
export interface SafetensorsEntry {
  dtype: SafetensorsDType;
  shape: number[];
  dataOffsets: [number, number];
}

/** A decoded file: tensors by name, and the free-form `__metadata__` (empty when absent). */
export interface SafetensorsContents {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/** Options of {@link encodeSafetensors}. */
export interface EncodeSafetensorsOptions {
  /** String pairs stored under `__metadata__` (e.g. `{ format: 'pt' }`). */
  metadata?: Record<string, string>;
  /** Names of int32 tensors to store as I64, the dtype PyTorch uses for integer buffers such as `num_batches_tracked`. */
  int64?: Iterable<string>;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function compareBytes(a: string, b: string): number {
  // Rust compares strings byte-wise (UTF-8); JS compares UTF-16 units. They agree except
  // around astral characters, so compare the encoded bytes to stay exact.
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  const n = Math.min(ea.length, eb.length);
  for (let i = 0; i < n; i++) if (ea[i] !== eb[i]) return ea[i] - eb[i];
  return ea.length - eb.length;
}

/**
 * Serialises tensors to safetensors bytes (float32 as F32, int32 as I32, or
 * I64 for the names in `opts.int64`), the way Python's `safetensors.save`
 * does, so PyTorch reads the result with `safetensors.torch.load_file`.
 */
export function encodeSafetensors(tensors: Record<string, Tensor>, opts: EncodeSafetensorsOptions = {}): Uint8Array {
  if (tensors === null || typeof tensors !== 'object') throw new ArgumentError('encodeSafetensors', 'expected a record of tensors by name');
  const int64 = new Set(opts.int64 ?? []);
  const items: { name: string; t: Tensor; dtype: SafetensorsDType }[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new ArgumentError('encodeSafetensors', "'__metadata__' is reserved and cannot name a tensor");
    if (!isTensor(t)) throw new ArgumentError('encodeSafetensors', `'${name}' is not a Tensor`);
    let dtype: SafetensorsDType = t.dtype === 'float32' ? 'F32' : 'I32';
    if (int64.has(name)) {
      if (t.dtype !== 'int32')
        throw new ArgumentError('encodeSafetensors', `'${name}' is ${t.dtype}; only int32 tensors can be stored as I64`);
      dtype = 'I64';
    }
    items.push({ name, t, dtype });
  }
  items.sort((a, b) => ORDER[b.dtype] - ORDER[a.dtype] || compareBytes(a.name, b.name));

  // Built by hand rather than with JSON.stringify(object): JS objects move integer-like
  // keys ("0", "12") to the front, and the order of entries is part of the format's bytes.
  const parts: string[] = [];
  if (opts.metadata !== undefined) {
    const meta: string[] = [];
    for (const [k, v] of Object.entries(opts.metadata)) {
      if (typeof v !== 'string') throw new ArgumentError('encodeSafetensors', `metadata '${k}' must be a string, got ${typeof v}`);
      meta.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    parts.push(`"__metadata__":{${meta.join(',')}}`);
  }
  let offset = 0;
  for (const { name, t, dtype } of items) {
    const n = t.size * BYTES[dtype];
    parts.push(`${JSON.stringify(name)}:{"dtype":"${dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + n}]}`);
    offset += n;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const { t, dtype } of items) {
    const values = t.dataSync();
    if (dtype === 'I64') {
      for (let i = 0; i < values.length; i++) view.setBigInt64(pos + 8 * i, BigInt(values[i]), true);
    } else if (littleEndian) {
      out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), pos);
    } else {
      for (let i = 0; i < values.length; i++) {
        if (dtype === 'F32') view.setFloat32(pos + 4 * i, values[i], true);
        else view.setInt32(pos + 4 * i, values[i], true);
      }
    }
    pos += values.length * BYTES[dtype];
  }
  return out;
}

/** Options of {@link decodeSafetensors}. */
export interface DecodeSafetensorsOptions {
  /** The file name used in error messages (default `safetensors`). */
  source?: string;
}

function fail(source: string, message: string): never {
  throw new FormatError(source, message);
}

/**
 * A name read from a file, fit for an error message: in single quotes, with
 * control characters (C1 and bidirectional controls too) escaped as `\\uXXXX`
 * and cut after 60 characters.
 */
export function quoteName(name: string): string {
  const cut = name.length > 60 ? `${name.slice(0, 60)}…` : name;
  const escaped = JSON.stringify(cut).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'");
  return `'${escaped}'`.replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Why `JSON.parse` failed, without the snippet of the text that V8 puts in
 * its messages (the text may be any file): the position when known.
 */
export function jsonErrorWhere(e: unknown): string {
  const message = e instanceof Error ? e.message : '';
  const pos = /position (\d+)/.exec(message);
  if (pos) return `malformed at character ${pos[1]}`;
  if (/end of (JSON|data)/i.test(message)) return 'it ends too early';
  return 'malformed';
}

/** Sets `record[key] = value` as an own property, even for keys such as `__proto__`. */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The keys of the top-level JSON object in `text` (already known to parse), in
 * order and with repeats: `JSON.parse` keeps only the last of duplicate keys,
 * which the safetensors reference refuses.
 */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (ch === '{' || ch === '[') {
      depth++;
      expectKey = ch === '{' && depth === 1;
    } else if (ch === '}' || ch === ']') {
      depth--;
    } else if (ch === ',') {
      expectKey = depth === 1;
    }
  }
  return keys;
}

/**
 * Parses and validates the header: its length, JSON, dtypes, shapes, and that
 * the data offsets tile the byte buffer exactly (in range, no overlap, no
 * gap), as the reference reader requires.
 */
export function readSafetensorsHeader(
  bytes: Uint8Array,
  opts: DecodeSafetensorsOptions = {},
): {
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  dataStart: number;
} {
  const source = opts.source ?? 'safetensors';
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError('decodeSafetensors', 'expected the file contents as a Uint8Array');
  if (bytes.length < 8) fail(source, `file is ${bytes.length} bytes, too short for the 8-byte header length at byte 0`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) {
    // The value itself is not shown: for a file that is not safetensors at all it is just its first 8 bytes.
    fail(source, `the header length in bytes 0..8 runs past the end of the ${bytes.length}-byte file (is it a safetensors file?)`);
  }
  const headerLen = Number(n);
  const dataStart = 8 + headerLen;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    fail(source, `header (bytes 8..${dataStart}) is not valid UTF-8`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    fail(source, `header (bytes 8..${dataStart}) is not valid JSON (${jsonErrorWhere(e)})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    fail(source, `header (bytes 8..${dataStart}) must be a JSON object of tensors`);
  }
  const seen = new Set<string>();
  for (const key of topLevelKeys(text)) {
    if (seen.has(key)) fail(source, `header (bytes 8..${dataStart}) names ${quoteName(key)} twice`);
    seen.add(key);
  }
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries = new Map<string, SafetensorsEntry>();
  for (const [name, raw] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(source, '__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(source, `__metadata__ entry ${quoteName(k)} must be a string, got ${typeof v}`);
        setOwn(metadata, k, v);
      }
      continue;
    }
    if (raw === null || typeof raw !== 'object')
      fail(source, `tensor ${quoteName(name)}: entry must be an object with dtype, shape and data_offsets`);
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string' || !Object.hasOwn(BYTES, dtype)) {
      fail(
        source,
        `tensor ${quoteName(name)}: unsupported dtype ${typeof dtype === 'string' ? quoteName(dtype) : typeof dtype} (bp reads F32, I32, I64 and F64)`,
      );
    }
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      fail(source, `tensor ${quoteName(name)}: shape must be an array of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => !Number.isSafeInteger(o) || o < 0)) {
      fail(source, `tensor ${quoteName(name)}: data_offsets must be [begin, end] byte offsets`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLen) {
      fail(
        source,
        `tensor ${quoteName(name)}: data_offsets [${begin}, ${end}] (file bytes ${dataStart + begin}..${dataStart + end}) ` +
          `are out of range for the ${dataLen}-byte data section starting at byte ${dataStart}`,
      );
    }
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const expected = numel * BYTES[dtype as SafetensorsDType];
    if (end - begin !== expected) {
      fail(
        source,
        `tensor ${quoteName(name)}: ${dtype} ${fmtShape(shape as number[])} needs ${expected} bytes but data_offsets [${begin}, ${end}] ` +
          `span ${end - begin} (file byte ${dataStart + begin})`,
      );
    }
    entries.set(name, { dtype: dtype as SafetensorsDType, shape: (shape as number[]).slice(), dataOffsets: [begin, end] });
  }
  // The offsets must tile the data section: sorted by begin, each tensor starts where the previous ended.
  const sorted = [...entries.entries()].sort(
    (a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1],
  );
  let expectedBegin = 0;
  let prevName: string | null = null;
  for (const [name, e] of sorted) {
    const [begin, end] = e.dataOffsets;
    if (begin < expectedBegin) {
      fail(
        source,
        `tensor ${quoteName(name)}: data_offsets [${begin}, ${end}] overlap tensor ${quoteName(prevName ?? '')} (file byte ${dataStart + begin})`,
      );
    }
    if (begin > expectedBegin) {
      fail(
        source,
        `tensor ${quoteName(name)}: data_offsets begin at ${begin}, leaving a gap after byte ${expectedBegin} of the data section (file byte ${dataStart + expectedBegin})`,
      );
    }
    expectedBegin = end;
    prevName = name;
  }
  if (expectedBegin !== dataLen) {
    fail(
      source,
      `the tensors cover ${expectedBegin} bytes but the data section (from file byte ${dataStart}) has ${dataLen}: trailing bytes at file byte ${dataStart + expectedBegin}`,
    );
  }
  return { entries, metadata, dataStart };
}

/**
 * Reads safetensors bytes into tensors: F32 as float32, I32 as int32, I64 as
 * int32 (refusing values outside its range), F64 as float32. A corrupted or
 * inconsistent file is refused with a `FormatError` that names the tensor or
 * the byte offset.
 */
export function decodeSafetensors(bytes: Uint8Array, opts: DecodeSafetensorsOptions = {}): SafetensorsContents {
  const source = opts.source ?? 'safetensors';
  const { entries, metadata, dataStart } = readSafetensorsHeader(bytes, opts);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors: Record<string, Tensor> = {};
  for (const [name, e] of entries) {
    const start = dataStart + e.dataOffsets[0];
    const count = (e.dataOffsets[1] - e.dataOffsets[0]) / BYTES[e.dtype];
    let values: Float32Array | Int32Array;
    if (e.dtype === 'F32' || e.dtype === 'I32') {
      if (littleEndian) {
        // A copy: the data may sit at any alignment, and the tensor must not alias the file buffer.
        // Not bytes.slice(): on a Node Buffer that is a view into a shared pool, not a copy.
        const copy = new Uint8Array(count * 4);
        copy.set(bytes.subarray(start, start + count * 4));
        values = e.dtype === 'F32' ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
      } else {
        values = e.dtype === 'F32' ? new Float32Array(count) : new Int32Array(count);
        for (let i = 0; i < count; i++)
          values[i] = e.dtype === 'F32' ? view.getFloat32(start + 4 * i, true) : view.getInt32(start + 4 * i, true);
      }
    } else if (e.dtype === 'I64') {
      values = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = view.getBigInt64(start + 8 * i, true);
        if (v > 2147483647n || v < -2147483648n) {
          fail(source, `tensor ${quoteName(name)}: I64 value ${v} at file byte ${start + 8 * i} does not fit in int32`);
        }
        values[i] = Number(v);
      }
    } else {
      values = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        const v = view.getFloat64(start + 8 * i, true);
        values[i] = v;
        if (Number.isFinite(v) && !Number.isFinite(values[i])) {
          fail(source, `tensor ${quoteName(name)}: F64 value ${v} at file byte ${start + 8 * i} is beyond the float32 range (±3.4e38)`);
        }
      }
    }
    setOwn(tensors, name, tensor(values, { shape: e.shape, dtype: values instanceof Int32Array ? 'int32' : 'float32' }));
  }
  return { tensors, metadata };
}
