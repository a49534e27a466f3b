// Generated ONNX models: an analytic one whose outputs are exact functions of the input
// (for end-to-end tests with known answers) and a tiny random conv net (the bundled default
// model, exercising dynamic H,W and half-resolution outputs like real encoders).

import { attr, encodeModel, type GraphSpec, type InitializerSpec, type NodeSpec } from "./model.js";
import { mulberry32, uniformWeights } from "../../src/synthetic/prng.js";

/** depth = ANALYTIC_DEPTH_OFFSET + ANALYTIC_DEPTH_SCALE * image[:, 0]. */
export const ANALYTIC_DEPTH_OFFSET = 0.5;
export const ANALYTIC_DEPTH_SCALE = 10;
/** Relative variant: disparity = ANALYTIC_DISPARITY_SCALE * image[:, 0] + ANALYTIC_DISPARITY_OFFSET. */
export const ANALYTIC_DISPARITY_SCALE = 2;
export const ANALYTIC_DISPARITY_OFFSET = 0.5;

export interface AnalyticModelOptions {
  /** Output `disparity` (relative) instead of `depth` (metric). */
  readonly relative?: boolean;
  /** Also output `sky` [1,1,H,W] = image[:, 1] (the green channel), a sky map like Depth Anything 3's. */
  readonly sky?: boolean;
}

/** What the analytic model outputs for one red-channel value, bit-exact (float32 Mul then Add). */
export function analyticDepth(red: number): number {
  return Math.fround(Math.fround(ANALYTIC_DEPTH_SCALE * red) + ANALYTIC_DEPTH_OFFSET);
}

export function analyticDisparity(red: number): number {
  return Math.fround(Math.fround(ANALYTIC_DISPARITY_SCALE * red) + ANALYTIC_DISPARITY_OFFSET);
}

/**
 * Input `image` [1,3,H,W]; outputs `depth` (or `disparity` when relative) [1,1,H,W] from the
 * red channel and `logits` [1,3,H,W] = image, so the label is argmax(R, G, B); with `sky`, also
 * `sky` [1,1,H,W] = the green channel.
 */
export function buildAnalyticModel(options: AnalyticModelOptions = {}): Uint8Array {
  const relative = options.relative ?? false;
  const depthName = relative ? "disparity" : "depth";
  const scale = relative ? ANALYTIC_DISPARITY_SCALE : ANALYTIC_DEPTH_SCALE;
  const offset = relative ? ANALYTIC_DISPARITY_OFFSET : ANALYTIC_DEPTH_OFFSET;
  // Split + Mul + Add rather than a 1x1 Conv: a Conv may fuse bias and FMA, so its last bit
  // would not be predictable; two separate float32 ops are.
  const graph: GraphSpec = {
    name: relative ? "analytic_relative" : "analytic_metric",
    inputs: [{ name: "image", dims: [1, 3, "H", "W"] }],
    outputs: [
      { name: depthName, dims: [1, 1, "H", "W"] },
      { name: "logits", dims: [1, 3, "H", "W"] },
      ...(options.sky ? [{ name: "sky", dims: [1, 1, "H", "W"] as const }] : []),
    ],
    initializers: [
      { name: "scale", dims: [1], data: [scale] },
      { name: "offset", dims: [1], data: [offset] },
    ],
    nodes: [
      { opType: "Split", name: "split_rgb", inputs: ["image"], outputs: ["red", "green", "blue"], attributes: { axis: attr.int(1) } },
      { opType: "Mul", name: "scale_red", inputs: ["red", "scale"], outputs: ["red_scaled"] },
      { opType: "Add", name: "offset_red", inputs: ["red_scaled", "offset"], outputs: [depthName] },
      { opType: "Identity", name: "logits_identity", inputs: ["image"], outputs: ["logits"] },
      ...(options.sky ? [{ opType: "Identity", name: "sky_identity", inputs: ["green"], outputs: ["sky"] }] : []),
    ],
  };
  return encodeModel(graph);
}

/** Routed variant, outdoor head: depth = ROUTED_OUTDOOR_SCALE * image[:, 0] + ROUTED_OUTDOOR_OFFSET. */
export const ROUTED_OUTDOOR_SCALE = 40;
export const ROUTED_OUTDOOR_OFFSET = 2;

export function routedOutdoorDepth(red: number): number {
  return Math.fround(Math.fround(ROUTED_OUTDOOR_SCALE * red) + ROUTED_OUTDOOR_OFFSET);
}

/**
 * ZoeDepth-shaped analytic model: input `image` [1,3,H,W]; two metric heads from the red channel,
 * `depth_indoor` = analyticDepth(R) and `depth_outdoor` = routedOutdoorDepth(R), both [1,1,H,W];
 * a router `domain_logits` [1,2,1,1] = spatial means of (G, B), so a greener image is "indoor"
 * and a bluer one "outdoor"; and `logits` = image as in buildAnalyticModel.
 */
