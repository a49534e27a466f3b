// Contents of the bundled default model folder (models/tiny), generated rather than trained:
// random weights, for wiring and tests only. tools/build-models.ts writes these files, and a
// test checks the committed copies still match.

import { buildTinyModel } from "./builders.js";

export const TINY_SEED = 20240917;

export interface TinyLabel {
  readonly id: number;
  readonly name: string;
  readonly color: readonly [number, number, number];
}

export const TINY_LABELS: readonly TinyLabel[] = [
  { id: 0, name: "floor", color: [128, 64, 128] },
  { id: 1, name: "wall", color: [70, 70, 70] },
  { id: 2, name: "ceiling", color: [220, 220, 0] },
  { id: 3, name: "furniture", color: [190, 153, 153] },
  { id: 4, name: "person", color: [220, 20, 60] },
  { id: 5, name: "object", color: [0, 130, 180] },
];

const MODEL_YAML = `# Bundled default model: random weights, for wiring and tests only (its depth is not real).
# Regenerate with: npx tsx tools/build-models.ts
name: tiny-random-depthseg
file: model.onnx
input:
  name: image
  size: [240, 320]          # [height, width]
  multiple_of: 16
  resize: keep_aspect_lower_bound
  interpolation: linear
  mean: [0.485, 0.456, 0.406]
  std: [0.229, 0.224, 0.225]
  color: rgb
outputs:
  depth: { name: depth, kind: metric, max_depth: 10.0 }   # half input resolution
  segmentation: { name: logits, labels: labels.yaml }     # half input resolution
`;

function labelsYaml(labels: readonly TinyLabel[]): string {
  const lines = labels.map((l) => `  - { id: ${l.id}, name: ${l.name}, color: [${l.color.join(", ")}] }`);
  return `# Class i is logits channel i; id is the published label value.\nclasses:\n${lines.join("\n")}\n`;
}

/** File name → content for the models/tiny folder. */
export function tinyBundleFiles(): Record<string, Uint8Array | string> {
  return {
    "model.onnx": buildTinyModel({ seed: TINY_SEED, classes: TINY_LABELS.length }),
    "model.yaml": MODEL_YAML,
    "labels.yaml": labelsYaml(TINY_LABELS),
  };
}
