// `depthseg <command>`: one entry point, subcommands. Exit codes: 0 ok, 1 failed, 2 usage error.

import { constants as osConstants } from "node:os";
import { parseArgs } from "node:util";
import { readFile } from "node:fs/promises";
import { FatalError } from "./errors.js";
import { ParameterError, resolveParameters } from "./config/parameters.js";
import { loadParamsFile } from "./config/paramsFile.js";
import { replay } from "./replay/replay.js";
import { formatSummary } from "./replay/summary.js";
import { loadModelBundle, type DepthOutputSpec } from "./inference/bundle.js";
import { DEFAULT_MODEL_DIR, PACKAGE_ROOT, SAMPLE_BAG } from "./paths.js";
import { runDemo } from "./demo/demo.js";
import { formatReport } from "./eval/report.js";
import { evalCommand } from "./commands/eval.js";
import { UsageError } from "./commands/usageError.js";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { LiveNode } from "./transport/ros/liveNode.js";
import { ROS_NOT_SOURCED, loadRclnodejs, rosEnvironment } from "./transport/ros/rosEnvironment.js";
import type { RclModule } from "./transport/ros/rclPort.js";
import { exitBySignal } from "./exitBySignal.js";

const USAGE = `Usage: depthseg <command> [options]

Commands:
  replay <in.mcap> --out <out.mcap>   Run the pipeline over a rosbag2 MCAP and write the outputs
      [--model <bundle dir>] [--params <params.yaml>] [--image-topic T] [--camera-info-topic T]
      [--realtime] [--quiet]          (Ctrl-C: finishes the frames in flight, then exits 130)
  eval --data <bag.mcap | folder>     Depth and segmentation metrics against ground truth
      [--model <bundle dir>] [--layout L] [--align none|median|scale-shift] [--min-depth M] [--max-depth M]
      [--protocol standard|zoedepth] [--crop none|eigen|kitti-eigen|garg] [--depth-scale S]
      [--ignore-index N|none] [--class-map <map.yaml>] [--json <out.json>] [--verbose] [--params <params.yaml>]
      [--image-topic T] [--camera-info-topic T] [--depth-topic T] [--labels-topic T] [--gt-slop SEC]
      [--intrinsics fr1|fr2|fr3|ros] [--split S]
      layouts: mcap, folder, tum, nyu, sunrgbd, images-labels, cityscapes (detected when not given)
  demo [--out <dir>] [--model <bundle dir>]
                                      Replay + eval of the bundled sample, with PNG previews (npm start)
  run [--ros-args ...]                Live ROS 2 node (needs a sourced ROS 2; run --help for details)
  models [<bundle dir>]               Show a model bundle (default: the bundled models/demo)
  help | --help                       This text
  version | --version
`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "replay":
        return await replayCommand(rest);
      case "eval":
        return await evalCommand(rest);
      case "run":
        return await runCommand(rest);
      case "demo":
        return await demoCommand(rest);
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

  const log = (line: string) => process.stderr.write(`${line}\n`);
  const output = values.out;
  const stop = new AbortController();
  let partialPath: string | undefined;
  const removeHandlers = onStopSignals(
    process,
    (signal) => {
      log(`depthseg replay: ${signal}: finishing the frames in flight, then closing ${output} (${signal} again exits at once)`);
      stop.abort(signal);
    },
    (signal) => {
      const where =
        partialPath === undefined
          ? ""
          : `; the frames written so far are in ${partialPath} (no summary or index: read it with a stream reader or \`mcap recover\`)`;
      log(`depthseg replay: ${signal} again, exiting without closing ${output}${where}`);
      exitBySignal(signal);
    },
  );
  try {
    const summary = await replay({
      input: positionals[0]!,
      output,
      params,
      realtime: values.realtime,
      showProgress: !values.quiet,
      log,
      stop: stop.signal,
      onOutputOpened: (path) => (partialPath = path),
    });
    process.stdout.write(`${formatSummary(summary)}\n`);
    // Stopped by a signal: the output is complete, but the run is not; say so the shell's way.
    return summary.stoppedBy === undefined ? 0 : signalExitCode(summary.stoppedBy);
  } finally {
    removeHandlers();
  }
}

/** 128 + the signal's number, as a shell reports a process ended by it (130 for SIGINT). */
function signalExitCode(signal: string): number {
  return 128 + (osConstants.signals[signal as NodeJS.Signals] ?? 0);
}

/**
 * SIGINT/SIGTERM handlers: the first signal calls `stop`, a second one `now` (for a run stuck
 * finishing a frame). Returns a function that removes them.
 */
