// Bundles with known answers for tests anywhere in the project: the analytic model (depth is
// an exact function of the red channel, label = argmax(R, G, B)) with mean 0 / std 1, so
// metres = analyticDepth(R / 255).

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildAnalyticModel, buildRoutedAnalyticModel } from "../../tools/onnx/builders.js";

export interface AnalyticBundleOptions {
  /** Relative-disparity variant (output `disparity`, kind relative_disparity). */
  relative?: boolean;
  /**
   * ZoeDepth-style routed variant (buildRoutedAnalyticModel): heads indoor (analyticDepth, max 11 m)
   * and outdoor (routedOutdoorDepth, max 43 m), picked by whether G or B is larger on average.
   */
  routed?: boolean;
  /** Network input [height, width]; default [4, 6]. */
  size?: [number, number];
  /** Metric variant declared as a canonical-camera model (`canonical_focal`, Depth Anything 3 Metric: 300). */
  canonicalFocal?: number;
  resize?: "keep_aspect_lower_bound" | "stretch";
  /** Adds the analytic model's `sky` output (the green channel) as `outputs.sky` with this threshold. */
  skyThreshold?: number;
  /** Replaces the generated model.yaml text entirely. */
  modelYaml?: string;
}

export const ANALYTIC_LABELS_YAML = `classes:
  - { id: 0, name: red, color: [255, 0, 0] }
  - { id: 1, name: green, color: [0, 255, 0] }
  - { id: 2, name: blue, color: [0, 0, 255] }
`;

export function analyticModelYaml(options: AnalyticBundleOptions = {}): string {
  const [height, width] = options.size ?? [4, 6];
  const depth = options.relative
    ? "{ name: disparity, kind: relative_disparity }"
    : `{ name: depth, kind: metric, max_depth: 11.0${options.canonicalFocal !== undefined ? `, canonical_focal: ${options.canonicalFocal}` : ""} }`;
  const depthLines = options.routed
    ? `  domain: { name: domain_logits, classes: [indoor, outdoor] }
heads:
  indoor: { name: depth_indoor, kind: metric, max_depth: 11.0 }
  outdoor: { name: depth_outdoor, kind: metric, max_depth: 43.0 }
`
    : "";
  return `name: analytic
input:
  name: image
  size: [${height}, ${width}]
  multiple_of: 1
  resize: ${options.resize ?? "stretch"}
  interpolation: nearest
  mean: [0, 0, 0]
  std: [1, 1, 1]
  color: rgb
outputs:
${options.routed ? "" : `  depth: ${depth}\n`}  segmentation: { name: logits, labels: labels.yaml }
${options.skyThreshold !== undefined ? `  sky: { name: sky, threshold: ${options.skyThreshold} }\n` : ""}${depthLines}`;
}

/** Writes model.onnx, model.yaml and labels.yaml into `dir` (created if needed). */
export async function writeAnalyticBundle(dir: string, options: AnalyticBundleOptions = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  const model = options.routed ? buildRoutedAnalyticModel() : buildAnalyticModel({ relative: options.relative ?? false, sky: options.skyThreshold !== undefined });
  await writeFile(join(dir, "model.onnx"), model);
  await writeFile(join(dir, "model.yaml"), options.modelYaml ?? analyticModelYaml(options));
  await writeFile(join(dir, "labels.yaml"), ANALYTIC_LABELS_YAML);
  return dir;
}
