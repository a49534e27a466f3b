// Exposing an intermediate tensor of a bundle's graph as its `features` output, in place (for
// fit-head): model.onnx gets an extra output (an Identity, so every other output stays
// bit-identical) and model.yaml `outputs.features` (comments kept). No retraining.

import { readFile, writeFile } from "node:fs/promises";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { parseDocument } from "yaml";
import { FatalError } from "../../errors.js";
import { loadModelBundle } from "../../inference/bundle.js";
import { decodeModel, encodeModel, exposeTensor, GraphEditError } from "../../onnx/graph.js";

export interface ExposedFeatures {
  readonly onnxPath: string;
  readonly yamlPath: string;
  /** [1, C, h, w] at the bundle's input size. */
  readonly dims: readonly number[];
}

export async function exposeFeatures(dir: string, tensor: string, stride: number, name = "features"): Promise<ExposedFeatures> {
  const bundle = await loadModelBundle(dir);
  if (bundle.outputs.features) throw new FatalError(`${bundle.yamlPath} already has outputs.features ("${bundle.outputs.features.name}")`);
  const bytes = await readFile(bundle.onnxPath);
  const model = decodeModel(bytes);
  // One run at the model's input size gives the channel count and checks the stride.
  const probe = decodeModel(bytes);
  try {
    exposeTensor(probe, tensor, name);
  } catch (error) {
    if (error instanceof GraphEditError) throw new FatalError(`${bundle.onnxPath}: ${error.message}`);
    throw error;
  }
  const session = await InferenceSession.create(encodeModel(probe));
  const { height, width } = bundle.input;
  let dims: readonly number[];
  try {
    const input = new Tensor("float32", new Float32Array(3 * height * width), [1, 3, height, width]);
    dims = (await session.run({ [bundle.input.name]: input }, [name]))[name]!.dims;
  } finally {
    await session.release();
  }
  if (dims.length !== 4 || dims[0] !== 1) throw new FatalError(`"${tensor}" has shape [${dims.join(", ")}]; features must be [1, C, h, w]`);
  // Strided convolutions round odd sizes up (or down): h is floor or ceil of height / stride.
  const fits = (size: number, cells: number): boolean => cells === Math.floor(size / stride) || cells === Math.ceil(size / stride);
  if (!fits(height, dims[2]!) || !fits(width, dims[3]!)) {
    throw new FatalError(`"${tensor}" is ${dims[2]}x${dims[3]} for a ${height}x${width} input: its stride is not ${stride}`);
  }
  exposeTensor(model, tensor, name, dims[1]!);
  const doc = parseDocument(await readFile(bundle.yamlPath, "utf8"));
  doc.setIn(["outputs", "features"], doc.createNode({ name, stride }, { flow: true }));
  await writeFile(bundle.onnxPath, encodeModel(model));
  // No folding of long lines, no padding in flow collections: the rest of the file keeps its look.
  await writeFile(bundle.yamlPath, doc.toString({ lineWidth: 0, flowCollectionPadding: false }));
  return { onnxPath: bundle.onnxPath, yamlPath: bundle.yamlPath, dims };
}
