// Reading and editing real ONNX graphs (ModelProto through onnx-proto's protobufjs code, ONNX
// 1.10 / IR 8 schema): expose an intermediate tensor as a graph output, append a fitted 1×1
// segmentation head resized to another output's size, and drop outputs (and the nodes only they
// needed). The edited graph keeps one input, so every output still comes from one encoder pass.

import onnxProto from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";

const { onnx } = onnxProto;

export type OnnxModel = OnnxTypes.ModelProto;
export type Graph = OnnxTypes.GraphProto;
export type Node = OnnxTypes.INodeProto;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/** Thrown for a graph that cannot be edited as asked; `message` says why. */
export class GraphEditError extends Error {
  override readonly name = "GraphEditError";
}

export function decodeModel(bytes: Uint8Array): OnnxModel {
  const model = onnx.ModelProto.decode(bytes);
  if (!model.graph) throw new GraphEditError("the ModelProto has no graph");
  return model;
}

export function encodeModel(model: OnnxModel): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export function graphOf(model: OnnxModel): Graph {
  if (!model.graph) throw new GraphEditError("the ModelProto has no graph");
  return model.graph as Graph;
}

/** The graph's real inputs (initializers listed as inputs, as old exporters do, left out). */
export function graphInputNames(model: OnnxModel): string[] {
  const graph = graphOf(model);
  const initializers = new Set(graph.initializer.map((t) => t.name));
  return graph.input.map((v) => v.name ?? "").filter((name) => !initializers.has(name));
}

export function graphOutputNames(model: OnnxModel): string[] {
  return graphOf(model).output.map((v) => v.name ?? "");
}

/** The default-domain opset the graph imports (0 when none). */
export function defaultOpset(model: OnnxModel): number {
  const entry = model.opsetImport.find((o) => !o.domain || o.domain === "ai.onnx");
  return entry ? Number(entry.version ?? 0) : 0;
}

/** Every tensor name some node produces. */
function producedNames(graph: Graph): Set<string> {
  const names = new Set<string>();
  for (const node of graph.node) for (const out of node.output ?? []) names.add(out);
  return names;
}

export function allNames(graph: Graph): Set<string> {
  const names = producedNames(graph);
  for (const v of graph.input) names.add(v.name ?? "");
  for (const t of graph.initializer) names.add(t.name ?? "");
  return names;
}

function floatOutput(name: string, dims: readonly (number | string)[]): OnnxTypes.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/**
 * Makes the intermediate tensor `tensor` available as graph output `outputName` (an Identity
 * node, so the tensor's own name and its consumers stay as they are). Shape [N, C, h, w] with
 * C given when known.
 */
export function exposeTensor(model: OnnxModel, tensor: string, outputName: string, channels?: number): void {
  const graph = graphOf(model);
  if (!producedNames(graph).has(tensor)) {
    throw new GraphEditError(`no node of the graph produces "${tensor}"`);
  }
  if (allNames(graph).has(outputName) || graphOutputNames(model).includes(outputName)) {
    throw new GraphEditError(`the graph already has a tensor named "${outputName}"`);
  }
  graph.node.push(onnx.NodeProto.create({ opType: "Identity", name: `expose_${outputName}`, input: [tensor], output: [outputName] }));
  graph.output.push(floatOutput(outputName, ["N", channels ?? "C", "h", "w"]));
}

/** One 1×1 convolution of the head: weight [outChannels × inChannels] row-major, bias [outChannels]. */
export interface HeadLayer {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

export interface AppendHeadOptions {
  /** Graph output holding the features, [1, C, h, w]. */
  readonly features: string;
  /** 1×1 convolutions applied in order, with ReLU between consecutive ones (linear: one layer). */
  readonly layers: readonly HeadLayer[];
  /** Graph output whose last two dimensions the logits are resized to (the depth output). */
  readonly sizeOf: string;
  /** Name of the new logits output, [1, K, H, W]. */
  readonly output: string;
}

export function floatTensor(name: string, dims: number[], values: Float32Array): OnnxTypes.TensorProto {
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: FLOAT,
    rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
  });
}

export function int64Tensor(name: string, values: readonly bigint[]): OnnxTypes.TensorProto {
  const data = BigInt64Array.from(values);
  return onnx.TensorProto.create({ name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(data.buffer) });
}

export function node(opType: string, name: string, input: string[], output: string[], attribute: OnnxTypes.IAttributeProto[] = []): Node {
  return onnx.NodeProto.create({ opType, name, input, output, attribute });
}

export function intAttr(name: string, value: number): OnnxTypes.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

export function stringAttr(name: string, value: string): OnnxTypes.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(value) };
}

/**
 * Appends the head to `features`: Conv 1×1 (+ ReLU + Conv 1×1 …), then a bilinear Resize
 * (half-pixel, as OpenCV's and PyTorch's align_corners=False) to `sizeOf`'s height and width.
 * Needs default-domain opset >= 11 (Resize with `sizes`).
 */
