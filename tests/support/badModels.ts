// ONNX graphs that load but do not fit a bundle (or give invalid depth), built with the project's
// own ONNX writer, for the checks at load and the model_output_invalid check.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ANALYTIC_DEPTH_OFFSET, ANALYTIC_DEPTH_SCALE } from "../../tools/onnx/builders.js";
import { attr, encodeModel, type Dim, type NodeSpec } from "../../tools/onnx/model.js";
import { ANALYTIC_LABELS_YAML, analyticModelYaml, writeAnalyticBundle } from "./analyticBundle.js";

const SCALE_OFFSET = [
  { name: "scale", dims: [1], data: [ANALYTIC_DEPTH_SCALE] },
  { name: "offset", dims: [1], data: [ANALYTIC_DEPTH_OFFSET] },
];

/** The analytic model's nodes with the RGB split on `axis`: depth from red, logits = image. */
function analyticNodes(axis: number): NodeSpec[] {
  return [
    { opType: "Split", inputs: ["image"], outputs: ["red", "green", "blue"], attributes: { axis: attr.int(axis) } },
    { opType: "Mul", inputs: ["red", "scale"], outputs: ["red_scaled"] },
    { opType: "Add", inputs: ["red_scaled", "offset"], outputs: ["depth"] },
    { opType: "Identity", inputs: ["image"], outputs: ["logits"] },
  ];
}

/** The analytic model with another input layout: rank 3 [3, H, W] or rank 5 [1, 1, 3, H, W]. */
export function analyticWithInputRank(rank: 3 | 5): Uint8Array {
  const image: Dim[] = rank === 3 ? [3, "H", "W"] : [1, 1, 3, "H", "W"];
  const red: Dim[] = rank === 3 ? [1, "H", "W"] : [1, 1, 1, "H", "W"];
  return encodeModel({
    name: `analytic_rank${rank}`,
    inputs: [{ name: "image", dims: image }],
    outputs: [{ name: "depth", dims: red }, { name: "logits", dims: image }],
    initializers: SCALE_OFFSET,
    nodes: analyticNodes(rank === 3 ? 0 : 2),
  });
}

/** depth = [red, green] stacked: [1, 2, H, W]. */
export function twoChannelDepthModel(): Uint8Array {
  return encodeModel({
    name: "two_channel_depth",
    inputs: [{ name: "image", dims: [1, 3, "H", "W"] }],
    outputs: [{ name: "depth", dims: [1, 2, "H", "W"] }, { name: "logits", dims: [1, 3, "H", "W"] }],
    initializers: [],
    nodes: [
      { opType: "Split", inputs: ["image"], outputs: ["red", "green", "blue"], attributes: { axis: attr.int(1) } },
      { opType: "Concat", inputs: ["red", "green"], outputs: ["depth"], attributes: { axis: attr.int(1) } },
      { opType: "Identity", inputs: ["image"], outputs: ["logits"] },
    ],
  });
}

/**
 * The analytic model with a symbolic channel count, [1, C, H, W]: nothing about the outputs'
 * channels is known before a run, so only a dry run can check them.
 */
export function analyticWithSymbolicChannels(): Uint8Array {
  return encodeModel({
    name: "analytic_symbolic_channels",
    inputs: [{ name: "image", dims: [1, "C", "H", "W"] }],
    outputs: [{ name: "depth", dims: [1, "D", "H", "W"] }, { name: "logits", dims: [1, "C", "H", "W"] }],
    initializers: SCALE_OFFSET,
    nodes: analyticNodes(1),
  });
}

/** depth = sqrt(10·red − 5): NaN where red < 0.5, else metres (red 0.8 → √3 m). */
export function nanDepthModel(): Uint8Array {
  return encodeModel({
    name: "nan_depth",
    inputs: [{ name: "image", dims: [1, 3, "H", "W"] }],
    outputs: [{ name: "depth", dims: [1, 1, "H", "W"] }, { name: "logits", dims: [1, 3, "H", "W"] }],
    initializers: [
      { name: "scale", dims: [1], data: [10] },
      { name: "offset", dims: [1], data: [-5] },
    ],
    nodes: [
      { opType: "Split", inputs: ["image"], outputs: ["red", "green", "blue"], attributes: { axis: attr.int(1) } },
      { opType: "Mul", inputs: ["red", "scale"], outputs: ["red_scaled"] },
      { opType: "Add", inputs: ["red_scaled", "offset"], outputs: ["shifted"] },
      { opType: "Sqrt", inputs: ["shifted"], outputs: ["depth"] },
      { opType: "Identity", inputs: ["image"], outputs: ["logits"] },
    ],
  });
}

/** A bundle of the analytic model's model.yaml around `model`, with `labels` (default: 3 classes). */
export async function writeBundleWith(dir: string, model: Uint8Array, size: [number, number], labels = ANALYTIC_LABELS_YAML): Promise<string> {
  await writeAnalyticBundle(dir, { size });
  await writeFile(join(dir, "model.onnx"), model);
  await writeFile(join(dir, "model.yaml"), analyticModelYaml({ size }));
  await writeFile(join(dir, "labels.yaml"), labels);
  return dir;
}

/** labels.yaml with two classes, for a model with three logit channels. */
export const TWO_LABELS_YAML = `classes:
  - { id: 0, name: red, color: [255, 0, 0] }
  - { id: 1, name: green, color: [0, 255, 0] }
`;
