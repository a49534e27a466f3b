// One frame through preprocess → inference → interpretation → geometry. Knows nothing of ROS or
// files: it takes a Frame and returns typed arrays at camera resolution, with stage timings.
//
// Buffer lifetime: a frame's output arrays (depth, labels, colourised views, point cloud) and its
// scratch (input tensor, model-resolution depth and labels) come from a small pool of buffer sets,
// so a steady stream of frames allocates almost nothing. The caller owns the arrays of a returned
// FrameOutputs until it calls `release(outputs)`; after that a later frame overwrites them. A
// caller that never releases simply gets fresh arrays on every call.

import { performance } from "node:perf_hooks";
import type { DepthKind, Frame, StageTimings } from "../frame.js";
import { FrameError } from "../errors.js";
import type { DepthOutputSpec, ModelBundle } from "../inference/bundle.js";
import type { OutputTensor } from "../inference/protocol.js";
import { checkShape, depthOutputShape, domainOutputShape, logitsOutputShape, type ShapePattern } from "../inference/tensorShapes.js";
import type { InferenceWorker } from "../inference/inferenceWorker.js";
import type { SharedSlot } from "../inference/sharedSlots.js";
import { modelInputSize, toInputTensor } from "../inference/preprocess.js";
import { canonicalFocalScale, maskSky, toMetricDepth, validDepthFraction } from "../heads/depth.js";
import { HeadSwitcher, pickDomain } from "../heads/routing.js";
import { argmaxLabels } from "../heads/segmentation.js";
import { resizeFloat, resizeFloatAlignCorners, resizeLabels } from "../imaging/resize.js";
import { colorizeDepth, colorizeLabels } from "../imaging/colormap.js";
import { backProjectCloud, CloudBuffer } from "../geometry/backproject.js";
import { applyDepthRange } from "../geometry/depthRange.js";
import { removeFlyingPixels } from "../geometry/flyingPixels.js";
import type { PackedPointCloud } from "../geometry/pointcloud2.js";
import { ParameterError, type DepthsegParams, type ScaleSource } from "../config/parameters.js";
import { fitInverseDepth, relativeDepthError, ScaleFilter } from "../heads/scaleRecovery.js";
import {
  anchorsFromDepthImage,
  anchorsFromFloorAndUprights,
  anchorsFromGroundPlane,
  anchorsFromPoints,
  labelsAtOutput,
  type DepthAnchors,
} from "../heads/scaleAnchors.js";
import { groundPlaneFromAngles } from "../geometry/groundPlane.js";
import { confidenceFromModel, derivedConfidence, fitTrust } from "../heads/confidence.js";
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
  /**
   * 0..1 per camera pixel when selected: the model's (outputs.confidence), else derived from depth
   * edges and the scale fit (heads/confidence.ts); 0 where the published depth is NaN.
   */
  readonly confidence: Float32Array | undefined;
  readonly depthKind: DepthKind;
  readonly depthIsMetric: boolean;
  /** The head that gave this frame's depth (routed models); "" for a model with one depth output. */
  readonly depthHead: string;
  readonly depthScale: number;
  readonly depthShift: number;
  /**
   * Share of the model's depth output that is a finite depth > 0 (validDepthFraction); the
   * pipeline refuses frames where most of it is not (model_output_invalid).
   */
  readonly depthValidFraction: number;
  /** Scale recovery (`scale.source` other than fixed, relative models): this frame's estimate. */
  readonly scale: ScaleReport | undefined;
  /** Model-resolution depth pixels published as NaN because the sky output marked them (0 without one). */
  readonly skyPixels: number;
  readonly timings: StageTimings;
}

/** Where a relative model's scale and shift came from on one frame. */
export interface ScaleReport {
  readonly source: ScaleSource;
  /** Anchors the fit saw on this frame (0: none came, e.g. no depth message paired). */
  readonly anchors: number;
  /** Inliers of the estimate in use (the held one's when held). */
  readonly inliers: number;
  /** Median relative depth error of the estimate's inliers. */
  readonly residual: number;
  /** Seconds since anchors last gave a fit; 0 when this frame's did. */
  readonly ageSec: number;
  /**
   * True when scale and shift are an estimate from anchors (this frame's, or held); false while
   * none has been made yet (then depth.scale/depth.shift are used).
   */
  readonly estimated: boolean;
  /** This frame had too few inliers: the last good estimate is used. */
  readonly held: boolean;
  readonly reset: boolean;
}

/** Which optional products to build; the live node builds these only for subscribers. */
export interface OutputSelection {
  readonly depthColorized: boolean;
  readonly labelsColorized: boolean;
  readonly confidence: boolean;
}

/**
 * The typed arrays one frame writes into. Each field is (re)allocated by `fit` when missing or of
 * another length (another camera resolution, a changed decimation), else reused as it is.
 */
