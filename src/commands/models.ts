// `depthseg models [<bundle dir>]`: what a model bundle declares.

import { parseArgs } from "node:util";
import { loadModelBundle, type DepthOutputSpec } from "../inference/bundle.js";
import { DEFAULT_MODEL_DIR } from "../paths.js";
import { UsageError, usageErrors, type Command } from "./common.js";

const USAGE = `Usage: depthseg models [<bundle dir>]

Shows a model bundle: its ONNX file, input, depth output(s) and segmentation classes
(default: the bundled models/demo).

Options:
  -h, --help      this text
      --version   depthseg's version
`;

async function run(args: readonly string[]): Promise<number> {
  const { positionals } = usageErrors(() => parseArgs({ args: [...args], allowPositionals: true, options: {} }));
  if (positionals.length > 1) throw new UsageError("models takes at most one bundle folder");
  const dir = positionals[0] ?? DEFAULT_MODEL_DIR;
  const bundle = await loadModelBundle(dir);
  const { input, outputs } = bundle;
  const lines = [
    `${bundle.name}  (${dir})`,
    `  onnx          ${bundle.onnxPath}`,
    `  trained on    ${bundle.trainedOn ?? "(not declared: model.yaml has no trained_on)"}`,
    ...(bundle.warning !== undefined ? [`  WARNING       ${bundle.warning}`] : []),
    `  input         ${input.name}: ${input.height}x${input.width} (multiple of ${input.multipleOf}, ${input.resize}, ${input.interpolation}, ${input.color})`,
  ];
  const depthLine = (spec: DepthOutputSpec): string =>
    `${spec.name}: ${spec.kind}${spec.maxDepth !== undefined ? `, max ${spec.maxDepth} m` : ""}`;
  if (outputs.domain) {
    lines.push(`  domain        ${outputs.domain.name}: picks the depth head per frame (depth.head: auto)`);
    for (const cls of outputs.domain.classes) lines.push(`  depth head    ${cls} = ${depthLine(bundle.heads[cls]!)}`);
  } else {
    lines.push(`  depth         ${depthLine(outputs.depth)}`);
  }
  if (outputs.segmentation) {
    const classes = outputs.segmentation.labels.classes.map((c) => `${c.id}:${c.name}`).join(" ");
    lines.push(`  segmentation  ${outputs.segmentation.name}: ${classes}`);
  }
  if (outputs.features) {
    lines.push(`  features      ${outputs.features.name}: stride ${outputs.features.stride} (for depthseg fit-head)`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

export const modelsCommand: Command = {
  name: "models",
  synopsis: "models [<bundle dir>]               Show a model bundle (default: the bundled models/demo)",
  usage: USAGE,
  run,
};
