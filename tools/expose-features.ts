// Exposes an intermediate tensor of a bundle's graph as its `features` output (for depthseg
// fit-head), in place: rewrites model.onnx with an extra output and adds `outputs.features` to
// model.yaml (comments kept). No retraining: the other outputs are unchanged.
// Usage: npx tsx tools/expose-features.ts <bundle dir> --tensor <graph tensor> --stride <s> [--name features]
// The demo model (npm run train-demo) exposes its depth decoder's last feature map this way.

import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { parseDocument } from "yaml";
import { loadModelBundle } from "../src/inference/bundle.js";
import { decodeModel, encodeModel, exposeTensor } from "../src/onnx/graph.js";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { tensor: { type: "string" }, stride: { type: "string" }, name: { type: "string", default: "features" } },
});
const dir = positionals[0];
if (!dir || !values.tensor || !values.stride) {
  console.error("usage: tools/expose-features.ts <bundle dir> --tensor <graph tensor> --stride <s> [--name features]");
  process.exit(2);
}
const bundle = await loadModelBundle(dir);
if (bundle.outputs.features) {
  console.error(`${bundle.yamlPath} already has outputs.features (${bundle.outputs.features.name})`);
  process.exit(1);
}
const model = decodeModel(await readFile(bundle.onnxPath));
// The channel count, for the declared output shape: one run at the model's input size.
const probe = decodeModel(await readFile(bundle.onnxPath));
exposeTensor(probe, values.tensor, values.name);
const session = await InferenceSession.create(encodeModel(probe));
const { height, width } = bundle.input;
const result = await session.run({ [bundle.input.name]: new Tensor("float32", new Float32Array(3 * height * width), [1, 3, height, width]) }, [values.name]);
const dims = result[values.name]!.dims;
await session.release();
if (dims.length !== 4) throw new Error(`${values.tensor} has shape [${dims.join(", ")}]; features must be [N, C, h, w]`);
const stride = Number(values.stride);
// Strided convolutions round odd sizes up (or down): h is floor or ceil of height / stride.
const fits = (size: number, cells: number): boolean => cells === Math.floor(size / stride) || cells === Math.ceil(size / stride);
if (!fits(height, dims[2]!) || !fits(width, dims[3]!)) {
  throw new Error(`${values.tensor} is ${dims[2]}x${dims[3]} for a ${height}x${width} input: its stride is not ${stride}`);
}
exposeTensor(model, values.tensor, values.name, dims[1]!);
await writeFile(bundle.onnxPath, encodeModel(model));

const doc = parseDocument(await readFile(bundle.yamlPath, "utf8"));
const node = doc.createNode({ name: values.name, stride }, { flow: true });
doc.setIn(["outputs", "features"], node);
await writeFile(bundle.yamlPath, doc.toString());
console.log(`${bundle.onnxPath}: output ${values.name} = ${values.tensor} [1, ${dims[1]}, h, w], stride ${stride}; ${bundle.yamlPath}: outputs.features added`);
