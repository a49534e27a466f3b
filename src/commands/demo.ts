// `depthseg demo` (npm start): replay + eval of the bundled sample, with PNG previews.

import { join } from "node:path";
import { parseArgs } from "node:util";
import { resolveParameters } from "../config/parameters.js";
import { loadParamsFile } from "../config/paramsFile.js";
import { runDemo } from "../demo/demo.js";
import { formatReport } from "../eval/report.js";
import { SAMPLE_BAG } from "../paths.js";
import { formatSummary } from "../replay/summary.js";
import { usageErrors, type Command } from "./common.js";

const USAGE = `Usage: depthseg demo [options]

Replays the bundled sample bag on the demo model, evaluates it against the sample's ground truth,
and writes PNG previews (camera | depth | labels).

Options:
  -o, --out <dir>              where the output bag and previews go (default out/demo)
  -m, --model <bundle dir>     model bundle (default: the bundled demo model)
  -p, --params <params.yaml>   ROS 2 parameters file
  -q, --quiet                  no progress bar, no informational lines, no summary or eval table
      --summary                print the summary and eval table even with --quiet
  -h, --help                   this text
      --version                depthseg's version
`;

async function run(args: readonly string[]): Promise<number> {
  const { values } = usageErrors(() =>
    parseArgs({
      args: [...args],
      options: {
        out: { type: "string", short: "o", default: join("out", "demo") },
        model: { type: "string", short: "m" },
        params: { type: "string", short: "p" },
        quiet: { type: "boolean", short: "q", default: false },
        summary: { type: "boolean", default: false },
      },
    }),
  );
  const fromFile = values.params ? await loadParamsFile(values.params) : {};
  const params = resolveParameters({
    // The sample's rooms are 2-8 m deep: a colour map over the model's whole 15 m would be flat.
    "colorize.depth_max": 8,
    ...fromFile,
    ...(values.model !== undefined ? { model: values.model } : {}),
  });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const result = await runDemo({
    sampleBag: SAMPLE_BAG,
    outDir: values.out,
    params,
    log,
    info: values.quiet ? () => {} : log,
    showProgress: !values.quiet,
  });
  if (!values.quiet || values.summary) {
    process.stdout.write(`${formatSummary(result.summary)}\n\n`);
    process.stdout.write(`eval of ${result.report.settings.model} against the sample's ground truth:\n`);
    process.stdout.write(`${formatReport(result.report, false)}\n\n`);
  }
  process.stdout.write(`outputs: ${result.outputBag}\npreviews (camera | depth | labels): ${result.previews.length} PNGs in ${join(values.out, "previews")}\n`);
  return 0;
}

export const demoCommand: Command = {
  name: "demo",
  synopsis: "demo [--out <dir>] [--model <bundle dir>]\n                                      Replay + eval of the bundled sample, with PNG previews (npm start)",
  usage: USAGE,
  run,
};
