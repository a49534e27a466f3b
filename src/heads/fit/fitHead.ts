// `depthseg fit-head`: fits a segmentation head on a bundle's frozen features from a few labelled
// frames and writes a new bundle whose graph has the head appended to the feature output
// (resized to the depth output), so depth and labels come from one encoder pass.
//
// Frames come through eval's dataset readers (any layout with labels); each frame is run once
// through the original graph (ONNX Runtime) for its features; cells of the feature grid take the
// label under their centre and are drawn class-balanced. Validation: --val's frames, else every
// fifth frame of --data (the last one when fewer than five), else (one frame) a fifth of its
// samples. The metrics printed are on the validation frames at the feature grid's resolution;
// with --val, `depthseg eval` of the written bundle on --val follows as well.

import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { InferenceSession } from "onnxruntime-node";
import { Tensor } from "onnxruntime-node";
import { parseDocument } from "yaml";
import { CleanupStack } from "../../cleanupStack.js";
import { FatalError } from "../../errors.js";
import { openDataset, type DatasetLayout } from "../../eval/datasets.js";
import { ConfusionMatrix, type SegmentationMetrics } from "../../eval/segmentationMetrics.js";
import { loadModelBundle, validateBundleAgainstGraph, type ModelBundle } from "../../inference/bundle.js";
import { loadLabels, type LabelSet } from "../../inference/labels.js";
import { toInputTensor } from "../../inference/preprocess.js";
import { createSessionWithFallback } from "../../inference/providers.js";
import { appendHead, decodeModel, encodeModel, GraphEditError, removeOutputs } from "../../onnx/graph.js";
import { mulberry32 } from "../../synthetic/prng.js";
import { classesOnGrid, classIndexTable, gatherCells, IGNORED, sampleCellsPerClass, unknownIds } from "./featureSamples.js";
import { applyHead, argmaxRows, fitSoftmaxHead, type EpochReport, type FittedHead, type HeadKind, type LabelledSamples } from "./softmaxHead.js";

/** The graph output the fitted head writes. */
export const FITTED_LOGITS = "fitted_logits";
/** The fit record written beside the new bundle's model.yaml. */
export const FIT_RECORD = "fit.json";
/** Default cap of training samples per class over all frames. */
export const DEFAULT_SAMPLES_PER_CLASS = 4000;
/** Without --val, every VAL_EVERY-th frame of --data is held out. */
const VAL_EVERY = 5;

export interface FitHeadOptions {
  readonly model: string;
  readonly data: string;
  readonly out: string;
  /** labels.yaml; default the bundle's own segmentation labels. */
  readonly labels?: string;
  /** Use the first N labelled frames of --data; default all. */
  readonly frames?: number;
  readonly val?: string;
  readonly layout?: DatasetLayout;
  readonly head: HeadKind;
  readonly hidden?: number;
  readonly weightDecay?: number;
  readonly samplesPerClass?: number;
  readonly seed: number;
  /** Label value not used for fitting or scoring; undefined: none. */
  readonly ignoreIndex: number | undefined;
  readonly providers: readonly string[];
  readonly log: (line: string) => void;
  readonly onFrame?: (done: number, what: "data" | "val") => void;
  readonly onEpoch?: (epoch: EpochReport) => void;
}

export interface FitRecord {
  readonly command: "depthseg fit-head";
  readonly sourceModel: string;
  readonly features: { readonly name: string; readonly stride: number; readonly channels: number };
  readonly data: string;
  readonly frames: readonly string[];
  readonly validation: { readonly source: string; readonly frames: readonly string[] };
  readonly seed: number;
  readonly head: HeadKind;
  readonly hidden: number | null;
  readonly weightDecay: number;
  readonly samplesPerClass: number;
  readonly samples: { readonly train: number; readonly val: number };
  readonly epochs: number;
  readonly bestEpoch: number;
  readonly trainLoss: number;
  readonly valLoss: number;
  /** On the validation frames at the feature grid's resolution. */
  readonly valMIoU: number;
  readonly valPixelAccuracy: number;
  /** features: --data's frames through the model; fit: sampling excluded, the optimisation. */
  readonly seconds: { readonly features: number; readonly fit: number; readonly perFrame: number };
}

export interface FitHeadResult {
  readonly bundleDir: string;
  readonly record: FitRecord;
  readonly metrics: SegmentationMetrics;
  readonly head: FittedHead;
}

interface FrameFeatures {
  readonly stem: string;
  readonly features: Float32Array;
  readonly channels: number;
  readonly cells: number;
  readonly cellClasses: Int32Array;
}

