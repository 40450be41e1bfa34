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

function modelProto(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(ONNX_SCHEMA as protobuf.INamespace).lookupType('onnx.ModelProto');
  return modelType;
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
