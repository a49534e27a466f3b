// `depthseg replay <in.mcap> --out <out.mcap>`: the command line of src/replay/replay.ts.

import { parseArgs } from "node:util";
import { resolveParameters } from "../config/parameters.js";
import { loadParamsFile } from "../config/paramsFile.js";
import { exitBySignal } from "../exitBySignal.js";
import { parseTopicSelection, TOPIC_CHOICES } from "../replay/outputTopics.js";
import { replay } from "../replay/replay.js";
import { writeReplayPreviews } from "../demo/previews.js";
import { FatalError } from "../errors.js";
import { OUTPUT_TOPICS } from "../messages/outputMessages.js";
import { CHUNK_COMPRESSIONS, DEFAULT_CHUNK_COMPRESSION, isChunkCompression } from "../transport/mcap/chunkCompression.js";
import { defaultCompressionWorkers, MAX_COMPRESSION_WORKERS } from "../transport/mcap/compressionPool.js";
import { formatSummary } from "../replay/summary.js";
import { readFile } from "node:fs/promises";
import { parseCameraInfoYaml } from "../eval/cameraInfoYaml.js";
import type { ImageCalibration } from "../replay/imageInput.js";
import { UsageError, numberOption, onStopSignals, signalExitCode, usageErrors, type Command } from "./common.js";

const USAGE = `Usage: depthseg replay <in.mcap | folder of images | video file> --out <out.mcap> [options]

Runs the pipeline over a rosbag2 MCAP recording (or a folder of .png/.jpg images, or a video file)
and writes the node's outputs to another MCAP.

Options:
  -o, --out <out.mcap>          output bag (required; a file, not a folder)
  -m, --model <bundle dir>      model bundle (default: the bundled demo model, synthetic scenes only)
  -p, --params <params.yaml>    ROS 2 parameters file (the node's parameters; flags override it)
      --image-topic T           camera image topic (default: found in the bag)
      --camera-info-topic T     its CameraInfo topic (default: found beside the image topic)
      --camera-info <camera_info.yaml>   images and videos: their calibration (ROS camera_info YAML)
      --fov <degrees> | --fx <pixels>    images and videos without calibration: assume a pinhole camera
                                (said loudly in the output: metres are only as right as the guess)
      --realtime                play at the recorded rate; frames inference cannot keep up with are dropped
      --compression zstd|lz4|none   output chunk compression (default ${DEFAULT_CHUNK_COMPRESSION})
      --compression-workers N   threads compressing output chunks (default ${defaultCompressionWorkers()} here: the cores
                                less two, 1 to ${MAX_COMPRESSION_WORKERS}); 0 compresses on the main thread
      --topics a,b,...          what to write (default all): ${TOPIC_CHOICES.join(", ")}
                                (outputs by their name under output_namespace; camera = the input image and
                                CameraInfo; tf = /tf and /tf_static when the input has them)
      --previews <dir>          also write camera | depth | labels PNGs (colour bar in metres, class legend), one per frame
  -q, --quiet                   no progress bar, no informational lines, no summary (warnings still go to stderr)
      --summary                 print the summary even with --quiet
  -h, --help                    this text
      --version                 depthseg's version

Ctrl-C: finishes the frames in flight, closes the output complete, then exits 130.
`;

