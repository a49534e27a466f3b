// The two ways to get camera-resolution depth and labels from one frame, for the fused_io test
// and bench: the JS path (the same calls, in the same order, as frameProcessor.ts's preprocess and
// postprocess) around the bundle's own graph, and the fused graph (src/inference/fusedIo.ts).

import { InferenceSession, Tensor } from "onnxruntime-node";
import { readFile } from "node:fs/promises";
import type { RgbImage } from "../../src/frame.js";
import { toMetricDepth } from "../../src/heads/depth.js";
import { argmaxLabels } from "../../src/heads/segmentation.js";
import { applyDepthRange } from "../../src/geometry/depthRange.js";
import { resizeFloat, resizeFloatAlignCorners, resizeLabels } from "../../src/imaging/resize.js";
import type { ModelBundle } from "../../src/inference/bundle.js";
import { FUSED_DEPTH_OUTPUT, FUSED_IMAGE_INPUT, FUSED_LABELS_OUTPUT, FUSED_RANGE_INPUT, wrapFusedIo } from "../../src/inference/fusedIo.js";
import { toInputTensor } from "../../src/inference/preprocess.js";
import { decodeModel, encodeModel } from "../../src/onnx/graph.js";
import { unlabelledValue } from "../../src/pipeline/labelPalette.js";

export interface CameraOutputs {
  readonly depth: Float32Array;
  readonly labels: Uint16Array | undefined;
}

export interface TimedOutputs extends CameraOutputs {
  /** ms outside session.run (JS path: preprocess + postprocess; fused: tensor wrapping + reading). */
  readonly aroundRunMs: number;
  /** ms of session.run. */
  readonly runMs: number;
}

export interface Range {
  readonly min: number;
  readonly max: number;
}

export async function sessions(bundle: ModelBundle, options: InferenceSession.SessionOptions = {}): Promise<{ plain: InferenceSession; fused: InferenceSession }> {
  const bytes = await readFile(bundle.onnxPath);
  const model = decodeModel(bytes);
  wrapFusedIo(model, bundle);
  return {
    plain: await InferenceSession.create(bytes, options),
    fused: await InferenceSession.create(encodeModel(model), options),
  };
}

/** frameProcessor's steps for a metric bundle without sky or routing. */
export async function jsPath(bundle: ModelBundle, session: InferenceSession, image: RgbImage, range: Range): Promise<TimedOutputs> {
  const { width, height } = image;
  const t0 = performance.now();
  const input = toInputTensor(image, bundle.input);
  const t1 = performance.now();
  const result = await session.run({ [bundle.input.name]: new Tensor("float32", input.data, input.dims) });
  const t2 = performance.now();
  let labels: Uint16Array | undefined;
  const seg = bundle.outputs.segmentation;
  if (seg) {
    const logits = result[seg.name]!;
    const [segH, segW] = logits.dims.slice(-2) as [number, number];
    const model = argmaxLabels(logits.data as Float32Array, seg.labels.classes.length, segW, segH, {
      unlabelled: unlabelledValue(seg.labels),
      classIds: Uint16Array.from(seg.labels.classes, (c) => c.id),
    });
    labels = segW === width && segH === height ? model : resizeLabels(model, segW, segH, width, height);
  }
  const spec = bundle.outputs.depth;
  const raw = result[spec.name]!;
  const [depthH, depthW] = raw.dims.slice(-2) as [number, number];
  const metric = toMetricDepth(raw.data as Float32Array, spec.kind, { scale: 1, shift: 0, ...(spec.maxDepth !== undefined ? { maxDepth: spec.maxDepth } : {}) });
  const depth =
    depthW === width && depthH === height
      ? metric
      : spec.upsample === "align_corners"
        ? resizeFloatAlignCorners(metric, depthW, depthH, width, height)
        : resizeFloat(metric, depthW, depthH, width, height, "linear");
  applyDepthRange(depth, range.min, range.max);
  const t3 = performance.now();
  return { depth, labels, aroundRunMs: t1 - t0 + (t3 - t2), runMs: t2 - t1 };
}

export async function fusedPath(session: InferenceSession, image: RgbImage, range: Range): Promise<TimedOutputs> {
  const t0 = performance.now();
  const feeds = {
    [FUSED_IMAGE_INPUT]: new Tensor("uint8", image.data, [image.height, image.width, 3]),
    [FUSED_RANGE_INPUT]: new Tensor("float32", Float32Array.of(range.min, range.max), [2]),
  };
  const t1 = performance.now();
  const result = await session.run(feeds);
  const t2 = performance.now();
  const depth = result[FUSED_DEPTH_OUTPUT]!.data as Float32Array;
  const labels = result[FUSED_LABELS_OUTPUT]?.data as Uint16Array | undefined;
  const t3 = performance.now();
  return { depth, labels, aroundRunMs: t1 - t0 + (t3 - t2), runMs: t2 - t1 };
}

export interface Agreement {
  /** Largest |a − b| over pixels finite in both. */
  readonly depthMaxAbs: number;
  /** Pixels NaN in exactly one of the two. */
  readonly nanMismatch: number;
  /** Share of pixels with the same label (1 without labels). */
  readonly labelAgreement: number;
}

export function compare(a: CameraOutputs, b: CameraOutputs): Agreement {
  let depthMaxAbs = 0;
  let nanMismatch = 0;
  for (let i = 0; i < a.depth.length; i++) {
    const x = a.depth[i]!;
    const y = b.depth[i]!;
    if (Number.isNaN(x) !== Number.isNaN(y)) nanMismatch++;
    else if (!Number.isNaN(x)) depthMaxAbs = Math.max(depthMaxAbs, Math.abs(x - y));
  }
  let same = 0;
  if (a.labels && b.labels) for (let i = 0; i < a.labels.length; i++) if (a.labels[i] === b.labels[i]) same++;
  return { depthMaxAbs, nanMismatch, labelAgreement: a.labels ? same / a.labels.length : 1 };
}