export async function fitHead(options: FitHeadOptions): Promise<FitHeadResult> {
  return CleanupStack.run(async (cleanups) => {
    const bundle = await loadModelBundle(options.model);
    const featuresSpec = bundle.outputs.features;
    if (!featuresSpec) throw new FatalError(noFeaturesMessage(bundle));
    const out = resolve(options.out);
    if (out === bundle.dir) throw new FatalError(`--out ${options.out} is the source bundle: write the fitted bundle to a new folder`);
    await requireWritableOut(options.out);
    const labelsPath = options.labels ?? bundle.outputs.segmentation?.labelsPath;
    if (labelsPath === undefined) {
      throw new FatalError(`${bundle.yamlPath} has no segmentation labels: give the classes with --labels labels.yaml (classes: - { id, name, color })`);
    }
    const labels = await loadLabels(labelsPath);
    const table = classIndexTable(labels.classes.map((c) => c.id), options.ignoreIndex);

    const { session } = await createSessionWithFallback(bundle.onnxPath, options.providers);
    cleanups.push(() => session.release());
    validateBundleAgainstGraph(bundle, session.inputNames, session.outputNames);

    const featureStart = performance.now();
    const trainAll = await readFrames(options.data, "--data", options, bundle, session, table, labelsPath, options.frames);
    // Reading, decoding and running the model on --data's frames (--val's are not counted).
    const featureSeconds = (performance.now() - featureStart) / 1000;
    let trainFrames = trainAll;
    let valFrames: FrameFeatures[] = [];
    let valSource: string;
    if (options.val !== undefined) {
      valFrames = await readFrames(options.val, "--val", options, bundle, session, table, labelsPath, undefined);
      valSource = options.val;
    } else if (trainAll.length >= 2) {
      const held = trainAll.filter((_, i) => i % VAL_EVERY === VAL_EVERY - 1);
      valFrames = held.length > 0 ? held : [trainAll[trainAll.length - 1]!];
      trainFrames = trainAll.filter((f) => !valFrames.includes(f));
      valSource = `held-out frames of ${options.data}`;
    } else {
      valSource = `a fifth of the samples of ${options.data}'s only frame (no held-out frame: the metrics are not on unseen frames)`;
      options.log("one frame and no --val: validating on held-out pixels of the training frame; give --val for a real held-out score");
    }

    const channels = trainAll[0]!.channels;
    const K = labels.classes.length;
    const samplesPerClass = options.samplesPerClass ?? DEFAULT_SAMPLES_PER_CLASS;
    const rng = mulberry32(options.seed);
    let train = sampleFrames(trainFrames, K, Math.ceil(samplesPerClass / trainFrames.length), rng);
    let val: LabelledSamples;
    if (valFrames.length > 0) {
      val = sampleFrames(valFrames, K, Math.ceil(samplesPerClass / valFrames.length), rng);
    } else {
      [train, val] = splitSamples(train, channels, 0.2, rng);
      valFrames = trainFrames;
    }
    if (train.count === 0) throw new FatalError(`${options.data}: no labelled pixel of a class in ${labelsPath} (everything is ignored)`);
    if (val.count === 0) throw new FatalError(`${valSource}: no labelled pixel of a class in ${labelsPath}`);
    const present = new Set(train.classes);
    const missing = labels.classes.filter((_, k) => !present.has(k)).map((c) => `${c.id} ${c.name}`);
    if (missing.length > 0) options.log(`no training pixel of class ${missing.join(", ")}: the head will rarely predict it`);

    const fitStart = performance.now();
    const head = fitSoftmaxHead(train, val, {
      channels,
      classes: K,
      head: options.head,
      ...(options.hidden !== undefined ? { hidden: options.hidden } : {}),
      ...(options.weightDecay !== undefined ? { weightDecay: options.weightDecay } : {}),
      seed: options.seed,
      ...(options.onEpoch ? { onEpoch: options.onEpoch } : {}),
    });
    const fitSeconds = (performance.now() - fitStart) / 1000;
    const metrics = gridMetrics(head, valFrames, labels, options.ignoreIndex);

    const record: FitRecord = {
      command: "depthseg fit-head",
      sourceModel: bundle.dir,
      features: { name: featuresSpec.name, stride: featuresSpec.stride, channels },
      data: options.data,
      frames: trainFrames.map((f) => f.stem),
      validation: { source: valSource, frames: valFrames.map((f) => f.stem) },
      seed: options.seed,
      head: options.head,
      hidden: options.head === "mlp" ? head.layers[0]!.outChannels : null,
      weightDecay: options.weightDecay ?? 1e-4,
      samplesPerClass,
      samples: { train: train.count, val: val.count },
      epochs: head.epochs,
      bestEpoch: head.bestEpoch,
      trainLoss: head.trainLoss,
      valLoss: head.valLoss,
      valMIoU: metrics.mIoU,
      valPixelAccuracy: metrics.pixelAccuracy,
      // Per frame of --data used (training and held-out): what labelling one more frame costs.
      seconds: { features: featureSeconds, fit: fitSeconds, perFrame: (featureSeconds + fitSeconds) / trainAll.length },
    };
    await writeFittedBundle(bundle, head, out, await readFile(labelsPath, "utf8"), record);
    return { bundleDir: out, record, metrics, head };
  });
}