async function run(args: readonly string[]): Promise<number> {
  const { values, positionals } = usageErrors(() =>
    parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        out: { type: "string", short: "o" },
        model: { type: "string", short: "m" },
        params: { type: "string", short: "p" },
        "image-topic": { type: "string" },
        "camera-info-topic": { type: "string" },
        realtime: { type: "boolean", default: false },
        compression: { type: "string", default: DEFAULT_CHUNK_COMPRESSION },
        "compression-workers": { type: "string" },
        topics: { type: "string" },
        previews: { type: "string" },
        "camera-info": { type: "string" },
        fov: { type: "string" },
        fx: { type: "string" },
        quiet: { type: "boolean", short: "q", default: false },
        summary: { type: "boolean", default: false },
      },
    }),
  );
  if (positionals.length !== 1) throw new UsageError("replay takes exactly one input bag");
  if (!values.out) throw new UsageError("replay needs --out <out.mcap>");
  const compression = values.compression;
  if (!isChunkCompression(compression)) {
    throw new UsageError(`--compression must be one of ${CHUNK_COMPRESSIONS.join(", ")}, got "${compression}"`);
  }
  const compressionWorkers = numberOption("--compression-workers", values["compression-workers"], defaultCompressionWorkers());
  if (!Number.isInteger(compressionWorkers) || compressionWorkers < 0) {
    throw new UsageError(`--compression-workers must be a whole number >= 0, got "${values["compression-workers"]}"`);
  }
  let topics;
  try {
    topics = values.topics === undefined ? undefined : parseTopicSelection(values.topics);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const imageCalibration = await imageCalibrationOption(values["camera-info"], values.fov, values.fx);
  if (values.previews !== undefined && topics !== undefined && !topics.outputs.has(OUTPUT_TOPICS.depthColorized)) {
    throw new UsageError(`--previews draws from depth/colorized (and segmentation/colorized): add them to --topics`);
  }

  const fromFile = values.params ? await loadParamsFile(values.params) : {};
  const overrides: Record<string, unknown> = {};
  if (values.model !== undefined) overrides["model"] = values.model;
  if (values["image-topic"] !== undefined) overrides["image_topic"] = values["image-topic"];
  if (values["camera-info-topic"] !== undefined) overrides["camera_info_topic"] = values["camera-info-topic"];
  const params = resolveParameters({ ...fromFile, ...overrides });

  const log = (line: string) => process.stderr.write(`${line}\n`);
  const info = values.quiet ? () => {} : log;
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
      info,
      stop: stop.signal,
      onOutputOpened: (path) => (partialPath = path),
      compression,
      compressionWorkers,
      ...(topics !== undefined ? { topics } : {}),
      ...(imageCalibration !== undefined ? { imageCalibration } : {}),
    });
    if (!values.quiet || values.summary) process.stdout.write(`${formatSummary(summary)}\n`);
    if (values.previews !== undefined) {
      const written = await writeReplayPreviews(summary, params, values.previews).catch((error: unknown) => {
        throw new FatalError(`--previews ${values.previews}: ${(error as Error).message}`);
      });
      info(`previews (camera | depth | labels): ${written.length} PNGs in ${values.previews}`);
    }
    // Stopped by a signal: the output is complete, but the run is not; say so the shell's way.
    return summary.stoppedBy === undefined ? 0 : signalExitCode(summary.stoppedBy);
  } finally {
    removeHandlers();
  }
}

/** At most one of --camera-info, --fov, --fx. */
async function imageCalibrationOption(
  cameraInfo: string | undefined,
  fov: string | undefined,
  fx: string | undefined,
): Promise<ImageCalibration | undefined> {
  const given = [cameraInfo, fov, fx].filter((v) => v !== undefined).length;
  if (given > 1) throw new UsageError("give one of --camera-info, --fov, --fx");
  if (cameraInfo !== undefined) {
    const text = await readFile(cameraInfo, "utf8").catch((error: NodeJS.ErrnoException) => {
      throw new FatalError(`--camera-info ${cameraInfo}: ${error.code === "ENOENT" ? "no such file" : error.message}`);
    });
    return { kind: "camera_info", path: cameraInfo, calibration: parseCameraInfoYaml(text, cameraInfo) };
  }
  if (fov !== undefined) {
    const degrees = numberOption("--fov", fov, NaN);
    if (!(degrees > 0 && degrees < 180)) throw new UsageError(`--fov must be in (0, 180) degrees, got ${fov}`);
    return { kind: "fov", horizontalDegrees: degrees };
  }
  if (fx !== undefined) {
    const pixels = numberOption("--fx", fx, NaN);
    if (!(pixels > 0)) throw new UsageError(`--fx must be > 0 pixels, got ${fx}`);
    return { kind: "fx", fx: pixels };
  }
  return undefined;
}

export const replayCommand: Command = {
  name: "replay",
  synopsis: "replay <in.mcap | images | video> --out <out.mcap>\n                                      Run the pipeline over a rosbag2 MCAP (or images, a video) and write the outputs",
  usage: USAGE,
  run,
};
