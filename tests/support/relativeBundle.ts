// A relative (disparity) bundle for the scale-recovery tests: the demo model with its metres
// turned into raw = alpha / z + beta inside the graph (nodes appended to the demo's ONNX), so
// the true scale and shift (1/z = s·raw + t: s = 1/alpha, t = -beta/alpha) are known and the
// metres can only come back through scale recovery.

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
  // ModelProto field 7 again: protobuf merges it into the demo's graph.
  const appended = new ProtoWriter().message(7, extension).finish();
  await writeFile(join(dir, "model.onnx"), Buffer.concat([demo, appended]));
  await copyFile(join(DEFAULT_MODEL_DIR, "labels.yaml"), join(dir, "labels.yaml"));
  const yaml = (await readFile(join(DEFAULT_MODEL_DIR, "model.yaml"), "utf8"))
    .replace(/^name: .*$/m, "name: demo-relative-disparity-test")
    .replace(/^warning: .*$/m, "")
    .replace(/^ {2}depth: .*$/m, "  depth: { name: disparity, kind: relative_disparity }");
  await writeFile(join(dir, "model.yaml"), yaml);
  return { dir, alpha, beta, trueScale: 1 / alpha, trueShift: -beta / alpha };
}