export function buildRoutedAnalyticModel(): Uint8Array {
  return encodeModel({
    name: "analytic_routed",
    inputs: [{ name: "image", dims: [1, 3, "H", "W"] }],
    outputs: [
      { name: "depth_indoor", dims: [1, 1, "H", "W"] },
      { name: "depth_outdoor", dims: [1, 1, "H", "W"] },
      { name: "domain_logits", dims: [1, 2, 1, 1] },
      { name: "logits", dims: [1, 3, "H", "W"] },
    ],
    initializers: [
      { name: "indoor_scale", dims: [1], data: [ANALYTIC_DEPTH_SCALE] },
      { name: "indoor_offset", dims: [1], data: [ANALYTIC_DEPTH_OFFSET] },
      { name: "outdoor_scale", dims: [1], data: [ROUTED_OUTDOOR_SCALE] },
      { name: "outdoor_offset", dims: [1], data: [ROUTED_OUTDOOR_OFFSET] },
    ],
    nodes: [
      { opType: "Split", name: "split_rgb", inputs: ["image"], outputs: ["red", "green", "blue"], attributes: { axis: attr.int(1) } },
      { opType: "Mul", name: "indoor_mul", inputs: ["red", "indoor_scale"], outputs: ["indoor_scaled"] },
      { opType: "Add", name: "indoor_add", inputs: ["indoor_scaled", "indoor_offset"], outputs: ["depth_indoor"] },
      { opType: "Mul", name: "outdoor_mul", inputs: ["red", "outdoor_scale"], outputs: ["outdoor_scaled"] },
      { opType: "Add", name: "outdoor_add", inputs: ["outdoor_scaled", "outdoor_offset"], outputs: ["depth_outdoor"] },
      { opType: "Concat", name: "green_blue", inputs: ["green", "blue"], outputs: ["green_blue"], attributes: { axis: attr.int(1) } },
      { opType: "GlobalAveragePool", name: "domain_pool", inputs: ["green_blue"], outputs: ["domain_logits"] },
      { opType: "Identity", name: "logits_identity", inputs: ["image"], outputs: ["logits"] },
    ],
  });
}

export interface TinyModelOptions {
  readonly seed: number;
  /** Number of segmentation classes (channels of `logits`). */
  readonly classes: number;
}

/** Channels of the shared encoder. */
const FEATURES = 8;
/** Depth = softplus(head) * DEPTH_GAIN + MIN_DEPTH keeps metres positive and mostly in 0.5–10. */
const MIN_DEPTH = 0.5;
const DEPTH_GAIN = 1.5;

/**
 * Random-weight conv net with dynamic H,W: a stride-2 encoder shared by a depth head
 * (`depth` [1,1,H/2,W/2], metres) and a segmentation head (`logits` [1,C,H/2,W/2]).
 */
export function buildTinyModel(options: TinyModelOptions): Uint8Array {
  const { seed, classes } = options;
  if (!Number.isInteger(classes) || classes < 1) {
    throw new RangeError(`classes must be a positive integer, got ${classes}`);
  }
  const next = mulberry32(seed);
  const initializers: InitializerSpec[] = [];
  const conv = (name: string, input: string, output: string, cin: number, cout: number, k: number, stride: number): NodeSpec => {
    // He-uniform bound keeps activations in a sane range through the ReLUs.
    const bound = Math.sqrt(6 / (cin * k * k));
    initializers.push({ name: `${name}.weight`, dims: [cout, cin, k, k], data: uniformWeights(next, cout * cin * k * k, bound) });
    initializers.push({ name: `${name}.bias`, dims: [cout], data: uniformWeights(next, cout, 0.1) });
    const pad = (k - 1) / 2;
    return {
      opType: "Conv",
      name,
      inputs: [input, `${name}.weight`, `${name}.bias`],
      outputs: [output],
      attributes: {
        kernel_shape: attr.ints([k, k]),
        strides: attr.ints([stride, stride]),
        pads: attr.ints([pad, pad, pad, pad]),
      },
    };
  };

  const nodes: NodeSpec[] = [
    conv("enc1", "image", "enc1_out", 3, FEATURES, 3, 2),
    { opType: "Relu", name: "enc1_relu", inputs: ["enc1_out"], outputs: ["enc1_act"] },
    conv("enc2", "enc1_act", "enc2_out", FEATURES, FEATURES, 3, 1),
    { opType: "Relu", name: "enc2_relu", inputs: ["enc2_out"], outputs: ["features"] },
    conv("depth_head", "features", "depth_raw", FEATURES, 1, 1, 1),
    { opType: "Softplus", name: "depth_softplus", inputs: ["depth_raw"], outputs: ["depth_pos"] },
    { opType: "Mul", name: "depth_gain", inputs: ["depth_pos", "depth_gain"], outputs: ["depth_scaled"] },
    { opType: "Add", name: "depth_min", inputs: ["depth_scaled", "min_depth"], outputs: ["depth"] },
    conv("seg_head", "features", "logits", FEATURES, classes, 1, 1),
  ];
  initializers.push({ name: "depth_gain", dims: [1], data: [DEPTH_GAIN] });
  initializers.push({ name: "min_depth", dims: [1], data: [MIN_DEPTH] });

  return encodeModel({
    name: "tiny_depthseg",
    inputs: [{ name: "image", dims: [1, 3, "H", "W"] }],
    outputs: [
      { name: "depth", dims: [1, 1, "h", "w"] },
      { name: "logits", dims: [1, classes, "h", "w"] },
    ],
    initializers,
    nodes,
  });
}