/** The error for a bundle with no features output: what it is, and how to get one. */
export function noFeaturesMessage(bundle: ModelBundle): string {
  return (
    `${bundle.yamlPath} has no outputs.features: fit-head needs the graph to expose a feature map [1, C, h, w] ` +
    "(e.g. the encoder's last feature map). Add one to the bundle with " +
    `\`depthseg expose-features ${bundle.dir} --tensor <graph tensor name> --stride <input size / feature size>\` ` +
    "(it edits model.onnx and adds `outputs.features: { name, stride }` to model.yaml), " +
    "or export the model with its features as a graph output and declare them there"
  );
}

async function requireWritableOut(path: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(path);
  } catch {
    return; // absent: created later
  }
  if (entries.length > 0 && !entries.includes(FIT_RECORD)) {
    throw new FatalError(`--out ${path} is a folder with other files: give a new folder (or an earlier fit-head output, which is replaced)`);
  }
}

async function readFrames(
  path: string,
  flag: string,
  options: FitHeadOptions,
  bundle: ModelBundle,
  session: InferenceSession,
  table: Int32Array,
  labelsPath: string,
  limit: number | undefined,
): Promise<FrameFeatures[]> {
  const dataset = await openDataset(path, { ...(options.layout ? { layout: options.layout } : {}), log: options.log });
  try {
    if (!dataset.hasLabels) throw new FatalError(`${flag} ${path}: the dataset has no label images (fit-head needs labelled frames)`);
    const featuresName = bundle.outputs.features!.name;
    const frames: FrameFeatures[] = [];
    for await (const sample of dataset.samples()) {
      if (limit !== undefined && frames.length >= limit) break;
      const labels = sample.gtLabels;
      if (!labels) continue;
      const { width, height } = sample.frame.image;
      if (labels.length !== width * height) {
        throw new FatalError(`${flag} ${path}: ${sample.stem}'s labels have ${labels.length} pixels, its image is ${width}x${height} (${width * height}): label images must be the image's size`);
      }
      const unknown = unknownIds(labels, table);
      if (unknown.size > 0) {
        const list = [...unknown].sort((a, b) => a[0] - b[0]).map(([id, n]) => `${id} (${n} px)`).join(", ");
        throw new FatalError(
          `${flag} ${path}: ${sample.stem} has label ids ${list} that are not classes in ${labelsPath}` +
            (options.ignoreIndex !== undefined ? ` nor the ignore index ${options.ignoreIndex}` : "") +
            ": add them to the labels file or pass --ignore-index",
        );
      }
      const input = toInputTensor(sample.frame.image, bundle.input);
      const result = await session.run({ [bundle.input.name]: new Tensor("float32", input.data, input.dims) }, [featuresName]);
      const tensor = result[featuresName]!;
      const dims = tensor.dims;
      if (dims.length !== 4 || dims[0] !== 1) {
        throw new FatalError(`${bundle.onnxPath}: outputs.features "${featuresName}" has shape [${dims.join(", ")}]; fit-head needs [1, C, h, w]`);
      }
      const [, channels, gridHeight, gridWidth] = dims as [number, number, number, number];
      const features = Float32Array.from(tensor.data as Float32Array);
      tensor.dispose();
      frames.push({
        stem: sample.stem,
        features,
        channels,
        cells: gridWidth * gridHeight,
        cellClasses: classesOnGrid(labels, width, height, gridWidth, gridHeight, table),
      });
      options.onFrame?.(frames.length, flag === "--val" ? "val" : "data");
    }
    if (frames.length === 0) throw new FatalError(`${flag} ${path}: no labelled frame to fit on`);
    return frames;
  } finally {
    await dataset.close();
  }
}

