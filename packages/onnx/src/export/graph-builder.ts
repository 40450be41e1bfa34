import type { AttributeProto, NodeProto, TensorProto } from '../proto/onnx.js';
import { AttributeType, DataType } from '../proto/onnx.js';

/** A node attribute, typed as ONNX types it (a float that happens to be whole stays a float). */
export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string };

/** An `INT` attribute. */
export const int = (value: number): Attr => ({ kind: 'int', value });
/** An `INTS` attribute. */
export const ints = (value: number[]): Attr => ({ kind: 'ints', value });
/** A `FLOAT` attribute. */
export const float = (value: number): Attr => ({ kind: 'float', value });
/** A `STRING` attribute (UTF-8). */
export const str = (value: string): Attr => ({ kind: 'string', value });

function toAttribute(name: string, a: Attr): AttributeProto {
  switch (a.kind) {
    case 'int':
      return { name, type: AttributeType.INT, i: a.value };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: a.value };
    case 'float':
      return { name, type: AttributeType.FLOAT, f: a.value };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: a.value };
    case 'string':
      return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a.value) };
  }
}

function floatBytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}

/**
 * Collects the nodes and initializers of one ONNX graph, in order, with
 * unique names. Layer exporters add to it through {@link LayerExportContext}.
 */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly names = new Set<string>();

  constructor(reserved: string[]) {
    for (const n of reserved) this.names.add(n);
  }

  /** `base`, or `base_1`, `base_2`... if taken. */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Adds a float32 initializer (stored little-endian in `raw_data`) and returns its name. */
  addFloat(name: string, values: ArrayLike<number>, dims: number[]): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims, data_type: DataType.FLOAT, raw_data: floatBytes(values) });
    return unique;
  }

  /** Adds an int64 initializer (shapes for Reshape) and returns its name. */
  addInt64(name: string, values: number[], dims: number[]): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims, data_type: DataType.INT64, int64_data: values });
    return unique;
  }

  /** Adds a node with one output and returns the output's name. */
  addNode(nodeName: string, opType: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    const name = this.unique(nodeName);
    const output = this.unique(`${name}_output`);
    this.nodes.push({
      name,
      op_type: opType,
      input: inputs,
      output: [output],
      attribute: Object.entries(attrs).map(([k, a]) => toAttribute(k, a)),
    });
    return output;
  }

  /** Renames the value `from` to `to` wherever a node produces or consumes it. */
  rename(from: string, to: string): void {
    for (const n of this.nodes) {
      n.output = n.output!.map((o) => (o === from ? to : o));
      n.input = n.input!.map((i) => (i === from ? to : i));
    }
  }
}
