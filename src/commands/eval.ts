// `depthseg eval --data <bag.mcap | folder>`: the command line of src/eval/evaluate.ts.

import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { resolveParameters } from "../config/parameters.js";
import { loadParamsFile } from "../config/paramsFile.js";
import { FatalError } from "../errors.js";
import { ALIGN_MODES, type AlignMode } from "../eval/alignment.js";
import { loadClassMap } from "../eval/classMap.js";
import { DATASET_LAYOUTS, type DatasetLayout } from "../eval/datasets.js";
import { DEPTH_CROPS, DEPTH_PROTOCOLS, type DepthCrop, type DepthProtocol } from "../eval/depthMetrics.js";
import { evaluate } from "../eval/evaluate.js";
import { formatReport, reportJson } from "../eval/report.js";
import { UsageError, ignoreIndexOption, numberOption, usageErrors, type Command } from "./common.js";

const USAGE = `Usage: depthseg eval --data <bag.mcap | folder> [options]

Depth and segmentation metrics of a model against ground truth: a bag with depth/label topics, or a
dataset folder (layouts: ${DATASET_LAYOUTS.join(", ")}; detected when --layout is not given).

Options:
  -d, --data <bag.mcap | folder>   the dataset (required)
      --layout L                   dataset layout (see README, "depthseg eval")
  -m, --model <bundle dir>         model bundle (default: the bundled demo model)
  -p, --params <params.yaml>       ROS 2 parameters file
      --align none|median|scale-shift   align predictions to ground truth first (default none)
      --protocol standard|zoedepth ZoeDepth's compute_metrics (strict bounds, clamping, crops)
      --crop none|eigen|kitti-eigen|garg   with --protocol zoedepth
      --min-depth M --max-depth M  evaluated depth range in metres (default 0.001 to no limit)
      --depth-scale S              depth PNG units per metre (default: the layout's)
      --gt-slop SEC                bags: ground truth paired within this many seconds (default 0.005)
      --class-map <map.yaml>       dataset label ids -> the model's ids (or ignore)
      --intrinsics fr1|fr2|fr3|ros TUM RGB-D: which documented intrinsics
      --split S                    Cityscapes split (default val)
      --ignore-index N|none        label id not scored (default 255)
      --json <out.json>            also write the report as JSON
  -v, --verbose                    per-frame and per-class rows
      --image-topic T --camera-info-topic T --depth-topic T --labels-topic T   bag topics
  -h, --help                       this text
      --version                    depthseg's version
`;

/** Evaluation range defaults: 1 mm (as ZoeDepth's and Depth Anything's eval) to no upper limit. */
const DEFAULT_MIN_DEPTH = 1e-3;