function onStopSignals(
  signals: SignalSource,
  stop: (signal: NodeJS.Signals) => void,
  now: (signal: NodeJS.Signals) => void,
): () => void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received > 1) now(signal);
    else stop(signal);
  };
  signals.on("SIGINT", onSignal);
  signals.on("SIGTERM", onSignal);
  return () => {
    signals.off("SIGINT", onSignal);
    signals.off("SIGTERM", onSignal);
  };
}

async function demoCommand(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        out: { type: "string", short: "o", default: join("out", "demo") },
        model: { type: "string", short: "m" },
        params: { type: "string", short: "p" },
        quiet: { type: "boolean", short: "q", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  const fromFile = values.params ? await loadParamsFile(values.params) : {};
  const params = resolveParameters({
    // The sample's rooms are 2-8 m deep: a colour map over the model's whole 15 m would be flat.
    "colorize.depth_max": 8,
    ...fromFile,
    ...(values.model !== undefined ? { model: values.model } : {}),
  });
  const result = await runDemo({
    sampleBag: SAMPLE_BAG,
    outDir: values.out,
    params,
    log: (line) => process.stderr.write(`${line}\n`),
    showProgress: !values.quiet,
  });
  process.stdout.write(`${formatSummary(result.summary)}\n\n`);
  process.stdout.write(`eval of ${result.report.settings.model} against the sample's ground truth:\n`);
  process.stdout.write(`${formatReport(result.report, false)}\n\n`);
  process.stdout.write(`outputs: ${result.outputBag}\npreviews (camera | depth | labels): ${result.previews.length} PNGs in ${join(values.out, "previews")}\n`);
  return 0;
}

const RUN_USAGE = `Usage: depthseg run [--ros-args ...]

Runs the live ROS 2 node "depthseg" (ROS 2 must be sourced). Everything is set the ROS way:
  --ros-args --params-file config/depthseg.params.yaml   parameters (see README)
             -p model:=/path/to/bundle                   one parameter
             -r image:=/camera/color/image_raw           remap inputs (also camera_info, image/compressed)
             -r __ns:=/depthseg                          node namespace (outputs go under it)
Stop with Ctrl-C or SIGTERM: frames in flight finish, then the node exits with 0.
`;

async function runCommand(args: readonly string[]): Promise<number> {
  const rosArgsAt = args.indexOf("--ros-args");
  const ownArgs = rosArgsAt === -1 ? args : args.slice(0, rosArgsAt);
  if (ownArgs.includes("--help") || ownArgs.includes("-h")) {
    process.stdout.write(RUN_USAGE);
    return 0;
  }
  if (ownArgs.length > 0) {
    throw new UsageError(`run takes ROS arguments only (after --ros-args), got "${ownArgs.join(" ")}"; e.g. -p model:=<bundle>`);
  }
  if (!rosEnvironment().sourced) {
    process.stderr.write(`depthseg run: ${ROS_NOT_SOURCED}\n`);
    return 1;
  }
  const code = await runLiveNode(loadRclnodejs(), [process.argv[0] ?? "node", process.argv[1] ?? "depthseg", ...args]);
  // Everything is closed; should a native handle still hold the event loop, do not hang on exit.
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}

/** Where SIGINT/SIGTERM come from: the process, or a test's emitter. */
export type SignalSource = Pick<NodeJS.EventEmitter, "on" | "off">;

/**
 * Runs the live node until SIGINT or SIGTERM (or a fatal error) and resolves to the exit code.
 * A second signal ends the process at once by that signal (status 130 for SIGINT), for a node
 * stuck finishing a frame.
 */
export async function runLiveNode(
  rcl: RclModule,
  argv: readonly string[],
  signals: SignalSource = process,
  forceExit: (signal: NodeJS.Signals) => void = exitBySignal,
): Promise<number> {
  const node = await LiveNode.start({ rcl, argv });
  const removeHandlers = onStopSignals(
    signals,
    (signal) => void node.shutdown(`${signal} received`),
    (signal) => {
      process.stderr.write(`depthseg run: ${signal} again, exiting without waiting\n`);
      forceExit(signal);
    },
  );
  try {
    await node.stopped;
  } finally {
    removeHandlers();
  }
  if (node.fatalError) {
    process.stderr.write(`depthseg run: ${node.fatalError.message}\n`);
    return 1;
  }
  return 0;
}

async function modelsCommand(args: readonly string[]): Promise<number> {
  const dir = args[0] ?? DEFAULT_MODEL_DIR;
  const bundle = await loadModelBundle(dir);
  const { input, outputs } = bundle;
  const lines = [
    `${bundle.name}  (${dir})`,
    `  onnx          ${bundle.onnxPath}`,
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