function sampleFrames(frames: readonly FrameFeatures[], classes: number, perClassPerFrame: number, rng: () => number): LabelledSamples {
  const parts: { features: Float32Array; classes: Int32Array }[] = [];
  for (const frame of frames) {
    const cells = sampleCellsPerClass(frame.cellClasses, classes, perClassPerFrame, rng);
    parts.push({ features: gatherCells(frame.features, frame.channels, frame.cells, cells), classes: cells.map((c) => frame.cellClasses[c]!) });
  }
  const count = parts.reduce((n, p) => n + p.classes.length, 0);
  const features = new Float32Array(count * (frames[0]?.channels ?? 0));
  const labels = new Int32Array(count);
  let at = 0;
  for (const p of parts) {
    features.set(p.features, at * (frames[0]?.channels ?? 0));
    labels.set(p.classes, at);
    at += p.classes.length;
  }
  return { features, classes: labels, count };
}

function splitSamples(all: LabelledSamples, channels: number, valFraction: number, rng: () => number): [LabelledSamples, LabelledSamples] {
  const isVal = Array.from({ length: all.count }, () => rng() < valFraction);
  const pick = (want: boolean): LabelledSamples => {
    const rows = isVal.flatMap((v, i) => (v === want ? [i] : []));
    const features = new Float32Array(rows.length * channels);
    rows.forEach((r, i) => features.set(all.features.subarray(r * channels, (r + 1) * channels), i * channels));
    return { features, classes: Int32Array.from(rows, (r) => all.classes[r]!), count: rows.length };
  };
  return [pick(false), pick(true)];
}

/** Confusion matrix of the head's argmax against the grid labels of every validation frame. */
function gridMetrics(head: FittedHead, frames: readonly FrameFeatures[], labels: LabelSet, ignoreIndex: number | undefined): SegmentationMetrics {
  const confusion = new ConfusionMatrix(labels.classes);
  const ids = labels.classes.map((c) => c.id);
  // 65535 is never a class id (labels.ts MAX_LABEL_ID), so it can stand for "ignored" here.
  const ignoreValue = ignoreIndex ?? 65535;
  for (const frame of frames) {
    const all = Int32Array.from({ length: frame.cells }, (_, i) => i);
    const logits = applyHead(head.layers, gatherCells(frame.features, frame.channels, frame.cells, all), frame.cells);
    const predicted = argmaxRows(logits, frame.cells, ids.length);
    const gt = Uint16Array.from(frame.cellClasses, (k) => (k === IGNORED ? ignoreValue : ids[k]!));
    confusion.accumulate(gt, Uint16Array.from(predicted, (k) => ids[k]!), ignoreValue);
  }
  return confusion.metrics();
}

/**
 * The new bundle: the source graph with its segmentation output (if any) and the nodes only it
 * needed removed, the head appended as FITTED_LOGITS, model.yaml pointing outputs.segmentation
 * at it, labels.yaml, and the fit record.
 */
async function writeFittedBundle(bundle: ModelBundle, head: FittedHead, out: string, labelsText: string, record: FitRecord): Promise<void> {
  const model = decodeModel(await readFile(bundle.onnxPath));
  try {
    if (bundle.outputs.segmentation) removeOutputs(model, [bundle.outputs.segmentation.name]);
    appendHead(model, { features: bundle.outputs.features!.name, layers: head.layers, sizeOf: bundle.outputs.depth.name, output: FITTED_LOGITS });
  } catch (error) {
    if (error instanceof GraphEditError) throw new FatalError(`${bundle.onnxPath}: cannot append the head: ${error.message}`);
    throw error;
  }
  const doc = parseDocument(await readFile(bundle.yamlPath, "utf8"));
  doc.setIn(["name"], `${bundle.name}+fit-head`);
  doc.setIn(["file"], "model.onnx");
  doc.setIn(["outputs", "segmentation"], doc.createNode({ name: FITTED_LOGITS, labels: "labels.yaml" }, { flow: true }));
  doc.commentBefore = ` Written by depthseg fit-head from ${bundle.dir} (${FIT_RECORD} says how).${doc.commentBefore ? `\n${doc.commentBefore}` : ""}`;
  try {
    await mkdir(out, { recursive: true });
    await writeFile(join(out, "model.onnx"), encodeModel(model));
    await writeFile(join(out, "model.yaml"), doc.toString({ lineWidth: 0, flowCollectionPadding: false }));
    await writeFile(join(out, "labels.yaml"), labelsText);
    await writeFile(join(out, FIT_RECORD), `${JSON.stringify(record, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2)}\n`);
  } catch (error) {
    throw new FatalError(`cannot write the fitted bundle to ${out}: ${(error as Error).message}`);
  }
}