class FrameBuffers {
  /** Model input tensor (NCHW); detached while the worker has it, refilled from the reply. */
  tensor: Float32Array | undefined;
  /** Depth with flying pixels removed, for the cloud (model and camera resolution). */
  cloudModelDepth: Float32Array | undefined;
  cloudDepth: Float32Array | undefined;
  /** The camera image resized to the model input (rgb8). */
  resized: Uint8Array | undefined;
  /** input.resize_on float: the camera image as 0..1 floats, and resized to the model input. */
  floatImage: Float32Array | undefined;
  floatResized: Float32Array | undefined;
  /** Metric depth at the model's output resolution. */
  modelDepth: Float32Array | undefined;
  /** relative_disparity: the raw output where that depth is valid, NaN elsewhere (model resolution). */
  modelDisparity: Float32Array | undefined;
  /** Depth at camera resolution (when the model's differs). */
  depth: Float32Array | undefined;
  modelLabels: Uint16Array | undefined;
  argmaxScratch: Float32Array | undefined;
  /** Labels at camera resolution (when the model's differs). */
  labels: Uint16Array | undefined;
  depthColorized: Uint8Array | undefined;
  labelsColorized: Uint8Array | undefined;
  /** Confidence at model and camera resolution, and the derived kernel's working memory. */
  modelConfidence: Float32Array | undefined;
  confidenceScratch: Float32Array | undefined;
  confidence: Float32Array | undefined;
  /** The cloud's bytes, filled in place by the kernel (resized by it, for any grid). */
  cloud: CloudBuffer | undefined;
  /**
   * The worker's shared slot this frame ran in (sharedSlots.ts), while something of this frame
   * may still read its memory; undefined when it ran by transfer (no slot was free).
   */
  slot: SharedSlot | undefined;

  /** Camera image size the buffers were last used for: sets are handed out by size first. */
  constructor(public size: string) {}
}

type Pixels = Float32Array | Uint8Array | Uint16Array;

/** `current` when it has `length` values, else a new zeroed array. */
function fit<T extends Pixels>(current: T | undefined, length: number, make: new (length: number) => T): T {
  return current !== undefined && current.length === length ? current : new make(length);
}

/** A depth-shaped map from the model's output size to the camera's, with the bundle's convention. */
function resizeLikeDepth(
  atModel: Float32Array,
  depthW: number,
  depthH: number,
  width: number,
  height: number,
  upsample: DepthOutputSpec["upsample"],
  out: () => Float32Array,
): Float32Array {
  if (depthW === width && depthH === height) return atModel;
  return upsample === "align_corners"
    ? resizeFloatAlignCorners(atModel, depthW, depthH, width, height, out())
    : resizeFloat(atModel, depthW, depthH, width, height, "linear", out());
}

export class FrameProcessor {
  readonly #palette: Uint8Array;
  readonly #unlabelled: number;
  readonly #classIds: Uint16Array | undefined;
  /** Released buffer sets, oldest first. */
  readonly #free: FrameBuffers[] = [];
  /** The set behind each returned FrameOutputs that has not been released yet. */
  readonly #leased = new WeakMap<FrameOutputs, FrameBuffers>();

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

  /**
   * Gives a frame's buffers back for reuse by later frames. Lifetime rule: call it only once
   * nothing reads `outputs`' arrays any more, nor anything made from them without a copy (ROS
   * messages wrap them; CDR encoding copies). The pipeline calls it when the frame's sink work
   * (writeOutputs and writeStatus) has resolved. Outputs already released, or not from this
   * processor, are ignored.
   */
  release(outputs: FrameOutputs): void {
    const buffers = this.#leased.get(outputs);
    if (!buffers) return;
    this.#leased.delete(outputs);
    this.#recycle(buffers);
  }

  /**
   * `timings` may already hold the decode time measured by ingest. The arrays of the result
   * belong to the caller until it passes the result to `release`.
   */
  async process(frame: Frame, select: OutputSelection, timings: StageTimings = {}): Promise<FrameOutputs> {
    const { width, height } = frame.image;
    const buffers = this.#take(`${width}x${height}`);
    let outputs: FrameOutputs;
    try {
      outputs = await this.#process(frame, select, timings, buffers);
    } catch (error) {
      // Nothing of this frame escaped: its buffers can serve the next one.
      this.#recycle(buffers);
      throw error;
    }
    // #process copies all it keeps out of the worker's outputs, so its slot can take the next run
    // now; fused_io's depth and labels are the slot's memory and keep it until release.
    if (!this.worker.fused) this.#releaseSlot(buffers);
    // Handed out: the caller owns these arrays until release(outputs) (see the lifetime rule there).
    this.#leased.set(outputs, buffers);
    return outputs;
  }

