// `depthseg fit-head --model <bundle> --data <labelled dataset> --out <new bundle>`: the command
// line of src/heads/fit/fitHead.ts, then (with --val) `depthseg eval` of the written bundle.

import { parseArgs } from "node:util";
import { SingleBar } from "cli-progress";
import { resolveParameters } from "../config/parameters.js";
import { DATASET_LAYOUTS, type DatasetLayout } from "../eval/datasets.js";
import { evaluate } from "../eval/evaluate.js";
import { formatReport, segmentationTable } from "../eval/report.js";
import { DEFAULT_SAMPLES_PER_CLASS, FIT_RECORD, fitHead } from "../heads/fit/fitHead.js";
import { DEFAULT_MAX_EPOCHS, HEAD_KINDS, type HeadKind } from "../heads/fit/softmaxHead.js";
import { UsageError, ignoreIndexOption, numberOption, usageErrors, type Command } from "./common.js";

const USAGE = `Usage: depthseg fit-head --model <bundle> --data <labelled dataset> --out <new bundle> [options]

Fits a segmentation head on a model's frozen features (model.yaml outputs.features) from a few
labelled frames, in TypeScript on the CPU, and writes a new bundle whose graph has the head
appended: depth and labels from one encoder pass. The new bundle works in replay, run and eval.

Options:
  -m, --model <bundle dir>     the model bundle; needs outputs.features (required)
  -d, --data <dataset>         labelled frames, any eval layout with labels (required)
  -o, --out <folder>           where the new bundle goes (required; a new folder)
      --labels <labels.yaml>   the classes (default: the model's segmentation labels)
      --frames N               use the first N labelled frames of --data (default all)
      --val <dataset>          validation frames (default: every 5th frame of --data held out)
      --layout L               dataset layout of --data and --val (default detected)
      --head linear|mlp        1x1 softmax classifier, or a two-layer MLP (default linear)
      --hidden N               MLP hidden width (default 64)
      --weight-decay W         L2 penalty on the weights (default 1e-4)
      --samples-per-class N    training pixels per class over all frames (default ${DEFAULT_SAMPLES_PER_CLASS})
      --seed S                 sampling and initialisation seed (default 1)
      --ignore-index N|none    label id not used (default 255)
      --execution-providers P  comma-separated ONNX Runtime providers (default cpu)
  -q, --quiet                  no progress bar
  -h, --help                   this text
      --version                depthseg's version
`;

