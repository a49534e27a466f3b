// `depthseg eval`: runs a model bundle over a dataset with ground truth and computes the standard
// depth metrics (depthMetrics.ts, after the chosen alignment, alignment.ts) per frame and over the
// dataset, and segmentation metrics (segmentationMetrics.ts) from the confusion matrix of the
// whole dataset.

import { CleanupStack } from "../cleanupStack.js";
import type { DepthsegParams } from "../config/parameters.js";
import { FatalError, FrameError } from "../errors.js";
import type { DepthKind } from "../frame.js";
import { loadModelBundle } from "../inference/bundle.js";
import { startInferenceWorker } from "../inference/inferenceWorker.js";
import { cv } from "../imaging/opencv.js";
import { DEFAULT_MODEL_DIR } from "../paths.js";
import { FrameProcessor, checkParamsForModel } from "../pipeline/frameProcessor.js";
import { alignDepth, type AlignMode } from "./alignment.js";
import { applyClassMap, type ClassMap } from "./classMap.js";
import { openDataset, type DatasetLayout, type EvalDataset } from "./datasets.js";
import {
  addCounts,
  checkRange,
  DepthErrorSums,
  depthMetrics,
  meanMetrics,
  NAN_METRICS,
  ZERO_COUNTS,
  zoeDepthMetrics,
  type DepthCrop,
  type DepthMetrics,
  type DepthProtocol,
  type DepthRange,
  type PixelCounts,
} from "./depthMetrics.js";
import { ConfusionMatrix, type SegmentationMetrics } from "./segmentationMetrics.js";

export interface EvalOptions {
  /** Dataset: a rosbag2 MCAP file or a folder. */
  readonly data: string;
  /** Folder layout; undefined: detected (datasets.ts). */
  readonly layout?: DatasetLayout;
  /** Pixel selection and metric rules (depthMetrics.ts); default standard. */
  readonly protocol?: DepthProtocol;
  /** Protocol zoedepth: its evaluation crop; default none. */
  readonly crop?: DepthCrop;
  /** Bags: ground truth within this many seconds of the image stamp pairs. */
  readonly gtSlopSec?: number;
  /** Dataset label ids → model class ids. */
  readonly classMap?: ClassMap;
  /** TUM: intrinsics preset. */
  readonly intrinsics?: string;
  /** Cityscapes: split. */
  readonly split?: string;
  /** Model, providers, threads, topics (params.model empty: the bundled default model). */
  readonly params: DepthsegParams;
  readonly align: AlignMode;
  /** Evaluation range in metres, inclusive; max Infinity for none. */
  readonly range: DepthRange;
  /** Folder datasets: depth PNG value / depthScale = metres; undefined: the layout's own. */
  readonly depthScale?: number;
  /** Ground-truth label value that is skipped; undefined skips nothing. */
  readonly ignoreIndex: number | undefined;
  readonly depthTopic?: string;
  readonly labelsTopic?: string;
  readonly log: (line: string) => void;
  /** Called after each frame (progress). */
  readonly onFrame?: (result: FrameResult) => void;
}

export interface FrameResult {
  readonly stem: string;
  /** Routed models: the depth head that gave this frame's depth. */
  readonly depthHead?: string;
  readonly width: number;
  readonly height: number;
  /** NaN when no pixel was scored. */
  readonly depth: DepthMetrics;
  readonly pixels: PixelCounts;
  /** Absent for align none. */
  readonly alignment?: { readonly scale: number; readonly shift: number; readonly fitPixels: number };
  readonly segmentation?: { readonly pixelAccuracy: number; readonly mIoU: number; readonly pixels: number };
}

