// One frame through preprocess → inference → interpretation → geometry. Knows nothing of ROS or
// files: it takes a Frame and returns typed arrays at camera resolution, with stage timings.

import { performance } from "node:perf_hooks";
import type { DepthKind, Frame, StageTimings } from "../frame.js";
import { FrameError } from "../errors.js";
import type { ModelBundle } from "../inference/bundle.js";
import type { InferenceWorker } from "../inference/inferenceWorker.js";
import { toInputTensor } from "../inference/preprocess.js";
import { toMetricDepth } from "../heads/depth.js";
import { argmaxLabels } from "../heads/segmentation.js";
import { resizeFloat, resizeLabels } from "../imaging/resize.js";
import { colorizeDepth, colorizeLabels } from "../imaging/colormap.js";
import { backProject } from "../geometry/backproject.js";
import { applyDepthRange } from "../geometry/depthRange.js";
import { packPointCloud, sampleGrid, type PackedPointCloud } from "../geometry/pointcloud2.js";
import type { DepthsegParams } from "../config/parameters.js";
import { labelPalette, unlabelledValue } from "./labelPalette.js";

/** What the geometry stage produced for one frame; all arrays are at camera resolution. */
export interface FrameOutputs {
  readonly frame: Frame;
  /** Metres along the optical axis, NaN invalid, width x height of the camera image. */
  readonly depth: Float32Array;
  readonly labels: Uint16Array | undefined;
  readonly unlabelled: number;
  readonly cloud: PackedPointCloud;
  readonly depthColorized: Uint8Array | undefined;
  readonly labelsColorized: Uint8Array | undefined;
  readonly depthKind: DepthKind;
  readonly depthIsMetric: boolean;
  readonly depthScale: number;
  readonly depthShift: number;
  readonly timings: StageTimings;
}

/** Which optional products to build; the live node builds colourised views only for subscribers. */
export interface OutputSelection {
  readonly depthColorized: boolean;
  readonly labelsColorized: boolean;
}

export class FrameProcessor {
  readonly #palette: Uint8Array;
  readonly #unlabelled: number;
  readonly #classIds: Uint16Array | undefined;

  constructor(
    readonly bundle: ModelBundle,
    readonly worker: InferenceWorker,
    /** Read per frame so run-time parameter changes apply to the next frame. */
    readonly params: () => DepthsegParams,
  ) {
    const labels = bundle.outputs.segmentation?.labels;
    this.#unlabelled = unlabelledValue(labels);
    this.#palette = labelPalette(labels, this.#unlabelled);
    this.#classIds = labels ? Uint16Array.from(labels.classes, (c) => c.id) : undefined;
  }

  get unlabelled(): number {
    return this.#unlabelled;
  }