async function run(args: readonly string[]): Promise<number> {
  const { values } = usageErrors(() =>
    parseArgs({
      args: [...args],
      allowPositionals: false,
      options: {
        model: { type: "string", short: "m" },
        data: { type: "string", short: "d" },
        out: { type: "string", short: "o" },
        labels: { type: "string" },
        frames: { type: "string" },
        val: { type: "string" },
        layout: { type: "string" },
        head: { type: "string", default: "linear" },
        hidden: { type: "string" },
        "weight-decay": { type: "string" },
        "samples-per-class": { type: "string" },
        seed: { type: "string" },
        "ignore-index": { type: "string" },
        "execution-providers": { type: "string", default: "cpu" },
        quiet: { type: "boolean", short: "q", default: false },
      },
    }),
  );
  if (!values.model) throw new UsageError("fit-head needs --model <bundle dir>");
  if (!values.data) throw new UsageError("fit-head needs --data <labelled dataset>");
  if (!values.out) throw new UsageError("fit-head needs --out <folder for the new bundle>");
  const head = values.head as HeadKind;
  if (!HEAD_KINDS.includes(head)) throw new UsageError(`--head must be one of ${HEAD_KINDS.join(", ")}, got "${values.head}"`);
  const layout = values.layout as DatasetLayout | undefined;
  if (layout !== undefined && !DATASET_LAYOUTS.includes(layout)) {
    throw new UsageError(`--layout must be one of ${DATASET_LAYOUTS.join(", ")}, got "${values.layout}"`);
  }
  const positiveInteger = (flag: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const n = numberOption(flag, value, NaN);
    if (!(Number.isInteger(n) && n >= 1)) throw new UsageError(`${flag} must be an integer >= 1, got "${value}"`);
    return n;
  };
  const frames = positiveInteger("--frames", values.frames);
  const hidden = positiveInteger("--hidden", values.hidden);
  const samplesPerClass = positiveInteger("--samples-per-class", values["samples-per-class"]);
  if (hidden !== undefined && head !== "mlp") throw new UsageError("--hidden is the MLP's width: it needs --head mlp");
  const seed = numberOption("--seed", values.seed, 1);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got "${values.seed}"`);
  const weightDecay = values["weight-decay"] === undefined ? undefined : numberOption("--weight-decay", values["weight-decay"], NaN);
  if (weightDecay !== undefined && !(weightDecay >= 0)) throw new UsageError(`--weight-decay must be >= 0, got "${values["weight-decay"]}"`);
  const ignoreIndex = ignoreIndexOption(values["ignore-index"]);
  const providers = values["execution-providers"].split(",").map((p) => p.trim()).filter((p) => p !== "");

  const log = (line: string) => process.stderr.write(`depthseg fit-head: ${line}\n`);
  const bar = !values.quiet && process.stderr.isTTY ? new SingleBar({ stream: process.stderr, format: "fit-head |{bar}| {stage} {value}/{total} | {loss}", hideCursor: true }) : undefined;
  let stage: "frames" | "epochs" | undefined;
  const started = performance.now();
  const result = await fitHead({
    model: values.model,
    data: values.data,
    out: values.out,
    ...(values.labels !== undefined ? { labels: values.labels } : {}),
    ...(frames !== undefined ? { frames } : {}),
    ...(values.val !== undefined ? { val: values.val } : {}),
    ...(layout ? { layout } : {}),
    head,
    ...(hidden !== undefined ? { hidden } : {}),
    ...(weightDecay !== undefined ? { weightDecay } : {}),
    ...(samplesPerClass !== undefined ? { samplesPerClass } : {}),
    seed,
    ignoreIndex,
    providers,
    log: (line) => {
      bar?.stop();
      stage = undefined;
      log(line);
    },
    onFrame: (done, what) => {
      if (!bar) return;
      if (stage !== "frames") {
        bar.start(frames ?? 0, 0, { stage: `features (${what})`, loss: "" });
        stage = "frames";
      }
      if (frames === undefined || what === "val") bar.setTotal(Math.max(done, 1));
      bar.update(done, { stage: `features (${what})` });
    },
    onEpoch: (epoch) => {
      if (!bar) return;
      if (stage !== "epochs") {
        bar.stop();
        bar.start(DEFAULT_MAX_EPOCHS, 0, { stage: "epoch", loss: "" });
        stage = "epochs";
      }
      bar.update(epoch.epoch, { loss: `train loss ${epoch.trainLoss.toFixed(4)}  val loss ${epoch.valLoss.toFixed(4)}` });
    },
  });
  bar?.stop();
  const { record, metrics } = result;
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    [
      `depthseg fit-head: ${record.head} head on ${record.features.name} (${record.features.channels} channels, stride ${record.features.stride}) ` +
        `from ${record.frames.length} frame(s) of ${record.data}, ${record.samples.train} training pixels; ` +
        `epoch ${record.bestEpoch} of ${record.epochs} kept (train loss ${record.trainLoss.toFixed(4)}, val loss ${record.valLoss.toFixed(4)})`,
      `time: ${seconds.toFixed(1)} s in all; features of --data ${record.seconds.features.toFixed(1)} s, fit ${record.seconds.fit.toFixed(1)} s: ` +
        `${record.seconds.perFrame.toFixed(2)} s per frame of --data`,
      `wrote ${result.bundleDir} (model.onnx, model.yaml, labels.yaml, ${FIT_RECORD})`,
      "",
      `validation: ${record.validation.source}, ${record.validation.frames.length} frame(s), at the feature grid (${metrics.pixels} cells)`,
      "",
      ...segmentationTable(metrics),
      "",
    ].join("\n"),
  );
  if (values.val !== undefined) {
    const report = await evaluate({
      data: values.val,
      ...(layout ? { layout } : {}),
      params: resolveParameters({ model: result.bundleDir, execution_providers: providers }),
      align: "none",
      range: { min: 1e-3, max: Infinity },
      ignoreIndex,
      log,
    });
    process.stdout.write(`\n${formatReport(report, false)}\n`);
  }
  return 0;
}

export const fitHeadCommand: Command = {
  name: "fit-head",
  synopsis: "fit-head --model <b> --data <d> --out <o>  Fit a segmentation head on a model's features from labelled frames",
  usage: USAGE,
  run,
};
