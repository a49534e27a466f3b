// Typed description of a small ONNX graph and its serialisation to ModelProto bytes.
// Field numbers follow onnx/onnx.proto; only float32 tensors are supported because that
// is all our generated test/default models need.

import { ProtoWriter } from "./protobuf.js";

/** An attribute value, tagged so the right AttributeProto field and type are written. */
export type AttributeValue =
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "ints"; readonly value: readonly number[] }
  | { readonly kind: "float"; readonly value: number }
  | { readonly kind: "floats"; readonly value: readonly number[] }
  | { readonly kind: "string"; readonly value: string };

/** Shorthands for building attribute values. */
export const attr = {
  int: (value: number): AttributeValue => ({ kind: "int", value }),
  ints: (value: readonly number[]): AttributeValue => ({ kind: "ints", value }),
  float: (value: number): AttributeValue => ({ kind: "float", value }),
  floats: (value: readonly number[]): AttributeValue => ({ kind: "floats", value }),
  string: (value: string): AttributeValue => ({ kind: "string", value }),
} as const;

export interface NodeSpec {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  /** Written in key insertion order, so output bytes are deterministic. */
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}

/** A constant float32 tensor stored in the model (weights, biases, scalars). */
export interface InitializerSpec {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array | readonly number[];
}

/** A dimension: a fixed size or a symbolic name such as "H" (dynamic). */
export type Dim = number | string;

/** A float32 graph input or output. */
export interface ValueInfoSpec {
  readonly name: string;
  readonly dims: readonly Dim[];
}

export interface GraphSpec {
  readonly name: string;
  readonly nodes: readonly NodeSpec[];
  readonly initializers: readonly InitializerSpec[];
  readonly inputs: readonly ValueInfoSpec[];
  readonly outputs: readonly ValueInfoSpec[];
}

export interface ModelOptions {
  readonly irVersion?: number;
  readonly opsetVersion?: number;
  readonly producerName?: string;
}

const DEFAULT_IR_VERSION = 8;
const DEFAULT_OPSET = 17;
const DEFAULT_PRODUCER = "depthseg";

// TensorProto.DataType.FLOAT
const FLOAT_TYPE = 1;

// AttributeProto.AttributeType values
const ATTRIBUTE_TYPE: Record<AttributeValue["kind"], number> = {
  float: 1,
  int: 2,
  string: 3,
  floats: 6,
  ints: 7,
};

/** Serialises a graph into ONNX ModelProto bytes. */
export function encodeModel(graph: GraphSpec, options: ModelOptions = {}): Uint8Array {
  const opset = new ProtoWriter()
    .string(1, "")
    .varint(2, options.opsetVersion ?? DEFAULT_OPSET)
    .finish();
  return new ProtoWriter()
    .varint(1, options.irVersion ?? DEFAULT_IR_VERSION)
    .string(2, options.producerName ?? DEFAULT_PRODUCER)
    .message(7, encodeGraph(graph))
    .message(8, opset)
    .finish();
}

/**
 * GraphProto bytes. Appended to a model's bytes as ModelProto field 7, protobuf's merge rule
 * extends that model's graph: nodes, initializers and outputs are added to the existing ones.
 */
export function encodeGraph(graph: GraphSpec): Uint8Array {
  const w = new ProtoWriter();
  for (const node of graph.nodes) w.message(1, encodeNode(node));
  w.string(2, graph.name);
  for (const init of graph.initializers) w.message(5, encodeInitializer(init));
  for (const input of graph.inputs) w.message(11, encodeValueInfo(input));
  for (const output of graph.outputs) w.message(12, encodeValueInfo(output));
  return w.finish();
}

function encodeNode(node: NodeSpec): Uint8Array {
  const w = new ProtoWriter();
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  if (node.name !== undefined) w.string(3, node.name);
  w.string(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    w.message(5, encodeAttribute(name, value));
  }
  return w.finish();
}

function encodeAttribute(name: string, value: AttributeValue): Uint8Array {
  const w = new ProtoWriter().string(1, name);
  switch (value.kind) {
    case "float":
      w.float(2, value.value);
      break;
    case "int":
      w.varint(3, value.value);
      break;
    case "string":
      w.string(4, value.value);
      break;
    case "floats":
      w.packedFloats(7, value.value);
      break;
    case "ints":
      w.packedVarints(8, value.value);
      break;
  }
  return w.varint(20, ATTRIBUTE_TYPE[value.kind]).finish();
}

function encodeInitializer(init: InitializerSpec): Uint8Array {
  const count = init.dims.reduce((a, b) => a * b, 1);
  if (init.data.length !== count) {
    throw new RangeError(
      `initializer "${init.name}": dims [${init.dims.join(", ")}] need ${count} values, got ${init.data.length}`,
    );
  }
  const raw = new Uint8Array(count * 4);
  const view = new DataView(raw.buffer);
  // raw_data must be little-endian regardless of host byte order.
  for (let i = 0; i < count; i++) view.setFloat32(i * 4, init.data[i] ?? 0, true);
  return new ProtoWriter()
    .packedVarints(1, init.dims)
    .varint(2, FLOAT_TYPE)
    .string(8, init.name)
    .bytes(9, raw)
    .finish();
}

function encodeValueInfo(info: ValueInfoSpec): Uint8Array {
  const shape = new ProtoWriter();
  for (const dim of info.dims) {
    const d = new ProtoWriter();
    if (typeof dim === "number") d.varint(1, dim);
    else d.string(2, dim);
    shape.message(1, d.finish());
  }
  const tensorType = new ProtoWriter().varint(1, FLOAT_TYPE).message(2, shape.finish()).finish();
  const type = new ProtoWriter().message(1, tensorType).finish();
  return new ProtoWriter().string(1, info.name).message(2, type).finish();
}
