/**
 * The ONNX protobuf messages, encoded and decoded by protobufjs from the
 * official onnx.proto (compiled to a JSON descriptor by scripts/gen-schema.mjs).
 * The interfaces below type the subset of fields bp writes and reads; field
 * names are the .proto's own.
 */
import protobuf from 'protobufjs/light.js';
import { FormatError } from '@bp/tensor';
import { ONNX_SCHEMA } from './onnx-schema.js';

/** `TensorProto.DataType` values bp uses. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;

/** `AttributeProto.AttributeType` values bp uses. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

/** An int64 as protobufjs hands it out: a number, or a `Long` when the value needs 64 bits. */
export type Int64 = number | { toNumber(): number; low: number; high: number };

/** `onnx.TensorProto` (dense tensors only). */
export interface TensorProto {
  name?: string;
  dims?: Int64[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: Int64[];
  raw_data?: Uint8Array;
  data_location?: number;
  external_data?: unknown[];
  segment?: unknown;
}

/** `onnx.AttributeProto`. */
export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: Int64[];
  g?: unknown;
  graphs?: unknown[];
  ref_attr_name?: string;
}

/** `onnx.NodeProto`. */
export interface NodeProto {
  name?: string;
  op_type?: string;
  domain?: string;
  input?: string[];
  output?: string[];
  attribute?: AttributeProto[];
  doc_string?: string;
}

/** One dimension of a tensor type: a fixed size or a named (dynamic) one. */
export interface DimensionProto {
  dim_value?: Int64;
  dim_param?: string;
}

/** `onnx.ValueInfoProto` for dense float tensors. */
export interface ValueInfoProto {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: DimensionProto[] } } };
  doc_string?: string;
}