export interface EvalReport {
  readonly settings: {
    readonly model: string;
    readonly modelDir: string;
    readonly depthKind: DepthKind;
    /** Routed models: frames per depth head used (the model's domain per frame); absent otherwise. */
    readonly depthHeads?: Readonly<Record<string, number>>;
    readonly provider: string;
    readonly data: string;
    readonly dataKind: DatasetLayout;
    readonly protocol: DepthProtocol;
    readonly crop: DepthCrop;
    readonly dataset: EvalDataset["describe"];
    readonly align: AlignMode;
    readonly minDepth: number;
    /** null: no upper limit. */
    readonly maxDepth: number | null;
    /** Folder datasets only (MCAP 16UC1 depth is millimetres by REP 118). */
    readonly depthScale: number | null;
    readonly ignoreIndex: number | null;
    /** The --class-map file, when one was given. */
    readonly classMap: string | null;
  };
  readonly frames: readonly FrameResult[];
  /** Absent for datasets without ground-truth depth (segmentation-only layouts). */
  readonly depth?: {
    /** Mean of the per-frame metrics over frames with any scored pixel (what the table shows as "mean"). */
    readonly mean: DepthMetrics;
    readonly meanFrames: number;
    /** The metrics of all scored pixels of all frames pooled together. */
    readonly pooled: DepthMetrics;
    readonly pixels: PixelCounts;
  };
  /** Present when the dataset has ground-truth labels and the model a segmentation head. */
  readonly segmentation?: SegmentationMetrics & { readonly ignoreIndex: number | null };
  /** Why segmentation was not scored although the dataset has labels (e.g. other classes than the model's). */
  readonly segmentationSkipped?: string;
  readonly warnings: readonly string[];
}

