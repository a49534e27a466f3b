// Bundles made from the demo model by appending nodes to its ONNX graph. A relative (disparity)
// bundle for the scale-recovery tests: the demo's metres turned into raw = alpha / z + beta
// inside the graph, so the true scale and shift (1/z = s·raw + t: s = 1/alpha, t = -beta/alpha)
// are known and the metres can only come back through scale recovery. A confidence bundle: the
// demo plus a confidence output that is a known affine function of its metres.

import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_MODEL_DIR } from "../../src/paths.js";
import { encodeGraph } from "../../tools/onnx/model.js";
import { ProtoWriter } from "../../tools/onnx/protobuf.js";

export interface RelativeBundle {
  readonly dir: string;
  readonly alpha: number;
  readonly beta: number;
  /** The affine that turns raw back into inverse metres. */
  readonly trueScale: number;
  readonly trueShift: number;
}

/** Writes the bundle into `dir` (the demo's labels and input spec; depth kind relative_disparity). */
export async function writeRelativeBundle(dir: string, alpha: number, beta: number): Promise<RelativeBundle> {
  await mkdir(dir, { recursive: true });
  const demo = await readFile(join(DEFAULT_MODEL_DIR, "model.onnx"));
  const extension = encodeGraph({
    name: "to_disparity",
    nodes: [
      { opType: "Reciprocal", inputs: ["depth"], outputs: ["inverse_depth"] },
      { opType: "Mul", inputs: ["inverse_depth", "disparity_alpha"], outputs: ["scaled_inverse_depth"] },
      { opType: "Add", inputs: ["scaled_inverse_depth", "disparity_beta"], outputs: ["disparity"] },
    ],
    initializers: [
      { name: "disparity_alpha", dims: [], data: [alpha] },
      { name: "disparity_beta", dims: [], data: [beta] },
    ],
    inputs: [],
    outputs: [{ name: "disparity", dims: [1, 1, "h", "w"] }],
  });
  await writeDemoWith(dir, demo, extension, (yaml) =>
    yaml.replace(/^name: .*$/m, "name: demo-relative-disparity-test").replace(/^ {2}depth: .*$/m, "  depth: { name: disparity, kind: relative_disparity }"));
  return { dir, alpha, beta, trueScale: 1 / alpha, trueShift: -beta / alpha };
}

/** The demo's graph grown by `extension`, its labels, and its model.yaml through `edit` (without the warning). */
async function writeDemoWith(dir: string, demo: Buffer, extension: Uint8Array, edit: (yaml: string) => string): Promise<void> {
  // ModelProto field 7 again: protobuf merges it into the demo's graph.
  const appended = new ProtoWriter().message(7, extension).finish();
  await writeFile(join(dir, "model.onnx"), Buffer.concat([demo, appended]));
  await copyFile(join(DEFAULT_MODEL_DIR, "labels.yaml"), join(dir, "labels.yaml"));
  const yaml = edit((await readFile(join(DEFAULT_MODEL_DIR, "model.yaml"), "utf8")).replace(/^warning: .*$/m, ""));
  await writeFile(join(dir, "model.yaml"), yaml);
}

/**
 * The demo (metric) with an output `confidence`, declared as `outputs.confidence`: x = gain·z +
 * offset (z its metres at its output resolution) with activation identity, or 1 + exp(x) with
 * activation expp1 (Depth Anything 3's depth_conf).
 */
export async function writeConfidenceBundle(dir: string, gain: number, offset: number, activation: "identity" | "expp1" = "identity"): Promise<string> {
  await mkdir(dir, { recursive: true });
  const demo = await readFile(join(DEFAULT_MODEL_DIR, "model.onnx"));
  const affine = activation === "identity" ? "confidence" : "confidence_logit";
  const extension = encodeGraph({
    name: "confidence_of_depth",
    nodes: [
      { opType: "Mul", inputs: ["depth", "confidence_gain"], outputs: ["scaled_depth"] },
      { opType: "Add", inputs: ["scaled_depth", "confidence_offset"], outputs: [affine] },
      ...(activation === "expp1"
        ? [
            { opType: "Exp", inputs: [affine], outputs: ["confidence_exp"] },
            { opType: "Add", inputs: ["confidence_exp", "confidence_one"], outputs: ["confidence"] },
          ]
        : []),
    ],
    initializers: [
      { name: "confidence_gain", dims: [], data: [gain] },
      { name: "confidence_offset", dims: [], data: [offset] },
      ...(activation === "expp1" ? [{ name: "confidence_one", dims: [], data: [1] }] : []),
    ],
    inputs: [],
    outputs: [{ name: "confidence", dims: [1, 1, "h", "w"] }],
  });
  await writeDemoWith(dir, demo, extension, (yaml) =>
    yaml
      .replace(/^name: .*$/m, "name: demo-with-confidence-test")
      .replace(/^( {2}depth: .*)$/m, `$1\n  confidence: { name: confidence, activation: ${activation} }`));
  return dir;
}