  #releaseSlot(buffers: FrameBuffers): void {
    if (buffers.slot) this.worker.slots.release(buffers.slot);
    buffers.slot = undefined;
  }

  /** A free set used last for this camera size, else a new (empty) one. */
  #take(size: string): FrameBuffers {
    const i = this.#free.findIndex((b) => b.size === size);
    if (i < 0) return new FrameBuffers(size);
    return this.#free.splice(i, 1)[0]!;
  }

  /**
   * Back into the free list. At most `maxInFlight` sets are in use at once, so with one camera
   * size the list never holds more; the cap (twice that) only lets sets of sizes no longer seen
   * (a camera that changed resolution, several cameras) go to the garbage collector.
   */
  #recycle(buffers: FrameBuffers): void {
    this.#releaseSlot(buffers);
    this.#free.push(buffers);
    const cap = 2 * Math.max(1, this.params().maxInFlight);
    if (this.#free.length > cap) this.#free.splice(0, this.#free.length - cap);
  }

  async #process(frame: Frame, select: OutputSelection, timings: StageTimings, buffers: FrameBuffers): Promise<FrameOutputs> {
    if (this.worker.fused) return this.#processFused(frame, select, timings, buffers);
    const params = this.params();
    const { width, height } = frame.image;
    const spec = this.bundle.input;

    let t0 = performance.now();
    const modelSize = modelInputSize(width, height, spec);
    const modelPixels = modelSize.width * modelSize.height;
    // The input goes into a shared slot when one is free; else into this set's own tensor, which
    // run() transfers (detaches) and the worker sends back with the result.
    const slot = (buffers.slot = this.worker.slots.acquire());
    const floatResize = spec.resizeOn === "float";
    const tensor = toInputTensor(frame.image, spec, {
      out: slot ? slot.floatInput(3 * modelPixels) : fit(buffers.tensor, 3 * modelPixels, Float32Array),
      ...(floatResize
        ? {
            floatImage: (buffers.floatImage = fit(buffers.floatImage, 3 * frame.image.width * frame.image.height, Float32Array)),
            floatResized: (buffers.floatResized = fit(buffers.floatResized, 3 * modelPixels, Float32Array)),
          }
        : { resized: (buffers.resized = fit(buffers.resized, 3 * modelPixels, Uint8Array)) }),
    });
    if (!slot) buffers.tensor = undefined;
    timings.preprocess = performance.now() - t0;

    t0 = performance.now();
    let result;
    try {
      result = await (slot ? this.worker.runInSlot(slot, tensor.dims) : this.worker.run(tensor.data, tensor.dims));
    } catch (error) {
      if (error instanceof FrameError) throw error.at(frame.cameraTopic, frame.stamp);
      throw error; // FatalError: the worker is gone, nothing later can succeed.
    }
    if (!slot) buffers.tensor = result.input;
    timings.inference = performance.now() - t0;

    t0 = performance.now();
    const uncovered = frame.uncovered ?? NO_PIXELS;
    let labels: Uint16Array | undefined;
    const segSpec = this.bundle.outputs.segmentation;
    if (segSpec) {
      const logits = result.outputs[segSpec.name];
      if (!logits) {
        throw new FrameError("inference_failed", `model returned no "${segSpec.name}" output`, frame.cameraTopic, frame.stamp);
      }
      const classes = segSpec.labels.classes.length;
      const [segH, segW] = spatialDims(logits.dims, logitsOutputShape(classes), segSpec.name, frame);
      // Argmax before the resize: C times less data to resize, and nearest keeps ids exact.
      const segPixels = segW * segH;
      const modelLabels = argmaxLabels(logits.data, classes, segW, segH, {
        unlabelled: this.#unlabelled,
        ...(this.#classIds ? { classIds: this.#classIds } : {}),
        out: (buffers.modelLabels = fit(buffers.modelLabels, segPixels, Uint16Array)),
        scratch: (buffers.argmaxScratch = fit(buffers.argmaxScratch, segPixels, Float32Array)),
      });
      labels =
        segW === width && segH === height
          ? modelLabels
          : resizeLabels(modelLabels, segW, segH, width, height,
              (buffers.labels = fit(buffers.labels, width * height, Uint16Array)));
      for (let i = 0; i < uncovered.length; i++) labels[uncovered[i]!] = this.#unlabelled;
    }

    const { head: depthHead, spec: depthSpec } = this.#depthHead(result.outputs, params, frame);
    const rawDepth = result.outputs[depthSpec.name];
    if (!rawDepth) {
      throw new FrameError("inference_failed", `model returned no "${depthSpec.name}" output`, frame.cameraTopic, frame.stamp);
    }
    const [depthH, depthW] = spatialDims(rawDepth.dims, depthOutputShape(), depthSpec.name, frame);
    const isMetric = depthSpec.kind === "metric";
    const scaleReport =
      isMetric || params.scale.source === "fixed" ? undefined : this.#recoverScale(frame, params, depthSpec.kind, rawDepth.data, depthW, depthH, labels);
    const estimate = scaleReport?.estimated ? this.#scaleFilters.get(frame.cameraTopic)?.current : undefined;
    const scale = isMetric ? 1 : estimate ? estimate.scale : params.depthScale;
    const shift = isMetric ? 0 : estimate ? estimate.shift : params.depthShift;
    const depthValidFraction = validDepthFraction(rawDepth.data, depthSpec.kind, { scale, shift });
    const metricScale =
      depthSpec.canonicalFocal === undefined ? 1 : canonicalFocalScale(frame.intrinsics, modelSize.width, modelSize.height, depthSpec.canonicalFocal);
    const modelDepth = toMetricDepth(
      rawDepth.data,
      depthSpec.kind,
      { scale, shift, metricScale, ...(depthSpec.maxDepth !== undefined ? { maxDepth: depthSpec.maxDepth } : {}) },
      (buffers.modelDepth = fit(buffers.modelDepth, rawDepth.data.length, Float32Array)),
    );
    const skySpec = this.bundle.outputs.sky;
    let skyPixels = 0;
    if (skySpec) {
      const sky = result.outputs[skySpec.name];
      if (!sky) throw new FrameError("inference_failed", `model returned no "${skySpec.name}" output`, frame.cameraTopic, frame.stamp);
      const [skyH, skyW] = spatialDims(sky.dims, depthOutputShape(), skySpec.name, frame);
      if (skyH !== depthH || skyW !== depthW) {
        throw new FrameError("inference_failed", `output "${skySpec.name}" is ${skyW}x${skyH}, depth "${depthSpec.name}" is ${depthW}x${depthH}: the sky map must match the depth`, frame.cameraTopic, frame.stamp);
      }
      // Before flying-pixel removal and the resize, so both treat sky as no depth.
      skyPixels = maskSky(modelDepth, sky.data, skySpec.threshold);
    }
    const rangeMax = params.rangeMax > 0 ? params.rangeMax : Infinity;
    /** A depth-shaped model output at camera resolution, resized as depth is. */
    const resizeToCamera = (atModel: Float32Array, out: () => Float32Array): Float32Array =>
      resizeLikeDepth(atModel, depthW, depthH, width, height, depthSpec.upsample, out);
    /** Model-resolution metres → camera resolution, range and coverage applied. */
    const toCamera = (atModel: Float32Array, out: () => Float32Array): Float32Array => {
      let atCamera: Float32Array;
      if (depthSpec.kind === "relative_disparity" && !(depthW === width && depthH === height)) {
        // Upsampled in the model's output space, then converted, as upstream's infer_image
        // upsamples the disparity: interpolating 1/d instead differs wherever d varies.
        // Pixels already invalid at model resolution (NaN metres) stay NaN through the resize.
        const disparity = (buffers.modelDisparity = fit(buffers.modelDisparity, atModel.length, Float32Array));
        for (let i = 0; i < atModel.length; i++) disparity[i] = Number.isNaN(atModel[i]!) ? Number.NaN : rawDepth.data[i]!; // Number.NaN: see toMetricDepth
        atCamera = resizeToCamera(disparity, out);
        toMetricDepth(atCamera, depthSpec.kind, { scale, shift, metricScale, ...(depthSpec.maxDepth !== undefined ? { maxDepth: depthSpec.maxDepth } : {}) }, atCamera);
      } else {
        // metric and relative_depth: the output is already depth (affine in it), so upsampling
        // the metres is upsampling the output.
        atCamera = resizeToCamera(atModel, out);
      }
      applyDepthRange(atCamera, params.rangeMin, rangeMax);
      for (let i = 0; i < uncovered.length; i++) atCamera[uncovered[i]!] = NaN;
      return atCamera;
    };
    // The cloud leaves out points smeared across depth edges. They are found where the model made
    // them, at its output resolution (the upsampled smear is several camera pixels wide and looks
    // like a slope); upsampling spreads the NaN over every camera pixel that mixes a smeared value.
    const cloudModelDepth =
      params.flyingPixelThreshold > 0
        ? removeFlyingPixels(modelDepth, depthW, depthH, params.flyingPixelThreshold,
            (buffers.cloudModelDepth = fit(buffers.cloudModelDepth, modelDepth.length, Float32Array)))
        : undefined;
    const depth = toCamera(modelDepth, () => (buffers.depth = fit(buffers.depth, width * height, Float32Array)));
    const cloudDepth = cloudModelDepth
      ? toCamera(cloudModelDepth, () => (buffers.cloudDepth = fit(buffers.cloudDepth, width * height, Float32Array)))
      : depth;

    let confidence: Float32Array | undefined;
    if (select.confidence) {
      const modelConfidence = (): Float32Array => (buffers.modelConfidence = fit(buffers.modelConfidence, modelDepth.length, Float32Array));
      const cameraConfidence = (): Float32Array => (buffers.confidence = fit(buffers.confidence, width * height, Float32Array));
      const confSpec = this.bundle.outputs.confidence;
      if (confSpec) {
        const raw = result.outputs[confSpec.name];
        if (!raw) throw new FrameError("inference_failed", `model returned no "${confSpec.name}" output`, frame.cameraTopic, frame.stamp);
        const [confH, confW] = spatialDims(raw.dims, depthOutputShape(), confSpec.name, frame);
        if (confH !== depthH || confW !== depthW) {
          throw new FrameError("inference_failed", `output "${confSpec.name}" is ${confW}x${confH}, depth "${depthSpec.name}" is ${depthW}x${depthH}: the confidence map must match the depth`, frame.cameraTopic, frame.stamp);
        }
        // The model's values resized exactly as its depth is, then mapped onto 0..1. A copy at
        // camera size (or model size when that is the camera's): raw belongs to the worker reply.
        const atModel = modelConfidence();
        atModel.set(raw.data);
        const atCamera = resizeToCamera(atModel, cameraConfidence);
        confidence = confidenceFromModel(atCamera, confSpec.activation, atCamera);
      } else {
        // Scale recovery active: the fit's agreement with this frame's anchors scales every pixel.
        const trust = scaleReport ? (scaleReport.estimated ? fitTrust(scaleReport.residual, params.scale.inlierTolerance) : 0) : 1;
        const scratch = (buffers.confidenceScratch = fit(buffers.confidenceScratch, 2 * modelDepth.length, Float32Array));
        confidence = resizeToCamera(derivedConfidence(modelDepth, depthW, depthH, { fitTrust: trust }, modelConfidence(), scratch), cameraConfidence);
      }
      // No depth, no trust: range limits and uncovered pixels included.
      for (let i = 0; i < confidence.length; i++) if (!(depth[i]! > 0)) confidence[i] = 0;
    }

    return this.#finish(frame, select, timings, buffers, params, t0, {
      depth, cloudDepth, labels, depthSpec, depthHead, depthValidFraction, skyPixels,
      depthIsMetric: isMetric || (scaleReport !== undefined && scaleReport.estimated && !scaleReport.held),
      depthScale: scale, depthShift: shift, scale: scaleReport, confidence,
    });
  }

  /**
   * fused_io: the worker's graph did resize, normalise, argmax and the depth resize and range
   * (fusedIo.ts); here only the uncovered pixels, the valid share and flying-pixel removal, on
   * the model's own depth output as in #process, and the shared tail.
   */
  async #processFused(frame: Frame, select: OutputSelection, timings: StageTimings, buffers: FrameBuffers): Promise<FrameOutputs> {
    const params = this.params();
    const { width, height } = frame.image;
    const rangeMax = params.rangeMax > 0 ? params.rangeMax : Infinity;
    timings.preprocess = 0;
    let t0 = performance.now();
    let result;
    try {
      result = await this.worker.runFused(frame.image, [params.rangeMin, rangeMax], (buffers.slot = this.worker.slots.acquire()));
    } catch (error) {
      if (error instanceof FrameError) throw error.at(frame.cameraTopic, frame.stamp);
      throw error;
    }
    timings.inference = performance.now() - t0;

    t0 = performance.now();
    const uncovered = frame.uncovered ?? NO_PIXELS;
    const depthSpec = this.bundle.outputs.depth;
    const { depth } = result;
    if (depth.length !== width * height) {
      throw new FrameError("inference_failed", `the fused graph gave ${depth.length} depth values for a ${width}x${height} image`, frame.cameraTopic, frame.stamp);
    }
    for (let i = 0; i < uncovered.length; i++) depth[uncovered[i]!] = NaN;
    const labels = result.labels;
    if (labels) for (let i = 0; i < uncovered.length; i++) labels[uncovered[i]!] = this.#unlabelled;
    const raw = result.modelDepth;
    const [depthH, depthW] = spatialDims(raw.dims, depthOutputShape(), depthSpec.name, frame);
    const depthValidFraction = validDepthFraction(raw.data, depthSpec.kind, { scale: 1, shift: 0 });
    const resizeToCamera = (atModel: Float32Array, out: () => Float32Array): Float32Array =>
      resizeLikeDepth(atModel, depthW, depthH, width, height, depthSpec.upsample, out);
    let modelMetres: Float32Array | undefined;
    const metresAtModel = (): Float32Array =>
      (modelMetres ??= toMetricDepth(raw.data, depthSpec.kind, { scale: 1, shift: 0, ...(depthSpec.maxDepth !== undefined ? { maxDepth: depthSpec.maxDepth } : {}) },
        (buffers.modelDepth = fit(buffers.modelDepth, raw.data.length, Float32Array))));
    let cloudDepth = depth;
    if (params.flyingPixelThreshold > 0) {
      // As #process: found at the model's resolution, upsampled the way the graph upsampled depth.
      const modelDepth = metresAtModel();
      const cleaned = removeFlyingPixels(modelDepth, depthW, depthH, params.flyingPixelThreshold,
        (buffers.cloudModelDepth = fit(buffers.cloudModelDepth, modelDepth.length, Float32Array)));
      cloudDepth = resizeToCamera(cleaned, () => (buffers.cloudDepth = fit(buffers.cloudDepth, width * height, Float32Array)));
      applyDepthRange(cloudDepth, params.rangeMin, rangeMax);
      for (let i = 0; i < uncovered.length; i++) cloudDepth[uncovered[i]!] = NaN;
    }
    let confidence: Float32Array | undefined;
    if (select.confidence) {
      // fused_io refuses what a model confidence comes with (relative kinds, routing), not derived
      // confidence: depth edges on the model's own depth, resized as the graph resized depth.
      const modelDepth = metresAtModel();
      const scratch = (buffers.confidenceScratch = fit(buffers.confidenceScratch, 2 * modelDepth.length, Float32Array));
      const atModel = derivedConfidence(modelDepth, depthW, depthH, {}, (buffers.modelConfidence = fit(buffers.modelConfidence, modelDepth.length, Float32Array)), scratch);
      confidence = resizeToCamera(atModel, () => (buffers.confidence = fit(buffers.confidence, width * height, Float32Array)));
      for (let i = 0; i < confidence.length; i++) if (!(depth[i]! > 0)) confidence[i] = 0;
    }
    return this.#finish(frame, select, timings, buffers, params, t0, {
      depth, cloudDepth, labels, depthSpec, depthHead: "", depthValidFraction, skyPixels: 0,
      depthIsMetric: true, depthScale: 1, depthShift: 0, scale: undefined, confidence,
    });
  }

  /** Colourised views and the point cloud from camera-resolution depth and labels; the result. */
  #finish(
    frame: Frame,
    select: OutputSelection,
    timings: StageTimings,
    buffers: FrameBuffers,
    params: DepthsegParams,
    postprocessStart: number,
    d: {
      depth: Float32Array;
      cloudDepth: Float32Array;
      labels: Uint16Array | undefined;
      depthSpec: DepthOutputSpec;
      depthHead: string;
      depthValidFraction: number;
      skyPixels: number;
      depthIsMetric: boolean;
      depthScale: number;
      depthShift: number;
      scale: ScaleReport | undefined;
      confidence: Float32Array | undefined;
    },
  ): FrameOutputs {
    const { width, height } = frame.image;
    const { depth, cloudDepth, labels, depthSpec } = d;
    let t0 = postprocessStart;
    let depthColorized: Uint8Array | undefined;
    if (select.depthColorized) {
      depthColorized = colorizeDepth(
        depth,
        width,
        height,
        { min: params.colorizeMin, max: colorizeMax(params, depthSpec.maxDepth), map: params.colormap },
        (buffers.depthColorized = fit(buffers.depthColorized, width * height * 3, Uint8Array)),
      );
    }
    const labelsColorized =
      labels && select.labelsColorized
        ? colorizeLabels(labels, this.#palette, [0, 0, 0],
            (buffers.labelsColorized = fit(buffers.labelsColorized, labels.length * 3, Uint8Array)))
        : undefined;
    timings.postprocess = performance.now() - t0;

    t0 = performance.now();
    const decimation = params.decimation;
    // One pass: x y z rgb label of each grid point straight into the cloud's bytes.
    const cloud = backProjectCloud(
      cloudDepth,
      frame.intrinsics,
      { decimation, minRange: 0, maxRange: Infinity },
      { rgb: frame.image.data, labels, unlabelled: this.#unlabelled },
      (buffers.cloud ??= new CloudBuffer()),
    );
    timings.backproject = performance.now() - t0;

    return {
      frame,
      depth,
      labels,
      unlabelled: this.#unlabelled,
      cloud,
      depthColorized,
      labelsColorized,
      confidence: d.confidence,
      depthKind: depthSpec.kind,
      // A relative model's metres are backed only by this frame's own anchors (not a held estimate).
      depthIsMetric: d.depthIsMetric,
      depthHead: d.depthHead,
      depthScale: d.depthScale,
      depthShift: d.depthShift,
      depthValidFraction: d.depthValidFraction,
      scale: d.scale,
      skyPixels: d.skyPixels,
      timings,
    };
  }

  /** Per camera: the temporal filter of the scale fits (`scale.smoothing`, `scale.min_inliers`). */
  readonly #scaleFilters = new Map<string, { filter: ScaleFilter; current: { scale: number; shift: number } | undefined }>();

  /**
   * Fits this frame's scale and shift on its anchors (scale.source), in inverse depth for a
   * relative_disparity output (1/z = s·raw + t) and in depth for relative_depth (z = s·raw + t:
   * the same fit with 1/z as the target), and passes the fit through the camera's filter.
   */
  #recoverScale(
    frame: Frame,
    params: DepthsegParams,
    kind: DepthKind,
    raw: Float32Array,
    outW: number,
    outH: number,
    labels: Uint16Array | undefined,
  ): ScaleReport {
    const settings = params.scale;
    const anchors = this.#anchors(frame, params, outW, outH, labels);
    const count = anchors?.pixels.length ?? 0;
    const outputs = new Float32Array(count);
    const targets = new Float32Array(count);
    for (let k = 0; k < count; k++) {
      outputs[k] = raw[anchors!.pixels[k]!]!;
      const z = anchors!.depth[k]!;
      targets[k] = kind === "relative_depth" ? 1 / z : z;
    }
    const fit = count >= 2 ? fitInverseDepth(outputs, targets, { tolerance: settings.inlierTolerance }) : undefined;
    let state = this.#scaleFilters.get(frame.cameraTopic);
    if (!state) {
      // Getters: scale.smoothing and scale.min_inliers may change while running.
      const current = this.params;
      const filter = new ScaleFilter({
        get smoothing() {
          return current().scale.smoothingSec;
        },
        get minInliers() {
          return current().scale.minInliers;
        },
      });
      state = { filter, current: undefined };
      this.#scaleFilters.set(frame.cameraTopic, state);
    }
    const estimate = state.filter.update(frame.stamp.sec + frame.stamp.nanosec / 1e9, fit, (s, t) => relativeDepthError(outputs, targets, s, t));
    state.current = estimate ? { scale: estimate.scale, shift: estimate.shift } : undefined;
    return {
      source: settings.source,
      anchors: count,
      inliers: estimate?.inliers ?? fit?.inliers ?? 0,
      residual: estimate?.residual ?? fit?.residual ?? NaN,
      ageSec: estimate?.age ?? NaN,
      estimated: estimate !== undefined,
      held: estimate?.held ?? false,
      reset: estimate?.reset ?? false,
    };
  }

  /** This frame's anchors at the depth output's resolution; undefined when none came with it. */
  #anchors(frame: Frame, params: DepthsegParams, outW: number, outH: number, labels: Uint16Array | undefined): DepthAnchors | undefined {
    const settings = params.scale;
    switch (settings.source) {
      case "fixed":
        return undefined;
      case "depth_image":
      case "points": {
        const measured = frame.anchors;
        if (!measured) return undefined;
        return measured.kind === "depth_image"
          ? anchorsFromDepthImage(measured.depth, measured.width, measured.height, outW, outH)
          : anchorsFromPoints(measured.points, frame.intrinsics, outW, outH);
      }
      case "ground_plane": {
        // The robot's TF (scale.ground_frame), placed by the pipeline, else the angle parameters.
        const plane = frame.groundPlane ?? groundPlaneFromAngles(settings.cameraHeight, settings.cameraPitch, settings.cameraRoll);
        // No floor to intersect with (no TF yet and no camera_height, or a camera below it): no anchors.
        if (!(plane.height > 0)) return undefined;
        const floorIds = this.#idsOfClasses(settings.groundClasses);
        if (labels && floorIds.size > 0) {
          const classes = {
            labels: labelsAtOutput(labels, frame.image.width, frame.image.height, outW, outH),
            floorIds,
            uprightIds: this.#idsOfClasses(settings.uprightClasses),
          };
          return anchorsFromFloorAndUprights(plane, frame.intrinsics, outW, outH, classes);
        }
        // No segmentation head, or scale.ground_classes empty: the lowest band of the image is floor.
        const firstRow = Math.floor((1 - settings.groundBand) * outH);
        return anchorsFromGroundPlane(plane, frame.intrinsics, outW, outH, (k) => k >= firstRow * outW);
      }
    }
  }

  /** Label ids of the model's classes with these names (scale.ground_classes, scale.upright_classes). */
  #idsOfClasses(names: readonly string[]): Set<number> {
    const classes = this.bundle.outputs.segmentation?.labels.classes ?? [];
    return new Set(classes.filter((c) => names.includes(c.name)).map((c) => c.id));
  }

  /**
   * The depth output this frame uses: the only one, the head `depth.head` pins, or the head the
   * model's domain output picks for this frame (ZoeDepth: per image, no memory of earlier frames).
   */
  /** Per camera: routing hysteresis (`depth.head_switch_frames`). */
  readonly #headSwitchers = new Map<string, HeadSwitcher>();

  #depthHead(outputs: Record<string, OutputTensor>, params: DepthsegParams, frame: Frame): { head: string; spec: DepthOutputSpec } {
    const { domain } = this.bundle.outputs;
    if (!domain) return { head: "", spec: this.bundle.outputs.depth };
    let head = params.depthHead;
    if (head === "auto") {
      const logits = outputs[domain.name];
      if (!logits) {
        throw new FrameError("inference_failed", `model returned no "${domain.name}" output`, frame.cameraTopic, frame.stamp);
      }
      const classes = domain.classes.length;
      const shape = checkShape(logits.dims, domainOutputShape(classes));
      if (shape.fits !== true) {
        const problem = shape.fits === false ? shape.problem : "has no shape";
        throw new FrameError("inference_failed", `output "${domain.name}" ${problem}`, frame.cameraTopic, frame.stamp);
      }
      let vote: string;
      try {
        vote = domain.classes[pickDomain(logits.data, classes)]!;
      } catch (error) {
        throw new FrameError("inference_failed", `output "${domain.name}": ${(error as Error).message}`, frame.cameraTopic, frame.stamp);
      }
      let switcher = this.#headSwitchers.get(frame.cameraTopic);
      if (!switcher) this.#headSwitchers.set(frame.cameraTopic, (switcher = new HeadSwitcher(params.headSwitchFrames)));
      head = switcher.update(vote, params.headSwitchFrames);
    }
    const spec = this.bundle.heads[head];
    // checkParamsForModel refuses any other depth.head before it reaches a frame.
    if (!spec) throw new ParameterError(`depth.head "${head}" is not a head of ${this.bundle.name}`);
    return { head, spec };
  }
}

