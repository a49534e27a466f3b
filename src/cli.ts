// `depthseg <command>`: one entry point, subcommands. Exit codes: 0 ok, 1 failed, 2 usage error.

import { parseArgs } from "node:util";
import { readFile } from "node:fs/promises";
import { FatalError } from "./errors.js";
import { ParameterError, resolveParameters } from "./config/parameters.js";
import { loadParamsFile } from "./config/paramsFile.js";
import { replay } from "./replay/replay.js";
import { formatSummary } from "./replay/summary.js";
import { loadModelBundle } from "./inference/bundle.js";
import { DEFAULT_MODEL_DIR, PACKAGE_ROOT } from "./paths.js";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const USAGE = `Usage: depthseg <command> [options]

Commands:
  replay <in.mcap> --out <out.mcap>   Run the pipeline over a rosbag2 MCAP and write the outputs
      [--model <bundle dir>] [--params <params.yaml>] [--image-topic T] [--camera-info-topic T]
      [--realtime] [--quiet]
  run [--ros-args ...]                Live ROS 2 node (needs a sourced ROS 2)
  models [<bundle dir>]               Show a model bundle (default: the bundled models/tiny)
  help | --help                       This text
  version | --version
`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "replay":
        return await replayCommand(rest);
      case "run":
        return runCommand();
      case "models":
        return await modelsCommand(rest);
      case "version":
      case "--version":
        process.stdout.write(`${await packageVersion()}\n`);
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`depthseg: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`depthseg: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof FatalError || error instanceof ParameterError) {
      process.stderr.write(`depthseg: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`depthseg: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

class UsageError extends Error {}

async function replayCommand(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        out: { type: "string", short: "o" },
        model: { type: "string", short: "m" },
        params: { type: "string", short: "p" },
        "image-topic": { type: "string" },
        "camera-info-topic": { type: "string" },
        realtime: { type: "boolean", default: false },
        quiet: { type: "boolean", short: "q", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError("replay takes exactly one input bag");
  if (!values.out) throw new UsageError("replay needs --out <out.mcap>");

  const fromFile = values.params ? await loadParamsFile(values.params) : {};
  const overrides: Record<string, unknown> = {};
  if (values.model !== undefined) overrides["model"] = values.model;
  if (values["image-topic"] !== undefined) overrides["image_topic"] = values["image-topic"];
  if (values["camera-info-topic"] !== undefined) overrides["camera_info_topic"] = values["camera-info-topic"];
  const params = resolveParameters({ ...fromFile, ...overrides });

  const summary = await replay({
    input: positionals[0]!,
    output: values.out,
    params,
    realtime: values.realtime,
    showProgress: !values.quiet,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${formatSummary(summary)}\n`);
  return 0;
}

function runCommand(): number {
  if (!process.env["AMENT_PREFIX_PATH"] && !process.env["ROS_DISTRO"]) {
    process.stderr.write(
      "depthseg run: ROS 2 is not sourced (AMENT_PREFIX_PATH and ROS_DISTRO are unset).\n" +
        "Source your ROS 2 installation (e.g. `source /opt/ros/jazzy/setup.bash`) and reinstall so rclnodejs builds,\n" +
        "or process recordings offline with `depthseg replay <in.mcap> --out <out.mcap>`.\n",
    );
    return 1;
  }
  process.stderr.write("depthseg run: the live ROS 2 node is not part of this version yet; use `depthseg replay`.\n");
  return 1;
}

async function modelsCommand(args: readonly string[]): Promise<number> {
  const dir = args[0] ?? DEFAULT_MODEL_DIR;
  const bundle = await loadModelBundle(dir);
  const { input, outputs } = bundle;
  const lines = [
    `${bundle.name}  (${dir})`,
    `  onnx          ${bundle.onnxPath}`,
    `  input         ${input.name}: ${input.height}x${input.width} (multiple of ${input.multipleOf}, ${input.resize}, ${input.interpolation}, ${input.color})`,
    `  depth         ${outputs.depth.name}: ${outputs.depth.kind}${outputs.depth.maxDepth !== undefined ? `, max ${outputs.depth.maxDepth} m` : ""}`,
  ];
  if (outputs.segmentation) {
    const classes = outputs.segmentation.labels.classes.map((c) => `${c.id}:${c.name}`).join(" ");
    lines.push(`  segmentation  ${outputs.segmentation.name}: ${classes}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

// Run directly (`npx tsx src/cli.ts …` during development); bin/depthseg.js imports main instead.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