async function run(args: readonly string[]): Promise<number> {
  const { values } = usageErrors(() =>
    parseArgs({
      args: [...args],
      allowPositionals: false,
      options: {
        data: { type: "string", short: "d" },
        model: { type: "string", short: "m" },
        params: { type: "string", short: "p" },
        align: { type: "string", default: "none" },
        "min-depth": { type: "string" },
        "max-depth": { type: "string" },
        "depth-scale": { type: "string" },
        "ignore-index": { type: "string" },
        json: { type: "string" },
        verbose: { type: "boolean", short: "v", default: false },
        "image-topic": { type: "string" },
        "camera-info-topic": { type: "string" },
        "depth-topic": { type: "string" },
        "labels-topic": { type: "string" },
        layout: { type: "string" },
        "gt-slop": { type: "string" },
        "class-map": { type: "string" },
        protocol: { type: "string", default: "standard" },
        crop: { type: "string", default: "none" },
        intrinsics: { type: "string" },
        split: { type: "string" },
      },
    }),
  );
  const layout = values.layout as DatasetLayout | undefined;
  if (layout !== undefined && !DATASET_LAYOUTS.includes(layout)) {
    throw new UsageError(`--layout must be one of ${DATASET_LAYOUTS.join(", ")}, got "${values.layout}"`);
  }
  const protocol = values.protocol as DepthProtocol;
  if (!DEPTH_PROTOCOLS.includes(protocol)) throw new UsageError(`--protocol must be one of ${DEPTH_PROTOCOLS.join(", ")}, got "${values.protocol}"`);
  const crop = values.crop as DepthCrop;
  if (!DEPTH_CROPS.includes(crop)) throw new UsageError(`--crop must be one of ${DEPTH_CROPS.join(", ")}, got "${values.crop}"`);
  if (crop !== "none" && protocol !== "zoedepth") throw new UsageError("--crop is part of --protocol zoedepth");
  if (!values.data) throw new UsageError("eval needs --data <bag.mcap | folder>");
  const align = values.align as AlignMode;
  if (!ALIGN_MODES.includes(align)) throw new UsageError(`--align must be one of ${ALIGN_MODES.join(", ")}, got "${values.align}"`);
  const minDepth = numberOption("--min-depth", values["min-depth"], DEFAULT_MIN_DEPTH);
  const maxDepth = numberOption("--max-depth", values["max-depth"], Infinity);
  if (minDepth < 0) throw new UsageError(`--min-depth must be >= 0, got ${minDepth}`);
  if (!(maxDepth > minDepth)) throw new UsageError(`--max-depth (${maxDepth}) must be greater than --min-depth (${minDepth})`);
  const depthScale = values["depth-scale"] === undefined ? undefined : numberOption("--depth-scale", values["depth-scale"], NaN);
  if (depthScale !== undefined && !(depthScale > 0)) throw new UsageError(`--depth-scale must be > 0, got ${depthScale}`);
  const gtSlopSec = values["gt-slop"] === undefined ? undefined : numberOption("--gt-slop", values["gt-slop"], NaN);
  if (gtSlopSec !== undefined && !(gtSlopSec >= 0 && gtSlopSec <= 10)) throw new UsageError(`--gt-slop must be seconds in 0..10, got ${gtSlopSec}`);
  if (protocol === "zoedepth" && (!(minDepth > 0) || !Number.isFinite(maxDepth))) {
    throw new UsageError("--protocol zoedepth clamps predictions into [--min-depth, --max-depth]: give --max-depth (e.g. 10 for NYU, 80 for KITTI) and --min-depth > 0");
  }
  const classMap = values["class-map"] !== undefined ? await loadClassMap(values["class-map"]) : undefined;
  const ignoreIndex = ignoreIndexOption(values["ignore-index"]);

  const fromFile = values.params ? await loadParamsFile(values.params) : {};
  const overrides: Record<string, unknown> = {};
  if (values.model !== undefined) overrides["model"] = values.model;
  if (values["image-topic"] !== undefined) overrides["image_topic"] = values["image-topic"];
  if (values["camera-info-topic"] !== undefined) overrides["camera_info_topic"] = values["camera-info-topic"];
  const params = resolveParameters({ ...fromFile, ...overrides });

  const log = (line: string) => process.stderr.write(`depthseg eval: ${line}\n`);
  const report = await evaluate({
    data: values.data,
    ...(layout ? { layout } : {}),
    params,
    align,
    protocol,
    crop,
    range: { min: minDepth, max: maxDepth },
    ...(depthScale !== undefined ? { depthScale } : {}),
    ...(gtSlopSec !== undefined ? { gtSlopSec } : {}),
    ...(classMap ? { classMap } : {}),
    ...(values.intrinsics !== undefined ? { intrinsics: values.intrinsics } : {}),
    ...(values.split !== undefined ? { split: values.split } : {}),
    ignoreIndex,
    ...(values["depth-topic"] !== undefined ? { depthTopic: values["depth-topic"] } : {}),
    ...(values["labels-topic"] !== undefined ? { labelsTopic: values["labels-topic"] } : {}),
    log,
  });
  if (values["depth-scale"] !== undefined && report.settings.depthScale === null) {
    log("--depth-scale applies to depth PNGs; 16UC1 depth in a bag is millimetres (REP 118)");
  }
  if (values["gt-slop"] !== undefined && report.settings.dataKind !== "mcap") log("--gt-slop applies to bags");
  process.stdout.write(`${formatReport(report, values.verbose)}\n`);
  if (values.json) {
    const path = resolve(values.json);
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, reportJson(report));
    } catch (error) {
      throw new FatalError(`cannot write ${values.json}: ${(error as Error).message}`);
    }
  }
  return 0;
}

export const evalCommand: Command = {
  name: "eval",
  synopsis: "eval --data <bag.mcap | folder>     Depth and segmentation metrics against ground truth",
  usage: USAGE,
  run,
};