const NO_PIXELS = new Int32Array(0);

/** Colour-map range: explicit parameter, else the depth range limit, else the model's max depth. */
export function colorizeMax(params: DepthsegParams, modelMaxDepth: number | undefined): number {
  if (params.colorizeMax > 0) return params.colorizeMax;
  if (params.rangeMax > 0) return params.rangeMax;
  return modelMaxDepth ?? 10;
}

/**
 * Parameter checks that need the model (resolveParameters cannot see it): `depth.head` must name
 * one of its heads, and an empty colour-map range would fail every frame, so both are refused
 * once, naming the problem. With auto routing the range must suit every head's max_depth.
 */
export function checkParamsForModel(params: DepthsegParams, bundle: Pick<ModelBundle, "outputs" | "heads">): void {
  const heads = Object.keys(bundle.heads);
  if (params.depthHead !== "auto" && !heads.includes(params.depthHead)) {
    throw new ParameterError(
      heads.length === 0
        ? `depth.head must be auto: the model has one depth output, no heads (got "${params.depthHead}")`
        : `depth.head must be auto or one of the model's heads (${heads.join(", ")}), got "${params.depthHead}"`,
    );
  }
  checkScaleSourceForModel(params, bundle);
  const candidates =
    heads.length === 0 ? [bundle.outputs.depth] : params.depthHead === "auto" ? Object.values(bundle.heads) : [bundle.heads[params.depthHead]!];
  for (const spec of candidates) {
    const max = colorizeMax(params, spec.maxDepth);
    if (params.colorizeMin < max) continue;
    const source =
      params.colorizeMax > 0 ? "colorize.depth_max" : params.rangeMax > 0 ? "range.max" : spec.maxDepth !== undefined ? "the model's max_depth" : "the default";
    throw new ParameterError(`colorize.depth_min (${params.colorizeMin}) must be below the colour-map maximum (${max}, ${source})`);
  }
}

