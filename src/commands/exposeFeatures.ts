// `depthseg expose-features <bundle> --tensor <name> --stride <s>`: the command line of
// src/heads/fit/exposeFeatures.ts.

import { parseArgs } from "node:util";
import { exposeFeatures } from "../heads/fit/exposeFeatures.js";
import { UsageError, numberOption, usageErrors, type Command } from "./common.js";

const USAGE = `Usage: depthseg expose-features <bundle dir> --tensor <graph tensor> --stride <s> [--name features]

Makes an intermediate feature map [1, C, h, w] of the bundle's graph a graph output and declares it as
model.yaml outputs.features, in place, for depthseg fit-head. The other outputs stay bit-identical.
Tensor names: python3 -c "import onnx; print([n.output[0] for n in onnx.load('model.onnx').graph.node])"

Options:
      --tensor T     the graph tensor (a node output) to expose (required)
      --stride S     input size / feature map size, e.g. 16 (required)
      --name N       the new output's name (default features)
  -h, --help         this text
      --version      depthseg's version
`;

async function run(args: readonly string[]): Promise<number> {
  const { values, positionals } = usageErrors(() =>
    parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { tensor: { type: "string" }, stride: { type: "string" }, name: { type: "string", default: "features" } },
    }),
  );
  if (positionals.length !== 1) throw new UsageError("expose-features takes one bundle folder");
  if (!values.tensor) throw new UsageError("expose-features needs --tensor <graph tensor>");
  const stride = numberOption("--stride", values.stride, NaN);
  if (!(Number.isInteger(stride) && stride >= 1 && stride <= 1024)) throw new UsageError(`--stride must be an integer in 1..1024, got "${values.stride ?? ""}"`);
  const result = await exposeFeatures(positionals[0]!, values.tensor, stride, values.name);
  process.stdout.write(
    `${result.onnxPath}: output ${values.name} = ${values.tensor} [${result.dims.join(", ")}], stride ${stride}; ${result.yamlPath}: outputs.features added\n`,
  );
  return 0;
}

export const exposeFeaturesCommand: Command = {
  name: "expose-features",
  synopsis: "expose-features <bundle> --tensor T --stride S   Make a feature map a graph output, for fit-head",
  usage: USAGE,
  run,
};