/** `onnx.GraphProto`. */
export interface GraphProto {
  name?: string;
  node?: NodeProto[];
  initializer?: TensorProto[];
  sparse_initializer?: unknown[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  value_info?: ValueInfoProto[];
  doc_string?: string;
}

/** `onnx.OperatorSetIdProto`. */
export interface OperatorSetIdProto {
  domain?: string;
  version?: Int64;
}

/** `onnx.ModelProto`. */
export interface ModelProto {
  ir_version?: Int64;
  opset_import?: OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: Int64;
  doc_string?: string;
  graph?: GraphProto;
  functions?: unknown[];
  metadata_props?: { key?: string; value?: string }[];
}

let modelType: protobuf.Type | null = null;

/** The `onnx.ModelProto` message type, built from the schema on first use. */
export function modelProto(): protobuf.Type {
  if (modelType === null) {
    const root = protobuf.Root.fromJSON(ONNX_SCHEMA as protobuf.INamespace);
    root.resolveAll();
    modelType = root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

/**
 * The most objects decoding a file may create, counted as {@link decodeCost} counts them: a
 * message costs 4 (an empty NodeProto is about 250 bytes of JavaScript objects, from 2 bytes of
 * the file), an element of a repeated bytes field 2 (a Buffer of about 100 bytes), any other
 * element of a repeated field 1 (an int64 becomes an object of about 50 bytes, from 1 byte). A
 * million messages, far more than any model bp reads has, is about 250 MB.
 */
export const MAX_DECODE_COST = 1 << 22;
const MESSAGE_COST = 4;
/** Scalar types stored as varints: decoded one JavaScript value (an int64 a Long) per 1 to 10 bytes. */
const VARINT_TYPES = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool', 'enum']);

/**
 * Walks the protobuf wire format of `bytes` as protobufjs decodes it as `root`, without
 * allocating, and returns what decoding it would cost (see {@link MAX_DECODE_COST}) up to just
 * past `limit`, or the byte offset of the first malformed element as `{ malformed }`.
 */
function decodeCost(bytes: Uint8Array, root: protobuf.Type, limit: number): number | { malformed: number } {
  let pos = 0;
  /** A varint of at most 5 bytes below 2^32 (a tag or a length), or -1. */
  const varint32 = (end: number): number => {
    let value = 0;
    for (let i = 0; i < 5 && pos < end; i++) {
      const b = bytes[pos++];
      value += (b & 0x7f) * 2 ** (7 * i);
      if (b < 0x80) return value < 2 ** 32 ? value : -1;
    }
    return -1;
  };
  /** Skips a varint of up to 10 bytes; false when it does not end inside `end`. */
  const skipVarint = (end: number): boolean => {
    for (let i = 0; i < 10 && pos < end; i++) if (bytes[pos++] < 0x80) return true;
    return false;
  };
  /** Skips an element of wire type `wire` (an unknown or mismatched field, as protobufjs does); false when malformed. */
  const skip = (wire: number, end: number): boolean => {
    if (wire === 0) return skipVarint(end);
    if (wire === 1 || wire === 5) {
      pos += wire === 1 ? 8 : 4;
      return pos <= end;
    }
    if (wire === 2) {
      const len = varint32(end);
      if (len < 0 || len > end - pos) return false;
      pos += len;
      return true;
    }
    if (wire === 3) {
      // A group: nested elements up to its end tag (wire type 4), skipped.
      let depth = 1;
      while (depth > 0) {
        const tag = varint32(end);
        if (tag < 8) return false;
        if (tag % 8 === 4) depth--;
        else if (tag % 8 === 3) depth++;
        else if (!skip(tag % 8, end)) return false;
        if (depth > 100) return false;
      }
      return true;
    }
    return false;
  };
  let cost = 0;
  const stack: { end: number; type: protobuf.Type }[] = [{ end: bytes.length, type: root }];
  while (stack.length > 0) {
    const { end, type } = stack[stack.length - 1];
    if (pos >= end) {
      stack.pop();
      continue;
    }
    const at = pos;
    const tag = varint32(end);
    if (tag < 8) return { malformed: at };
    const wire = tag % 8;
    const field = type.fieldsById[Math.floor(tag / 8)] as protobuf.Field | undefined;
    const scalar = field === undefined ? '' : field.resolvedType instanceof protobuf.Enum ? 'enum' : field.type;
    if (field !== undefined && field.resolvedType instanceof protobuf.Type && wire === 2) {
      const len = varint32(end);
      if (len < 0 || len > end - pos) return { malformed: at };
      cost += MESSAGE_COST;
      if (stack.length > 100) return { malformed: at };
      stack.push({ end: pos + len, type: field.resolvedType });
    } else if (field !== undefined && field.repeated && wire === 2 && VARINT_TYPES.has(scalar)) {
      // Packed varints: one value per byte below 0x80.
      const len = varint32(end);
      if (len < 0 || len > end - pos) return { malformed: at };
      for (let i = pos; i < pos + len; i++) if (bytes[i] < 0x80) cost++;
      pos += len;
    } else {
      // Each element of a repeated field is a value; one of bytes a Buffer object of about 100 bytes.
      if (field !== undefined && field.repeated) cost += scalar === 'bytes' && wire === 2 ? 2 : 1;
      if (!skip(wire, end)) return { malformed: at };
    }
    if (cost > limit) return cost;
  }
  return cost;
}

/** Encodes a model as ONNX bytes (after protobufjs' own field checks). */
export function encodeModel(model: ModelProto): Uint8Array {
  const type = modelProto();
  const problem = type.verify(model);
  if (problem) throw new FormatError('exportOnnx', `internal error: the model does not fit onnx.proto (${problem})`);
  // A copy with its own buffer: protobufjs may hand out a slice of a shared pool.
  return Uint8Array.from(type.encode(type.fromObject(model as Record<string, unknown>)).finish());
}

/**
 * Decodes ONNX bytes. Protobuf decoding only reads fields; nothing in the
 * file is executed. A malformed or truncated file throws a `FormatError`
 * naming `source`.
 */
export function decodeModel(bytes: Uint8Array, source: string): ModelProto {
  // Measured before decoding: a few megabytes of tiny messages would decode to gigabytes of objects.
  const cost = decodeCost(bytes, modelProto(), MAX_DECODE_COST);
  if (typeof cost !== 'number') {
    throw new FormatError(source, `is not a valid ONNX model (protobuf decoding failed: malformed data at byte ${cost.malformed})`);
  }
  if (cost > MAX_DECODE_COST) {
    throw new FormatError(
      source,
      `holds more protobuf messages and integers than any model bp reads (over ${MAX_DECODE_COST / MESSAGE_COST} messages, or ${MAX_DECODE_COST} integers); it was not decoded`,
    );
  }
  try {
    return modelProto().decode(bytes) as unknown as ModelProto;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    // protobufjs' messages describe offsets and wire types, never the file's contents.
    throw new FormatError(source, `is not a valid ONNX model (protobuf decoding failed: ${why.slice(0, 200)})`);
  }
}

/** An int64 field as a JS number (exact up to 2^53; larger values come back as Infinity-safe approximations). */
export function int64(v: Int64 | undefined | null): number {
  if (v === undefined || v === null) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}