/**
 * scale.source other than fixed recovers a relative model's scale: a metric model (or a routed
 * one, whose heads are metric) is refused rather than silently rescaled; ground_plane with a
 * segmentation head needs ground_classes to name at least one of its classes, or to be empty
 * (the lowest band of the image), so a misspelt class is not silently taken for the band.
 */
function checkScaleSourceForModel(params: DepthsegParams, bundle: Pick<ModelBundle, "outputs" | "heads">): void {
  const { source, groundClasses } = params.scale;
  if (source === "fixed") return;
  const kind = bundle.outputs.depth.kind;
  if (kind === "metric" || Object.keys(bundle.heads).length > 0) {
    throw new ParameterError(`scale.source ${source} recovers the scale of relative models; this model's depth is already metric (set scale.source fixed)`);
  }
  const labels = bundle.outputs.segmentation?.labels;
  if (source === "ground_plane" && labels && groundClasses.length > 0 && !labels.classes.some((c) => groundClasses.includes(c.name))) {
    throw new ParameterError(
      `scale.ground_classes (${groundClasses.join(", ")}) names none of the model's classes (${labels.classes.map((c) => c.name).join(", ")}); ` +
        "name its floor classes, or set it to [] to take the lowest scale.ground_band of the image as floor",
    );
  }
}

/** [H, W] of an output, after checking it has one of `shapes` (those checked at load) on this run too. */
function spatialDims(dims: readonly number[], shapes: readonly ShapePattern[], name: string, frame: Frame): [number, number] {
  const shape = checkShape(dims, shapes);
  if (shape.fits !== true) {
    const problem = shape.fits === false ? shape.problem : "has no shape";
    throw new FrameError("inference_failed", `output "${name}" ${problem}`, frame.cameraTopic, frame.stamp);
  }
  return [dims.at(-2)!, dims.at(-1)!];
}