export async function evaluate(options: EvalOptions): Promise<EvalReport> {
  const { params, range } = options;
  checkRange(range);
  const warnings: string[] = [];
  const warn = (line: string) => {
    warnings.push(line);
    options.log(line);
  };
  return CleanupStack.run(async (cleanups) => {
    // The dataset first: a wrong path or layout fails before any model is loaded.
    const dataset = await openDataset(options.data, {
      ...(options.layout ? { layout: options.layout } : {}),
      ...(options.depthScale !== undefined ? { depthScale: options.depthScale } : {}),
      ...(options.gtSlopSec !== undefined ? { gtSlopSec: options.gtSlopSec } : {}),
      ...(options.intrinsics !== undefined ? { intrinsics: options.intrinsics } : {}),
      ...(options.split !== undefined ? { split: options.split } : {}),
      imageTopic: params.imageTopic,
      cameraInfoTopic: params.cameraInfoTopic,
      ...(options.depthTopic ? { depthTopic: options.depthTopic } : {}),
      ...(options.labelsTopic ? { labelsTopic: options.labelsTopic } : {}),
      log: warn,
    });
    cleanups.push(() => dataset.close());
    const modelDir = params.model || DEFAULT_MODEL_DIR;
    const bundle = await loadModelBundle(modelDir);
    checkParamsForModel(params, bundle);
    const depthKind = bundle.outputs.depth.kind;
    const protocol = options.protocol ?? "standard";
    const crop = options.crop ?? "none";
    if (dataset.hasDepth && depthKind !== "metric" && options.align === "none") {
      warn(
        `the model's depth is ${depthKind}: metrics without alignment compare arbitrary units with metres and are not ` +
          "meaningful; use --align scale-shift (or median)",
      );
    }
    // rectify (on by default) is not applied: ground truth is pixel-aligned with the image as recorded.
    const segmentation = bundle.outputs.segmentation;
    if (dataset.hasLabels && !segmentation) warn("the dataset has ground-truth labels but the model has no segmentation head: no segmentation metrics");
    const confusion = dataset.hasLabels && segmentation ? new ConfusionMatrix(segmentation.labels.classes) : undefined;

    cv(); // load OpenCV now: a missing binding fails here, not mid-dataset
    const worker = await startInferenceWorker(bundle, params, options.log);
    cleanups.push(() => worker.close());
    const processor = new FrameProcessor(bundle, worker, () => params);

    const frames: FrameResult[] = [];
    const pooled = new DepthErrorSums();
    let pixels = ZERO_COUNTS;
    // In the router's class order; every head listed, used or not.
    const depthHeads: Record<string, number> = Object.fromEntries((bundle.outputs.domain?.classes ?? []).map((c) => [c, 0]));
    const unmapped = new Map<number, number>();
    // With a class map, ignored and unmapped ids become the ignore value (65535 when --ignore-index none).
    const labelIgnore = options.classMap ? (options.ignoreIndex ?? 65535) : options.ignoreIndex;
    const medians = { gt: [] as number[], pred: [] as number[] };
    for await (const sample of dataset.samples()) {
      let outputs;
      try {
        outputs = await processor.process(sample.frame, { depthColorized: false, labelsColorized: false, confidence: false });
      } catch (error) {
        if (error instanceof FrameError) throw new FatalError(`${sample.stem}: ${error.message}`);
        throw error;
      }
      try {
        if (outputs.depthHead) depthHeads[outputs.depthHead] = (depthHeads[outputs.depthHead] ?? 0) + 1;
        const { width, height } = sample.frame.image;
        let depthResult: Pick<FrameResult, "depth" | "pixels" | "alignment"> = { depth: NAN_METRICS, pixels: ZERO_COUNTS };
        if (sample.gtDepth) {
          const gtDepth = sample.gtDepth;
          const alignment = alignDepth(options.align, outputs.depth, gtDepth, range);
          const result =
            protocol === "zoedepth"
              ? zoeDepthMetrics(alignment.depth, gtDepth, width, height, range, crop)
              : depthMetrics(alignment.depth, gtDepth, range);
          pooled.merge(result.sums);
          pixels = addCounts(pixels, result.counts);
          medians.gt.push(median(gtDepth));
          medians.pred.push(median(outputs.depth));
          depthResult = {
            depth: result.metrics,
            pixels: result.counts,
            ...(options.align !== "none"
              ? { alignment: { scale: alignment.scale, shift: alignment.shift, fitPixels: alignment.fitPixels } }
              : {}),
          };
        }
        let frameSegmentation: FrameResult["segmentation"];
        if (confusion && sample.gtLabels && outputs.labels) {
          const gtLabels = options.classMap ? applyClassMap(options.classMap, sample.gtLabels, labelIgnore!, unmapped) : sample.gtLabels;
          const frameConfusion = new ConfusionMatrix(segmentation!.labels.classes);
          frameConfusion.accumulate(gtLabels, outputs.labels, labelIgnore);
          confusion.merge(frameConfusion);
          const m = frameConfusion.metrics();
          frameSegmentation = { pixelAccuracy: m.pixelAccuracy, mIoU: m.mIoU, pixels: m.pixels };
        }
        const frame: FrameResult = {
          stem: sample.stem,
          ...(outputs.depthHead ? { depthHead: outputs.depthHead } : {}),
          width,
          height,
          ...depthResult,
          ...(frameSegmentation ? { segmentation: frameSegmentation } : {}),
        };
        frames.push(frame);
        options.onFrame?.(frame);
      } finally {
        processor.release(outputs);
      }
    }
    if (frames.length === 0) throw new FatalError(`${options.data}: no frame to evaluate`);
    const unscored = dataset.hasDepth ? frames.filter((f) => f.pixels.evaluated === 0).length : 0;
    if (unscored > 0) warn(`${unscored} frame(s) had no scored pixel and are left out of the mean`);
    const failedFits = frames.filter((f) => f.alignment && Number.isNaN(f.alignment.scale)).length;
    if (failedFits > 0) warn(`${failedFits} frame(s) could not be aligned (too few valid pixels)`);
    if (pixels.predInvalid > 0) {
      warn(
        `${pixels.predInvalid} of ${pixels.predInvalid + pixels.evaluated} in-range ground-truth pixels had no valid prediction ` +
          "(NaN or <= 0) and are not scored",
      );
    }

    if (dataset.hasDepth) {
      const scaleProblem = checkDepthScale(median(Float64Array.from(medians.gt)), median(Float64Array.from(medians.pred)), depthKind, dataset);
      if (scaleProblem) warn(scaleProblem);
    }
    if (unmapped.size > 0) {
      const list = [...unmapped].sort((a, b) => b[1] - a[1]).map(([id, count]) => `${id} (${count} px)`);
      warn(`${options.classMap!.source} does not map dataset ids ${list.slice(0, 10).join(", ")}${list.length > 10 ? ` and ${list.length - 10} more` : ""}: ignored`);
    }
    let segmentationReport: EvalReport["segmentation"];
    let segmentationSkipped: string | undefined;
    if (confusion) {
      const metrics = confusion.metrics();
      const modelIds = new Set(segmentation!.labels.classes.map((c) => c.id));
      const foreign = metrics.classes.filter((c) => !modelIds.has(c.id) && c.gtPixels > 0);
      if (foreign.length > 0 && !options.classMap) {
        const foreignPixels = foreign.reduce((n, c) => n + c.gtPixels, 0);
        segmentationSkipped =
          `the dataset's classes are not the model's: ground-truth ids ${describeIds(foreign.map((c) => c.id))} ` +
          `(${foreignPixels} of ${metrics.pixels} pixels) are not among the model's ${modelIds.size} classes ` +
          `(${describeIds([...modelIds])}); pass --class-map to map dataset ids to the model's (or to ignore)`;
        warn(`segmentation not scored: ${segmentationSkipped}`);
      } else {
        segmentationReport = { ...metrics, ignoreIndex: labelIgnore ?? null };
      }
    }

    const mean = meanMetrics(frames.map((f) => f.depth));
    return {
      settings: {
        model: bundle.name,
        modelDir,
        depthKind,
        ...(bundle.outputs.domain ? { depthHeads } : {}),
        provider: worker.provider,
        data: options.data,
        dataKind: dataset.kind,
        protocol,
        crop,
        dataset: dataset.describe,
        align: options.align,
        minDepth: range.min,
        maxDepth: Number.isFinite(range.max) ? range.max : null,
        depthScale: dataset.depthScale,
        ignoreIndex: labelIgnore ?? null,
        classMap: options.classMap?.source ?? null,
      },
      frames,
      ...(dataset.hasDepth ? { depth: { mean: mean.metrics, meanFrames: mean.frames, pooled: pooled.metrics(), pixels } } : {}),
      ...(segmentationReport ? { segmentation: segmentationReport } : {}),
      ...(segmentationSkipped ? { segmentationSkipped } : {}),
      warnings,
    };
  });
}