  /** `timings` may already hold the decode time measured by ingest. */
  async process(frame: Frame, select: OutputSelection, timings: StageTimings = {}): Promise<FrameOutputs> {
    const params = this.params();
    const { width, height } = frame.image;
    const spec = this.bundle.input;

    let t0 = performance.now();
    const tensor = toInputTensor(frame.image, spec);
    timings.preprocess = performance.now() - t0;

    t0 = performance.now();
    let result;
    try {
      result = await this.worker.run(tensor.data, tensor.dims);
    } catch (error) {
      if (error instanceof FrameError) throw error.at(frame.cameraTopic, frame.stamp);
      throw error; // FatalError: the worker is gone, nothing later can succeed.
    }
    timings.inference = performance.now() - t0;

    t0 = performance.now();
    const depthSpec = this.bundle.outputs.depth;
    const rawDepth = result.outputs[depthSpec.name];
    if (!rawDepth) {
      throw new FrameError("inference_failed", `model returned no "${depthSpec.name}" output`, frame.cameraTopic, frame.stamp);
    }
    const [depthH, depthW] = spatialDims(rawDepth.dims, 1, depthSpec.name, frame);
    const isMetric = depthSpec.kind === "metric";
    const scale = isMetric ? 1 : params.depthScale;
    const shift = isMetric ? 0 : params.depthShift;
    const modelDepth = toMetricDepth(rawDepth.data, depthSpec.kind, {
      scale,
      shift,
      ...(depthSpec.maxDepth !== undefined ? { maxDepth: depthSpec.maxDepth } : {}),
    });
    // Interpolating metres (not disparity) keeps the resize linear in the published quantity.
    const depth =
      depthW === width && depthH === height
        ? modelDepth
        : resizeFloat(modelDepth, depthW, depthH, width, height, "linear");
    const rangeMax = params.rangeMax > 0 ? params.rangeMax : Infinity;
    applyDepthRange(depth, params.rangeMin, rangeMax);

    let labels: Uint16Array | undefined;
    const segSpec = this.bundle.outputs.segmentation;
    if (segSpec) {
      const logits = result.outputs[segSpec.name];
      if (!logits) {
        throw new FrameError("inference_failed", `model returned no "${segSpec.name}" output`, frame.cameraTopic, frame.stamp);
      }
      const classes = segSpec.labels.classes.length;
      const [segH, segW] = spatialDims(logits.dims, classes, segSpec.name, frame);
      // Argmax before the resize: C times less data to resize, and nearest keeps ids exact.
      const modelLabels = argmaxLabels(logits.data, classes, segW, segH, {
        unlabelled: this.#unlabelled,
        ...(this.#classIds ? { classIds: this.#classIds } : {}),
      });
      labels = segW === width && segH === height ? modelLabels : resizeLabels(modelLabels, segW, segH, width, height);
    }

    let depthColorized: Uint8Array | undefined;
    if (select.depthColorized) {
      depthColorized = colorizeDepth(depth, width, height, {
        min: params.colorizeMin,
        max: colorizeMax(params, depthSpec.maxDepth),
        map: params.colormap,
      });
    }
    const labelsColorized =
      labels && select.labelsColorized ? colorizeLabels(labels, this.#palette, [0, 0, 0]) : undefined;
    timings.postprocess = performance.now() - t0;

    t0 = performance.now();
    const decimation = params.decimation;
    const points = backProject(depth, frame.intrinsics, { decimation, minRange: 0, maxRange: Infinity });
    const gridRgb = sampleGrid(frame.image.data, width, height, 3, decimation);
    const gridLabels = labels ? sampleGrid(labels, width, height, 1, decimation) : undefined;
    const cloud = packPointCloud(points.xyz, points.width, points.height, gridRgb, gridLabels, this.#unlabelled);
    timings.backproject = performance.now() - t0;

    return {
      frame,
      depth,
      labels,
      unlabelled: this.#unlabelled,
      cloud,
      depthColorized,
      labelsColorized,
      depthKind: depthSpec.kind,
      depthIsMetric: isMetric,
      depthScale: scale,
      depthShift: shift,
      timings,
    };
  }
}

/** Colour-map range: explicit parameter, else the depth range limit, else the model's max depth. */
export function colorizeMax(params: DepthsegParams, modelMaxDepth: number | undefined): number {
  if (params.colorizeMax > 0) return params.colorizeMax;
  if (params.rangeMax > 0) return params.rangeMax;
  return modelMaxDepth ?? 10;
}

/** [H, W] of an NCHW (or NHW) output whose channel count must be `channels`. */
function spatialDims(dims: readonly number[], channels: number, name: string, frame: Frame): [number, number] {
  const ok =
    (dims.length === 4 && dims[0] === 1 && dims[1] === channels) ||
    (dims.length === 3 && dims[0] === 1 && channels === 1);
  if (!ok) {
    throw new FrameError(
      "inference_failed",
      `output "${name}" has shape [${dims.join(", ")}], expected [1, ${channels}, H, W]`,
      frame.cameraTopic,
      frame.stamp,
    );
  }
  return [dims.at(-2)!, dims.at(-1)!];
}