export function appendHead(model: OnnxModel, options: AppendHeadOptions): void {
  const graph = graphOf(model);
  const opset = defaultOpset(model);
  if (opset < 11) throw new GraphEditError(`the graph imports opset ${opset}; appending a head needs opset 11 or newer (Resize with sizes)`);
  const outputs = graphOutputNames(model);
  for (const name of [options.features, options.sizeOf]) {
    if (!outputs.includes(name)) throw new GraphEditError(`"${name}" is not an output of the graph (outputs: ${JSON.stringify(outputs)})`);
  }
  if (allNames(graph).has(options.output) || outputs.includes(options.output)) {
    throw new GraphEditError(`the graph already has a tensor named "${options.output}"`);
  }
  if (options.layers.length === 0) throw new GraphEditError("a head needs at least one layer");
  const p = `${options.output}_head`;
  let x = options.features;
  options.layers.forEach((layer, i) => {
    if (layer.weight.length !== layer.inChannels * layer.outChannels || layer.bias.length !== layer.outChannels) {
      throw new GraphEditError(`head layer ${i}: weight ${layer.weight.length} / bias ${layer.bias.length} values do not fit ${layer.outChannels}×${layer.inChannels}`);
    }
    if (i > 0 && layer.inChannels !== options.layers[i - 1]!.outChannels) {
      throw new GraphEditError(`head layer ${i} takes ${layer.inChannels} channels but layer ${i - 1} gives ${options.layers[i - 1]!.outChannels}`);
    }
    graph.initializer.push(floatTensor(`${p}.${i}.weight`, [layer.outChannels, layer.inChannels, 1, 1], layer.weight));
    graph.initializer.push(floatTensor(`${p}.${i}.bias`, [layer.outChannels], layer.bias));
    const y = `${p}.${i}.conv`;
    graph.node.push(node("Conv", `${p}/conv${i}`, [x, `${p}.${i}.weight`, `${p}.${i}.bias`], [y], [{ name: "kernel_shape", type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 1] }]));
    x = y;
    if (i < options.layers.length - 1) {
      graph.node.push(node("Relu", `${p}/relu${i}`, [x], [`${x}.relu`]));
      x = `${x}.relu`;
    }
  });
  // sizes = [N, K] of the small logits ++ [H, W] of the depth output (its last two dims, so both
  // [1, 1, H, W] and [1, H, W] depth outputs work).
  graph.initializer.push(int64Tensor(`${p}.first2.starts`, [0n]), int64Tensor(`${p}.first2.ends`, [2n]));
  graph.initializer.push(int64Tensor(`${p}.last2.starts`, [-2n]), int64Tensor(`${p}.last2.ends`, [9223372036854775807n]));
  graph.node.push(
    node("Shape", `${p}/shape_logits`, [x], [`${p}.logits_shape`]),
    node("Slice", `${p}/nk`, [`${p}.logits_shape`, `${p}.first2.starts`, `${p}.first2.ends`], [`${p}.nk`]),
    node("Shape", `${p}/shape_size_of`, [options.sizeOf], [`${p}.size_of_shape`]),
    node("Slice", `${p}/hw`, [`${p}.size_of_shape`, `${p}.last2.starts`, `${p}.last2.ends`], [`${p}.hw`]),
    node("Concat", `${p}/sizes`, [`${p}.nk`, `${p}.hw`], [`${p}.sizes`], [intAttr("axis", 0)]),
  );
  let roi = "";
  let scales = "";
  if (opset < 13) {
    // Opsets 11 and 12 have roi and scales as required inputs: empty tensors stand for "none".
    graph.initializer.push(floatTensor(`${p}.roi`, [0], new Float32Array(0)), floatTensor(`${p}.scales`, [0], new Float32Array(0)));
    roi = `${p}.roi`;
    scales = `${p}.scales`;
  }
  graph.node.push(
    node("Resize", `${p}/resize`, [x, roi, scales, `${p}.sizes`], [options.output], [
      stringAttr("mode", "linear"),
      stringAttr("coordinate_transformation_mode", "half_pixel"),
    ]),
  );
  graph.output.push(floatOutput(options.output, ["N", options.layers[options.layers.length - 1]!.outChannels, "H", "W"]));
}

/**
 * Removes graph outputs `names`, then every node and initializer no remaining output needs
 * (the old segmentation decoder once a fitted head replaces it).
 */
export function removeOutputs(model: OnnxModel, names: readonly string[]): void {
  const graph = graphOf(model);
  const drop = new Set(names);
  graph.output = graph.output.filter((v) => !drop.has(v.name ?? ""));
  const needed = new Set(graph.output.map((v) => v.name ?? ""));
  const kept: Node[] = [];
  for (let i = graph.node.length - 1; i >= 0; i--) {
    const n = graph.node[i]!;
    if ((n.output ?? []).some((o) => needed.has(o))) {
      kept.push(n);
      for (const input of n.input ?? []) if (input) needed.add(input);
    }
  }
  // Nodes are in topological order, so one backward sweep finds everything upstream.
  graph.node = kept.reverse();
  graph.initializer = graph.initializer.filter((t) => needed.has(t.name ?? ""));
  graph.valueInfo = graph.valueInfo.filter((v) => needed.has(v.name ?? ""));
}

/** How many nodes of the graph satisfy `test` (e.g. the encoder's, by name prefix). */
export function countNodes(model: OnnxModel, test: (node: { readonly opType: string; readonly name: string }) => boolean): number {
  return graphOf(model).node.filter((n) => test({ opType: n.opType ?? "", name: n.name ?? "" })).length;
}