/** Median of the valid (finite, > 0) values; NaN when there is none. */
function median(values: Float32Array | Float64Array): number {
  const valid = values.filter((v) => v > 0 && v < Infinity).sort();
  if (valid.length === 0) return NaN;
  const mid = valid.length >> 1;
  return valid.length % 2 === 1 ? valid[mid]! : (valid[mid - 1]! + valid[mid]!) / 2;
}

/** Ground-truth medians outside this (metres) are taken for a wrong depth scale. */
const PLAUSIBLE_GT_MEDIAN = { min: 0.2, max: 100 } as const;
/** A metric model's median this many times off the ground truth's points at the scale, not the model. */
const IMPLAUSIBLE_RATIO = 2.5;

/**
 * A wrong depth scale gives no error, only bad numbers (TUM's 1/5000 m PNGs read as millimetres
 * are 5× too deep): a message when the median of the per-frame ground-truth medians is
 * implausible, or a metric model's median is IMPLAUSIBLE_RATIO× off it; undefined when fine.
 */
function checkDepthScale(gtMedian: number, predMedian: number, depthKind: DepthKind, dataset: EvalDataset): string | undefined {
  if (!Number.isFinite(gtMedian)) return undefined;
  const ratio = gtMedian / predMedian;
  const offRange = gtMedian < PLAUSIBLE_GT_MEDIAN.min || gtMedian > PLAUSIBLE_GT_MEDIAN.max;
  const offModel = depthKind === "metric" && Number.isFinite(ratio) && (ratio > IMPLAUSIBLE_RATIO || ratio < 1 / IMPLAUSIBLE_RATIO);
  if (!offRange && !offModel) return undefined;
  const how =
    dataset.depthScale !== null
      ? `with depth scale ${dataset.depthScale} (PNG value / ${dataset.depthScale} = metres; TUM RGB-D is 5000, NYU and SUN RGB-D 1000, KITTI 256): check --depth-scale`
      : "bag 16UC1 depth is read as millimetres (REP 118): check the recording's depth units";
  return (
    `the ground truth's median depth is ${gtMedian.toFixed(2)} m` +
    (offModel ? `, ${ratio.toFixed(1)}× the metric model's median ${predMedian.toFixed(2)} m` : `, outside a plausible ${PLAUSIBLE_GT_MEDIAN.min}-${PLAUSIBLE_GT_MEDIAN.max} m`) +
    `; ${how}`
  );
}

function describeIds(ids: readonly number[]): string {
  const sorted = [...ids].sort((a, b) => a - b);
  return sorted.length > 12 ? `${sorted.slice(0, 12).join(", ")} and ${sorted.length - 12} more` : sorted.join(", ");
}
