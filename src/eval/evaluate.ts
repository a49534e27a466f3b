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
import { openDataset, type EvalDataset } from "./datasets.js";
import {
  addCounts,
  checkRange,
  DepthErrorSums,
  depthMetrics,
  meanMetrics,
  ZERO_COUNTS,
  type DepthMetrics,
  type DepthRange,
  type PixelCounts,
} from "./depthMetrics.js";
import { ConfusionMatrix, type SegmentationMetrics } from "./segmentationMetrics.js";

export interface EvalOptions {
  /** Dataset: a rosbag2 MCAP file or a folder. */
  readonly data: string;
  /** Model, providers, threads, topics (params.model empty: the bundled default model). */
  readonly params: DepthsegParams;
  readonly align: AlignMode;
  /** Evaluation range in metres, inclusive; max Infinity for none. */
  readonly range: DepthRange;
  /** Folder datasets: depth PNG value / depthScale = metres. */
  readonly depthScale: number;
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
    readonly provider: string;
    readonly data: string;
    readonly dataKind: "mcap" | "folder";
    readonly dataset: EvalDataset["describe"];
    readonly align: AlignMode;
    readonly minDepth: number;
    /** null: no upper limit. */
    readonly maxDepth: number | null;
    /** Folder datasets only (MCAP 16UC1 depth is millimetres by REP 118). */
    readonly depthScale: number | null;
    readonly ignoreIndex: number | null;
  };
  readonly frames: readonly FrameResult[];
  readonly depth: {
    /** Mean of the per-frame metrics over frames with any scored pixel (what the table shows as "mean"). */
    readonly mean: DepthMetrics;
    readonly meanFrames: number;
    /** The metrics of all scored pixels of all frames pooled together. */
    readonly pooled: DepthMetrics;
    readonly pixels: PixelCounts;
  };
  /** Present when the dataset has ground-truth labels and the model a segmentation head. */
  readonly segmentation?: SegmentationMetrics & { readonly ignoreIndex: number | null };
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
      depthScale: options.depthScale,
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
    if (depthKind !== "metric" && options.align === "none") {
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
    for await (const sample of dataset.samples()) {
      let outputs;
      try {
        outputs = await processor.process(sample.frame, { depthColorized: false, labelsColorized: false });
      } catch (error) {
        if (error instanceof FrameError) throw new FatalError(`${sample.stem}: ${error.message}`);
        throw error;
      }
      try {
        const alignment = alignDepth(options.align, outputs.depth, sample.gtDepth, range);
        const result = depthMetrics(alignment.depth, sample.gtDepth, range);
        pooled.merge(result.sums);
        pixels = addCounts(pixels, result.counts);
        let frameSegmentation: FrameResult["segmentation"];
        if (confusion && sample.gtLabels && outputs.labels) {
          const frameConfusion = new ConfusionMatrix(segmentation!.labels.classes);
          frameConfusion.accumulate(sample.gtLabels, outputs.labels, options.ignoreIndex);
          confusion.merge(frameConfusion);
          const m = frameConfusion.metrics();
          frameSegmentation = { pixelAccuracy: m.pixelAccuracy, mIoU: m.mIoU, pixels: m.pixels };
        }
        const frame: FrameResult = {
          stem: sample.stem,
          width: sample.frame.image.width,
          height: sample.frame.image.height,
          depth: result.metrics,
          pixels: result.counts,
          ...(options.align !== "none"
            ? { alignment: { scale: alignment.scale, shift: alignment.shift, fitPixels: alignment.fitPixels } }
            : {}),
          ...(frameSegmentation ? { segmentation: frameSegmentation } : {}),
        };
        frames.push(frame);
        options.onFrame?.(frame);
      } finally {
        processor.release(outputs);
      }
    }
    if (frames.length === 0) throw new FatalError(`${options.data}: no frame to evaluate`);
    const unscored = frames.filter((f) => f.pixels.evaluated === 0).length;
    if (unscored > 0) warn(`${unscored} frame(s) had no scored pixel and are left out of the mean`);
    const failedFits = frames.filter((f) => f.alignment && Number.isNaN(f.alignment.scale)).length;
    if (failedFits > 0) warn(`${failedFits} frame(s) could not be aligned (too few valid pixels)`);
    if (pixels.predInvalid > 0) {
      warn(
        `${pixels.predInvalid} of ${pixels.predInvalid + pixels.evaluated} in-range ground-truth pixels had no valid prediction ` +
          "(NaN or <= 0) and are not scored",
      );
    }

    const mean = meanMetrics(frames.map((f) => f.depth));
    return {
      settings: {
        model: bundle.name,
        modelDir,
        depthKind,
        provider: worker.provider,
        data: options.data,
        dataKind: dataset.kind,
        dataset: dataset.describe,
        align: options.align,
        minDepth: range.min,
        maxDepth: Number.isFinite(range.max) ? range.max : null,
        depthScale: dataset.kind === "folder" ? options.depthScale : null,
        ignoreIndex: options.ignoreIndex ?? null,
      },
      frames,
      depth: { mean: mean.metrics, meanFrames: mean.frames, pooled: pooled.metrics(), pixels },
      ...(confusion ? { segmentation: { ...confusion.metrics(), ignoreIndex: options.ignoreIndex ?? null } } : {}),
      warnings,
    };
  });
}
